import GatewayAPI

/// One best-practice check: its ID, severity and one-line title (docs/lint.md has the rest),
/// and the findings it makes in a configuration. Checks read, never change, and do no I/O.
protocol LintCheck: Sendable {
    static var id: String { get }
    static var severity: Finding.Severity { get }
    static var title: String { get }
    static func findings(in context: LintContext) -> [Finding]
}

extension LintCheck {
    /// A finding of this check at `field` of `policy` (at the nearest written parent when the
    /// field itself is not written).
    static func finding(
        _ policy: BackendTrafficPolicy, _ field: String, _ message: String, fix: String
    ) -> Finding {
        Finding(
            check: id, severity: severity, location: policy.location(of: field), field: field, message: message,
            fix: fix, object: "BackendTrafficPolicy/\(policy.namespace)/\(policy.name)")
    }
}

/// What the checks read: the resources, and which routes and backends a policy reaches.
struct LintContext: Sendable {
    let resources: ResourceSet

    /// The HTTPRoutes a policy applies to: those it targets, and those attached to a Gateway it
    /// targets (selectors aside: they match labels, which lint does not resolve).
    func routes(of policy: BackendTrafficPolicy) -> [HTTPRoute] {
        resources.httpRoutes.filter { route in
            policy.targetRefs.contains { target in
                switch target.kind {
                case "HTTPRoute": route.namespace == policy.namespace && route.name == target.name
                case "Gateway":
                    route.parentRefs.contains { $0.namespace == policy.namespace && $0.name == target.name }
                default: false
                }
            }
        }
    }

    /// The Backends a route's rules send to.
    func backends(of route: HTTPRoute) -> [Backend] {
        let references = route.rules.flatMap(\.backendRefs).filter { $0.kind == "Backend" }
        return resources.backends.filter { backend in
            references.contains { $0.namespace == backend.namespace && $0.name == backend.name }
        }
    }
}

extension BackendTrafficPolicy {
    /// Where `field` is written, else its nearest written parent, else the policy.
    func location(of field: String) -> SourceLocation {
        var path = field
        while !path.isEmpty {
            if let location = fields[path] { return location }
            guard let cut = path.lastIndex(where: { $0 == "." || $0 == "[" }) else { break }
            path = String(path[..<cut])
        }
        return location
    }
}
