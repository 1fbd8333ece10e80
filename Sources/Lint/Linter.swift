import FoundationEssentials
import GatewayAPI

/// `switchboard lint`: every check, run over a loaded configuration. An object silences checks
/// with the annotation `switchboard.dev/lint-ignore: "BTP001, BTP003"` (or `all`).
public enum Linter {
    public static let ignoreAnnotation = "switchboard.dev/lint-ignore"

    /// Every check, in ID order: docs/lint.md documents each.
    static let checks: [any LintCheck.Type] = [
        RetryWithoutPerRetryTimeout.self, PerRetryTimeoutNotBelowRequestTimeout.self, ManyRetries.self,
        RetryOnNonIdempotentMethods.self, RetryWithoutConnectionTriggers.self, ManyRetriesWithoutBudget.self,
        NoPendingRequests.self, HealthCheckTimeoutNotBelowInterval.self, EjectEveryEndpoint.self,
        HashOnMissingHeader.self, InfiniteRequestTimeout.self, FewParallelRequestsWithLongQueue.self,
        NoHealthSignal.self,
    ]

    /// The checks as docs/lint.md lists them: ID, severity, title.
    public static var catalog: [(id: String, severity: Finding.Severity, title: String)] {
        checks.map { ($0.id, $0.severity, $0.title) }
    }

    public static func lint(_ resources: ResourceSet) -> [Finding] {
        let context = LintContext(resources: resources)
        let silenced = silencedChecks(resources)
        return checks.flatMap { $0.findings(in: context) }.filter { finding in
            let ids = silenced[finding.object] ?? []
            return !ids.contains(finding.check) && !ids.contains("all")
        }.sorted()
    }

    /// By object (`<kind>/<ns>/<name>`), the check IDs its annotation silences.
    static func silencedChecks(_ resources: ResourceSet) -> [String: Set<String>] {
        var silenced: [String: Set<String>] = [:]
        func add(_ kind: String, _ namespace: String, _ name: String, _ annotations: [String: String]) {
            guard let value = annotations[ignoreAnnotation] else { return }
            silenced["\(kind)/\(namespace)/\(name)"] = Set(
                value.split(separator: ",").map {
                    String($0.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
                })
        }
        for policy in resources.backendTrafficPolicies {
            add("BackendTrafficPolicy", policy.namespace, policy.name, policy.annotations)
        }
        for route in resources.httpRoutes { add("HTTPRoute", route.namespace, route.name, route.annotations) }
        return silenced
    }
}
