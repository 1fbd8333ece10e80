import GatewayAPI
import GatewayIR
import RegexEngine

/// An HTTPRoute rule's filters as they change each of its routes: header modifiers, URL
/// rewrites, and a redirect, which answers instead of forwarding. Checked as Envoy Gateway
/// checks them when it translates: what Envoy would refuse, or what contradicts another filter
/// of the rule, is a problem, and a rule with problems answers 500 (`problems`).
struct RouteFilters {
    var requestHeaders = Route.HeaderMutation()
    var responseHeaders = Route.HeaderMutation()
    var redirect: Route.Redirect?
    var rewrite: Route.Rewrite?
    /// Envoy Gateway's messages, in filter order.
    var problems: [String] = []

    /// No filter changes anything, and none is refused.
    var isEmpty: Bool {
        requestHeaders == Route.HeaderMutation() && responseHeaders == Route.HeaderMutation() && redirect == nil
            && rewrite == nil && problems.isEmpty
    }

    init(_ filters: [HTTPRoute.Filter]) {
        var requestNames = HeaderNames()
        var responseNames = HeaderNames()
        for filter in filters {
            switch filter {
            case .requestHeaderModifier(let modifier):
                merge(modifier, into: \.requestHeaders, names: &requestNames, filter: "RequestHeaderModifier")
            case .responseHeaderModifier(let modifier):
                merge(modifier, into: \.responseHeaders, names: &responseNames, filter: "ResponseHeaderModifier")
            case .requestRedirect(let redirect):
                guard self.redirect == nil else {
                    problems.append("cannot configure multiple requestRedirect filters for a single HTTPRouteRule")
                    continue
                }
                self.redirect = Route.Redirect(
                    scheme: redirect.scheme, hostname: redirect.hostname, port: redirect.port,
                    path: redirect.path.map(Self.redirectPath), statusCode: redirect.statusCode)
            case .urlRewrite(let rewrite):
                if let existing = self.rewrite {
                    if (existing.hostname != nil && rewrite.hostname != nil)
                        || (existing.path != nil && rewrite.path != nil)
                    {
                        problems.append("cannot configure multiple urlRewrite filters for a single HTTPRouteRule")
                        continue
                    }
                    self.rewrite = Route.Rewrite(
                        hostname: existing.hostname ?? rewrite.hostname,
                        path: existing.path ?? rewrite.path.map(Self.rewritePath))
                } else {
                    self.rewrite = Route.Rewrite(hostname: rewrite.hostname, path: rewrite.path.map(Self.rewritePath))
                }
            }
        }
    }

    private static func redirectPath(_ path: HTTPRoute.PathModifier) -> Route.Redirect.Path {
        switch path {
        case .replaceFullPath(let value): .full(value)
        case .replacePrefixMatch(let value): .prefix(value)
        }
    }

    private static func rewritePath(_ path: HTTPRoute.PathModifier) -> Route.Rewrite.Path {
        switch path {
        case .replaceFullPath(let value): .full(value)
        case .replacePrefixMatch(let value): .prefix(value)
        }
    }

    /// Header names already set or added (and removed), compared without case: the first
    /// filter to name a header wins, adds before sets, as in Envoy Gateway.
    private struct HeaderNames {
        var written: Set<String> = []
        var removed: Set<String> = []
    }

    /// Adds, then sets, then removals, each refusing what Envoy cannot modify (`Host`,
    /// pseudo-headers) and values that are not visible ASCII with single inner spaces.
    private mutating func merge(
        _ modifier: HTTPRoute.HeaderModifier, into mutation: WritableKeyPath<RouteFilters, Route.HeaderMutation>,
        names: inout HeaderNames, filter: String
    ) {
        let request = filter == "RequestHeaderModifier"
        let hostAdvice = request ? " To modify the Host header use the URLRewrite or the HTTPRouteFilter filter." : ""
        var errors: [String] = []
        for (verb, headers) in [("add", modifier.add), ("set", modifier.set)] {
            for header in headers {
                guard Self.isModifiable(header.name) else {
                    // Envoy Gateway's response filter says "set" for both.
                    errors.append(
                        "Header: \(RE2.goQuoted(header.name)). The \(filter) filter cannot \(request ? verb : "set") the Host header or headers with a '/' or ':' character in them.\(hostAdvice)"
                    )
                    continue
                }
                guard Self.isValidValue(header.value) else {
                    errors.append(
                        "Header: \(RE2.goQuoted(header.name)). \(filter) Filter cannot \(verb) a header with an invalid value."
                    )
                    continue
                }
                guard names.written.insert(header.name.lowercased()).inserted else { continue }
                let value = Route.Header(name: header.name, value: header.value)
                if verb == "add" {
                    self[keyPath: mutation].add.append(value)
                } else {
                    self[keyPath: mutation].set.append(value)
                }
            }
        }
        for name in modifier.remove {
            guard Self.isModifiable(name) else {
                errors.append(
                    "Header: \(RE2.goQuoted(name)). The \(filter) filter cannot remove the Host header or headers with a '/' or ':' character in them."
                )
                continue
            }
            if names.removed.insert(name.lowercased()).inserted { self[keyPath: mutation].remove.append(name) }
        }
        let configured = !(modifier.add.isEmpty && modifier.set.isEmpty && modifier.remove.isEmpty)
        if configured && names.written.isEmpty && names.removed.isEmpty {
            problems.append("\(filter) Filter did not provide valid configuration to add/set/remove any headers")
        } else if !errors.isEmpty {
            problems.append(errors.joined(separator: "\n"))
        }
    }

    /// Envoy refuses to modify `Host` and pseudo-headers; `/` is never part of a header name.
    static func isModifiable(_ name: String) -> Bool {
        !name.contains("/") && !name.contains(":") && name.lowercased() != "host"
    }

    /// Envoy Gateway's header value rule: visible ASCII, words separated by one space or tab,
    /// nothing leading or trailing.
    static func isValidValue(_ value: String) -> Bool {
        var previousWasSpace = true  // a leading space is as bad as a double one
        for byte in value.utf8 {
            switch byte {
            case 0x21...0x7E: previousWasSpace = false
            case 0x20, 0x09:
                if previousWasSpace { return false }
                previousWasSpace = true
            default: return false
            }
        }
        return !previousWasSpace
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
