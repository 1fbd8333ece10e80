import GatewayIR
import XDSCache

/// HTTP and HTTPS listeners: an Envoy listener per port (HTTPS listeners on one port are its
/// filter chains) and the route configuration each connection manager loads over RDS.
enum HTTPListeners: ListenerKind {
    static func resources(_ config: GatewayConfig) throws -> [Resource] {
        var ports: [Int: [HTTPListener]] = [:]
        var order: [Int] = []
        for listener in config.listeners {
            if ports[listener.port] == nil { order.append(listener.port) }
            ports[listener.port, default: []].append(listener)
        }
        var resources = try order.map { try Resource(try ListenerTranslator.listener(ports[$0]!)) }
        resources += try config.listeners.map { try Resource(try RouteTranslator.routeConfiguration($0)) }
        return resources
    }
}
