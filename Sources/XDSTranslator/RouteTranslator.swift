import EnvoyAPI
import GatewayIR

/// HTTPListener's virtual hosts → Envoy RouteConfiguration, routes in the order given.
public enum RouteTranslator {
    public typealias RouteConfiguration = Envoy_Config_Route_V3_RouteConfiguration

    public static func routeConfiguration(_ ir: HTTPListener) throws -> RouteConfiguration {
        var config = RouteConfiguration()
        config.name = ir.name
        config.ignorePortInHostMatching = true
        config.virtualHosts = try ir.virtualHosts.map { host in
            var virtualHost = Envoy_Config_Route_V3_VirtualHost()
            virtualHost.name = host.name
            virtualHost.domains = host.domains
            virtualHost.routes = try host.routes.map(route)
            if let metadata = host.metadata {
                try SourceMetadata.attach(metadata, to: &virtualHost, key: SourceMetadata.virtualHostKey)
            }
            return virtualHost
        }
        return config
    }

    static func route(_ ir: Route) throws -> Envoy_Config_Route_V3_Route {
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
            var action = EnvoyRouteAction()
            action.cluster = cluster
            for feature in actionFeatures { try feature.apply(ir, to: &action) }
            route.route = action
        case .redirect(let redirect):
            route.redirect = Redirect.action(redirect, match: ir.path)
        case .directResponse(let status):
            route.directResponse.status = UInt32(status)
        }
        for feature in features { try feature.apply(ir, to: &route) }
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
        switch match.kind {
        case .exact: matcher.exact = match.value
        case .regularExpression: matcher.safeRegex.regex = match.value
        case .suffix: matcher.suffix = match.value
        }
        return matcher
    }
}
