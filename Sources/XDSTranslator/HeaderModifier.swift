import EnvoyAPI
import GatewayIR

/// HTTPRoute header modifier filters → a route's `request_headers_to_add/remove` and
/// `response_headers_to_add/remove`: `set` overwrites, `add` appends.
enum HeaderModifier: RouteFeature {
    static func apply(_ ir: Route, to route: inout Envoy_Config_Route_V3_Route) {
        route.requestHeadersToAdd = options(ir.requestHeaders)
        route.requestHeadersToRemove = ir.requestHeaders.remove
        route.responseHeadersToAdd = options(ir.responseHeaders)
        route.responseHeadersToRemove = ir.responseHeaders.remove
    }

    private static func options(_ mutation: Route.HeaderMutation) -> [Envoy_Config_Core_V3_HeaderValueOption] {
        let set = mutation.set.map { option($0, .overwriteIfExistsOrAdd) }
        return set + mutation.add.map { option($0, .appendIfExistsOrAdd) }
    }

    private static func option(
        _ header: Route.Header, _ action: Envoy_Config_Core_V3_HeaderValueOption.HeaderAppendAction
    ) -> Envoy_Config_Core_V3_HeaderValueOption {
        var option = Envoy_Config_Core_V3_HeaderValueOption()
        option.header.key = header.name
        option.header.value = header.value
        option.appendAction = action
        return option
    }
}
