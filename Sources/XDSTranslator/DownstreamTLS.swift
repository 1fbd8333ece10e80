import EnvoyAPI
import GatewayIR
import SwiftProtobuf

/// An HTTPS filter chain: TLS terminated with the listener's certificates, loaded over SDS on
/// the ADS stream (so a renewed certificate is one small Secret push), ALPN as the IR says,
/// session resumption off (Envoy Gateway's defaults), and the chain chosen by SNI when the
/// listener names a hostname; the TLS inspector reads SNI for that.
enum DownstreamTLS {
    typealias TLS = Envoy_Extensions_TransportSockets_Tls_V3_DownstreamTlsContext

    static func apply(
        _ tls: TLSTermination, to chain: inout Envoy_Config_Listener_V3_FilterChain,
        listener: inout ListenerTranslator.Listener
    ) throws {
        try GatewayTLS.terminate(tls, chain: &chain)
        let serverNames = tls.serverNames.filter { $0 != "*" }
        guard !serverNames.isEmpty else { return }
        chain.filterChainMatch.serverNames = serverNames
        try TLSInspector.add(to: &listener)
    }
}

/// The downstream TLS of a filter chain, shared by HTTPS and TLS-terminating TCP listeners.
enum GatewayTLS {
    static func terminate(_ tls: TLSTermination, chain: inout Envoy_Config_Listener_V3_FilterChain) throws {
        var context = DownstreamTLS.TLS()
        context.commonTlsContext.alpnProtocols = tls.alpnProtocols
        context.commonTlsContext.tlsCertificateSdsSecretConfigs = tls.certificates.map(TLSSecrets.sdsConfig)
        context.disableStatefulSessionResumption = true
        context.disableStatelessSessionResumption = true
        chain.transportSocket.name = "envoy.transport_sockets.tls"
        chain.transportSocket.typedConfig = try .deterministic(context)
    }
}

/// The listener filter that reads SNI (and ALPN) from the ClientHello, once per listener.
enum TLSInspector {
    static let name = "envoy.filters.listener.tls_inspector"

    static func add(to listener: inout ListenerTranslator.Listener) throws {
        guard !listener.listenerFilters.contains(where: { $0.name == name }) else { return }
        var filter = Envoy_Config_Listener_V3_ListenerFilter()
        filter.name = name
        filter.typedConfig = try .deterministic(Envoy_Extensions_Filters_Listener_TlsInspector_V3_TlsInspector())
        listener.listenerFilters.append(filter)
    }
}
