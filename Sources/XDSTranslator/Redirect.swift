import EnvoyAPI
import GatewayIR

/// HTTPRoute RequestRedirect → a route's `redirect` action.
enum Redirect {
    static func action(_ ir: Route.Redirect) -> Envoy_Config_Route_V3_RedirectAction {
        var redirect = Envoy_Config_Route_V3_RedirectAction()
        if let scheme = ir.scheme { redirect.schemeRedirect = scheme }
        if let hostname = ir.hostname { redirect.hostRedirect = hostname }
        if let port = ir.port { redirect.portRedirect = UInt32(port) }
        switch ir.path {
        case .full(let path): redirect.pathRedirect = path
        case .prefix(let prefix): redirect.prefixRewrite = prefix
        case nil: break
        }
        redirect.responseCode =
            switch ir.statusCode {
            case 301: .movedPermanently
            case 303: .seeOther
            case 307: .temporaryRedirect
            case 308: .permanentRedirect
            default: .found
            }
        return redirect
    }
}
