import GatewayAPI
import GatewayIR

/// An HTTPRoute rule's filters as they change each of its routes: header modifiers, URL
/// rewrites, and a redirect, which answers instead of forwarding.
struct RouteFilters {
    var requestHeaders = Route.HeaderMutation()
    var responseHeaders = Route.HeaderMutation()
    var redirect: Route.Redirect?
    var rewrite: Route.Rewrite?

    init(_ filters: [HTTPRoute.Filter]) {
        for filter in filters {
            switch filter {
            case .requestHeaderModifier(let modifier):
                Self.merge(modifier, into: &requestHeaders)
            case .responseHeaderModifier(let modifier):
                Self.merge(modifier, into: &responseHeaders)
            case .requestRedirect(let redirect):
                let path: Route.Redirect.Path? =
                    switch redirect.path {
                    case .replaceFullPath(let value): .full(value)
                    case .replacePrefixMatch(let value): .prefix(value)
                    case nil: nil
                    }
                self.redirect = Route.Redirect(
                    scheme: redirect.scheme, hostname: redirect.hostname, port: redirect.port, path: path,
                    statusCode: redirect.statusCode)
            case .urlRewrite(let rewrite):
                let path: Route.Rewrite.Path? =
                    switch rewrite.path {
                    case .replaceFullPath(let value): .full(value)
                    case .replacePrefixMatch(let value): .prefix(value)
                    case nil: nil
                    }
                self.rewrite = Route.Rewrite(hostname: rewrite.hostname, path: path)
            }
        }
    }

    private static func merge(_ modifier: HTTPRoute.HeaderModifier, into mutation: inout Route.HeaderMutation) {
        mutation.set += modifier.set.map { Route.Header(name: $0.name, value: $0.value) }
        mutation.add += modifier.add.map { Route.Header(name: $0.name, value: $0.value) }
        mutation.remove += modifier.remove
    }

    /// `listenerPort` is the Gateway listener's: a redirect without a port keeps the client on it,
    /// or goes to the scheme's well-known port (Envoy Gateway's rule).
    func apply(to route: inout Route, listenerPort: Int) {
        route.requestHeaders = requestHeaders
        route.responseHeaders = responseHeaders
        route.rewrite = rewrite
        if var redirect {
            if redirect.port == nil {
                redirect.port =
                    switch redirect.scheme {
                    case "http": 80
                    case "https": 443
                    default: listenerPort
                    }
            }
            route.action = .redirect(redirect)
        }
    }
}
