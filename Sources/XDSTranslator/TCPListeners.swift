import EnvoyAPI
import GatewayIR
import SwiftProtobuf
import XDSCache

/// TCP and TLS listeners: one filter chain per TLSRoute or TCPRoute, each a `tcp_proxy` to the
/// route's cluster, chosen by SNI (read by the TLS inspector) when the route names hostnames.
/// Passed-through TLS reaches the upstream untouched; a terminating listener presents its
/// certificates (over SDS) on every chain. A listener no route reaches is left out: Envoy has
/// nothing to do with its connections. Names and stat prefixes are Envoy Gateway's.
enum TCPListeners: ListenerKind {
    static func listeners(_ config: GatewayConfig) throws -> [ListenerTranslator.Listener] {
        try config.tcpListeners.filter { !$0.routes.isEmpty }.map { try listener($0) }
    }

    static func listener(_ ir: TCPListener) throws -> ListenerTranslator.Listener {
        var listener = ListenerTranslator.Listener()
        ListenerTranslator.bind(&listener, name: ir.name, port: ir.port)
        let prefix =
            switch ir.mode {
            case .tcp: "tcp"
            case .tlsPassthrough: "tls-passthrough"
            case .tlsTerminate: "tls-terminate"
            }
        for route in ir.routes {
            var proxy = Envoy_Extensions_Filters_Network_TcpProxy_V3_TcpProxy()
            proxy.statPrefix = "\(prefix)-\(ir.port)"
            proxy.cluster = route.cluster
            if route.hashesSourceIP == true {
                var hash = Envoy_Type_V3_HashPolicy()
                hash.sourceIp = Envoy_Type_V3_HashPolicy.SourceIp()
                proxy.hashPolicy = [hash]
            }
            if let path = ir.accessLogPath { proxy.accessLog = [try AccessLog.log(path: path)] }
            var filter = Envoy_Config_Listener_V3_Filter()
            filter.name = "envoy.filters.network.tcp_proxy"
            filter.typedConfig = try .deterministic(proxy)
            var chain = Envoy_Config_Listener_V3_FilterChain()
            chain.name = route.name
            chain.filters = [filter]
            if let certificates = ir.certificates {
                // The listener's TLS on every chain; ALPN is not offered (no HTTP here).
                try GatewayTLS.terminate(
                    TLSTermination(certificates: certificates, serverNames: [], alpnProtocols: []),
                    chain: &chain)
            }
            let names = route.serverNames.filter { $0 != "*" }
            if !names.isEmpty {
                chain.filterChainMatch.serverNames = names
                try TLSInspector.add(to: &listener)
            }
            listener.filterChains.append(chain)
        }
        return listener
    }
}
