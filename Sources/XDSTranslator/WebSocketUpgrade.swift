import EnvoyAPI
import GatewayIR

/// HTTP/1 routes let WebSocket upgrades through (`upgrade_configs`), as Envoy Gateway writes
/// every HTTPRoute; gRPC routes have none.
enum WebSocketUpgrade: RouteActionFeature {
    static func apply(_ ir: Route, to action: inout EnvoyRouteAction) {
        guard ir.allowsWebSocket else { return }
        var upgrade = Envoy_Config_Route_V3_RouteAction.UpgradeConfig()
        upgrade.upgradeType = "websocket"
        action.upgradeConfigs = [upgrade]
    }
}
