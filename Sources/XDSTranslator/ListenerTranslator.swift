import EnvoyAPI
import GatewayIR
import SwiftProtobuf
import XDSCache

/// HTTPListeners on one port → one Envoy Listener. A plain HTTP listener is the default filter
/// chain; each HTTPS listener is a filter chain of its own, chosen by SNI, that terminates TLS
/// (`DownstreamTLS`). Every chain holds one HTTP connection manager loading its routes over
/// ADS, with the settings Envoy Gateway writes for every HTTP listener (path normalisation,
/// underscore headers rejected, the client's address trusted, HTTP/2 limits).
public enum ListenerTranslator {
    public typealias Listener = Envoy_Config_Listener_V3_Listener

    /// The Envoy listener for `irs`, which share a port; named after the first.
    public static func listener(_ irs: [HTTPListener]) throws -> Listener {
        precondition(!irs.isEmpty, "a listener needs at least one connection manager")
        var listener = Listener()
        for ir in irs {
            var hcm = HCM()
            // Envoy Gateway's stat prefix, so stats queries carry over.
            hcm.statPrefix = "\(ir.tls == nil ? "http" : "https")-\(ir.port)"
            hcm.rds.configSource = .adsV3
            // Envoy serves the listener at once and fills in routes as they come, rather than waiting.
            hcm.rds.configSource.initialFetchTimeout = Google_Protobuf_Duration(seconds: 0)
            hcm.rds.routeConfigName = ir.name
            hcm.commonHTTPProtocolOptions.headersWithUnderscoresAction = .rejectRequest
            hcm.http2ProtocolOptions.initialConnectionWindowSize = Google_Protobuf_UInt32Value(1_048_576)
            hcm.http2ProtocolOptions.initialStreamWindowSize = Google_Protobuf_UInt32Value(65536)
            hcm.http2ProtocolOptions.maxConcurrentStreams = Google_Protobuf_UInt32Value(100)
            hcm.mergeSlashes = true
            hcm.normalizePath = Google_Protobuf_BoolValue(true)
            hcm.pathWithEscapedSlashesAction = .unescapeAndRedirect
            hcm.serverHeaderTransformation = .passThrough
            hcm.useRemoteAddress = Google_Protobuf_BoolValue(true)

            hcm.httpFilters = try httpFilters.flatMap { try $0.filters(for: ir) }
            for feature in features { try feature.apply(ir, to: &listener, hcm: &hcm) }

            var network = Envoy_Config_Listener_V3_Filter()
            network.name = "envoy.filters.network.http_connection_manager"
            network.typedConfig = try .deterministic(hcm)
            var chain = Envoy_Config_Listener_V3_FilterChain()
            chain.name = ir.name
            chain.filters = [network]
            if let tls = ir.tls {
                try DownstreamTLS.apply(tls, to: &chain, listener: &listener)
                listener.filterChains.append(chain)
            } else {
                listener.defaultFilterChain = chain
            }
        }

        bind(&listener, name: irs[0].name, port: irs[0].port)
        return listener
    }

    /// The name, address and connection limits every TCP listener gets (Envoy Gateway's).
    static func bind(_ listener: inout Listener, name: String, port: Int) {
        listener.name = name
        listener.address.socketAddress.address = "0.0.0.0"
        listener.address.socketAddress.portValue = UInt32(port)
        listener.perConnectionBufferLimitBytes = Google_Protobuf_UInt32Value(32768)
        listener.maxConnectionsToAcceptPerSocketEvent = Google_Protobuf_UInt32Value(1)
    }
}
