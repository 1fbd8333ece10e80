import GatewayIR
import XDSCache

/// HTTP listeners: for each, the listener with its connection manager and the route
/// configuration it loads over RDS.
enum HTTPListeners: ListenerKind {
    static func resources(_ config: GatewayConfig) throws -> [Resource] {
        try config.listeners.flatMap { listener in
            [
                try Resource(try ListenerTranslator.listener(listener)),
                try Resource(try RouteTranslator.routeConfiguration(listener)),
            ]
        }
    }
}
