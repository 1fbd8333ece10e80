import GatewayAPI

/// Checks on routes, with the policies that reach them.
struct NoHealthSignal: LintCheck {
    static let id = "RT001"
    static let severity = Finding.Severity.info
    static let title = "a route rule whose backends have no health checks"

    static func findings(in context: LintContext) -> [Finding] {
        let checked = context.resources.backendTrafficPolicies.filter { policy in
            policy.settings.healthCheck.map { $0.active != nil || $0.passive != nil } ?? false
        }
        let covered = Set(checked.flatMap { context.routes(of: $0) }.map { "\($0.namespace)/\($0.name)" })
        return context.resources.httpRoutes.flatMap { route -> [Finding] in
            guard !covered.contains("\(route.namespace)/\(route.name)") else { return [] }
            return route.rules.enumerated().compactMap { index, rule in
                guard !rule.backendRefs.isEmpty else { return nil }
                return Finding(
                    check: id, severity: severity, location: rule.location, field: "spec.rules[\(index)]",
                    message:
                        "no active or passive health check reaches these backends: a dead endpoint keeps its share of requests until connections fail",
                    fix:
                        "attach a BackendTrafficPolicy with healthCheck.passive (and active where the backend has a health endpoint)",
                    object: "HTTPRoute/\(route.namespace)/\(route.name)")
            }
        }
    }
}
