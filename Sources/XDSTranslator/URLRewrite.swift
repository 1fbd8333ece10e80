import EnvoyAPI
import GatewayIR

/// HTTPRoute URLRewrite → RouteAction `host_rewrite_literal` (with the original host kept in
/// x-forwarded-host), `prefix_rewrite` or `regex_rewrite`, as Envoy Gateway writes them.
enum URLRewrite: RouteActionFeature {
    static func apply(_ ir: Route, to action: inout EnvoyRouteAction) {
        if let rewrite = ir.rewrite { apply(rewrite, match: ir.path, to: &action) }
    }

    static func apply(
        _ rewrite: Route.Rewrite, match: Route.PathMatch, to action: inout Envoy_Config_Route_V3_RouteAction
    ) {
        switch rewrite.path {
        case .full(let path):
            action.regexRewrite.pattern.regex = "^/.*$"
            action.regexRewrite.substitution = path
        case .prefix(let replacement):
            if let regex = PathRewrite.prefixToRoot(match: match, replacement: replacement) {
                action.regexRewrite = regex
            } else {
                // The match prefix is written without its trailing slash, so the replacement is too;
                // otherwise /api/x rewritten to /v2/ would reach the upstream as /v2//x.
                action.prefixRewrite =
                    replacement.count > 1 && replacement.hasSuffix("/") ? String(replacement.dropLast()) : replacement
            }
        case nil:
            break
        }
        if let hostname = rewrite.hostname {
            action.hostRewriteLiteral = hostname
            action.appendXForwardedHost = true
        }
    }
}

enum PathRewrite {
    /// Replacing a matched prefix with `/` (or nothing) by `prefix_rewrite` leaves a double slash
    /// (envoyproxy/envoy#26055), so it is a regex that also eats the slashes after the prefix.
    static func prefixToRoot(match: Route.PathMatch, replacement: String)
        -> Envoy_Type_Matcher_V3_RegexMatchAndSubstitute?
    {
        guard case .prefix(let prefix) = match, replacement.isEmpty || replacement == "/" else { return nil }
        var regex = Envoy_Type_Matcher_V3_RegexMatchAndSubstitute()
        regex.pattern.regex = "^" + prefix + #"\/*"#
        regex.substitution = "/"
        return regex
    }
}
