import GatewayAPI
import GatewayIR

/// An HTTPRoute rule's filters as they change each of its routes: header modifiers, and a
/// redirect, which answers instead of forwarding. URLRewrite is decoded but not yet applied.
struct RouteFilters {
    var requestHeaders = Route.HeaderMutation()
    var responseHeaders = Route.HeaderMutation()
    var redirect: Route.Redirect?

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
            case .urlRewrite:
                continue
            }
        }
    }

    private static func merge(_ modifier: HTTPRoute.HeaderModifier, into mutation: inout Route.HeaderMutation) {
        mutation.set += modifier.set.map { Route.Header(name: $0.name, value: $0.value) }
        mutation.add += modifier.add.map { Route.Header(name: $0.name, value: $0.value) }
        mutation.remove += modifier.remove
    }

    func apply(to route: inout Route) {
        route.requestHeaders = requestHeaders
        route.responseHeaders = responseHeaders
        if let redirect { route.action = .redirect(redirect) }
    }
}
