import EnvoyAPI
import GatewayIR
import SwiftProtobuf
import XDSCache

/// UDP listeners: Envoy's `udp_proxy` listener filter sends every datagram to the UDPRoute's
/// cluster (its matcher's no-match action, as Envoy Gateway writes it). A listener no route
/// reaches is left out.
enum UDPListeners: ListenerKind {
    static func listeners(_ config: GatewayConfig) throws -> [ListenerTranslator.Listener] {
        try config.udpListeners.compactMap { ir in
            guard let cluster = ir.cluster else { return nil }
            return try listener(ir, cluster: cluster)
        }
    }

    static func listener(_ ir: UDPListener, cluster: String) throws -> ListenerTranslator.Listener {
        var route = Envoy_Extensions_Filters_Udp_UdpProxy_V3_Route()
        route.cluster = cluster
        var action = Xds_Core_V3_TypedExtensionConfig()
        action.name = "route"
        action.typedConfig = try .deterministic(route)
        var proxy = Envoy_Extensions_Filters_Udp_UdpProxy_V3_UdpProxyConfig()
        proxy.statPrefix = "service"
        proxy.matcher.onNoMatch.action = action
        if let path = ir.accessLogPath { proxy.accessLog = [try AccessLog.log(path: path)] }

        var filter = Envoy_Config_Listener_V3_ListenerFilter()
        filter.name = "envoy.filters.udp_listener.udp_proxy"
        filter.typedConfig = try .deterministic(proxy)
        var listener = ListenerTranslator.Listener()
        listener.name = ir.name
        listener.address.socketAddress.protocol = .udp
        listener.address.socketAddress.address = "0.0.0.0"
        listener.address.socketAddress.portValue = UInt32(ir.port)
        listener.listenerFilters = [filter]
        return listener
    }
}
