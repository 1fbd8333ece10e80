import GatewayIR
import XDSCache

/// HTTP and HTTPS listeners: an Envoy listener per port (HTTPS listeners on one port are its
/// filter chains) and the route configuration each connection manager loads over RDS.
enum HTTPListeners: ListenerKind {
    static func listeners(_ config: GatewayConfig) throws -> [ListenerTranslator.Listener] {
        var ports: [Int: [HTTPListener]] = [:]
        var order: [Int] = []
        for listener in config.listeners {
            if ports[listener.port] == nil { order.append(listener.port) }
            ports[listener.port, default: []].append(listener)
        }
        return try order.map { try ListenerTranslator.listener(ports[$0]!) }
    }

    static func resources(_ config: GatewayConfig, memo: inout TranslationMemo) throws -> [Resource] {
        try config.listeners.map { try RouteTranslator.routeConfigurationResource($0, memo: &memo) }
    }
}
