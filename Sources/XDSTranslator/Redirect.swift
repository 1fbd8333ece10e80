import EnvoyAPI
import GatewayIR

/// HTTPRoute RequestRedirect → a route's `redirect` action.
enum Redirect {
    static func action(_ ir: Route.Redirect, match: Route.PathMatch) -> Envoy_Config_Route_V3_RedirectAction {
        var redirect = Envoy_Config_Route_V3_RedirectAction()
        if let scheme = ir.scheme { redirect.schemeRedirect = scheme }
        if let hostname = ir.hostname { redirect.hostRedirect = hostname }
        // A well-known port stays out of the Location header.
        if let port = ir.port, port != 80, port != 443 { redirect.portRedirect = UInt32(port) }
        switch ir.path {
        case .full(let path): redirect.pathRedirect = path
        case .prefix(let replacement):
            if let regex = PathRewrite.prefixToRoot(match: match, replacement: replacement) {
                redirect.regexRewrite = regex
            } else {
                redirect.prefixRewrite = replacement
            }
        case nil: break
        }
        redirect.responseCode = ir.statusCode == 301 ? .movedPermanently : .found
        return redirect
    }
}
