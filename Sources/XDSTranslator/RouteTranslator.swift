import EnvoyAPI
import GatewayIR

/// HTTPListener's virtual hosts → Envoy RouteConfiguration, routes in the order given.
public enum RouteTranslator {
    public typealias RouteConfiguration = Envoy_Config_Route_V3_RouteConfiguration

    public static func routeConfiguration(_ ir: HTTPListener) -> RouteConfiguration {
        var config = RouteConfiguration()
        config.name = ir.name
        config.ignorePortInHostMatching = true
        config.virtualHosts = ir.virtualHosts.map { host in
            var virtualHost = Envoy_Config_Route_V3_VirtualHost()
            virtualHost.name = host.name
            virtualHost.domains = host.domains
            virtualHost.routes = host.routes.map(route)
            return virtualHost
        }
        return config
    }

    static func route(_ ir: Route) -> Envoy_Config_Route_V3_Route {
        var route = Envoy_Config_Route_V3_Route()
        route.name = ir.name
        switch ir.path {
        case .exact(let path): route.match.path = path
        case .regularExpression(let regex): route.match.safeRegex.regex = regex
        case .prefix(let prefix):
            // Gateway API prefixes match whole segments: /api matches /api and /api/x, not /apix.
            let trimmed = prefix.count > 1 && prefix.hasSuffix("/") ? String(prefix.dropLast()) : prefix
            if trimmed == "/" { route.match.prefix = "/" } else { route.match.pathSeparatedPrefix = trimmed }
        }
        route.match.headers = ir.headers.map(headerMatcher)
        if let method = ir.method { route.match.headers.append(headerMatcher(.init(name: ":method", value: method))) }
        route.match.queryParameters = ir.queryParams.map { param in
            var matcher = Envoy_Config_Route_V3_QueryParameterMatcher()
            matcher.name = param.name
            matcher.stringMatch = stringMatcher(param)
            return matcher
        }
        switch ir.action {
        case .forward(let cluster):
            route.route.cluster = cluster
            var upgrade = Envoy_Config_Route_V3_RouteAction.UpgradeConfig()
            upgrade.upgradeType = "websocket"
            route.route.upgradeConfigs = [upgrade]
        case .redirect(let redirect):
            route.redirect = Redirect.action(redirect)
        case .directResponse(let status):
            route.directResponse.status = UInt32(status)
        }
        HeaderModifier.apply(ir, to: &route)
        return route
    }

    static func headerMatcher(_ match: Route.ValueMatch) -> Envoy_Config_Route_V3_HeaderMatcher {
        var matcher = Envoy_Config_Route_V3_HeaderMatcher()
        matcher.name = match.name
        matcher.stringMatch = stringMatcher(match)
        return matcher
    }

    static func stringMatcher(_ match: Route.ValueMatch) -> Envoy_Type_Matcher_V3_StringMatcher {
        var matcher = Envoy_Type_Matcher_V3_StringMatcher()
        if match.regularExpression { matcher.safeRegex.regex = match.value } else { matcher.exact = match.value }
        return matcher
    }
}
