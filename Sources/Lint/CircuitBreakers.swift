import GatewayAPI

/// Checks on `circuitBreaker`.
struct NoPendingRequests: LintCheck {
    static let id = "BTP007"
    static let severity = Finding.Severity.warning
    static let title = "maxPendingRequests: 0"

    static func findings(in context: LintContext) -> [Finding] {
        context.resources.backendTrafficPolicies.compactMap { policy in
            guard policy.fields.has("spec.circuitBreaker.maxPendingRequests"),
                policy.settings.circuitBreaker?.maxPendingRequests == 0
            else { return nil }
            return finding(
                policy, "spec.circuitBreaker.maxPendingRequests",
                "no request may wait for a connection: on a cold pool, or once idle connections close, requests get 503 before a connection opens",
                fix: "allow a small queue (e.g. maxPendingRequests: 16), or keep the pool warm (connection.preconnect)")
        }
    }
}

struct FewParallelRequestsWithLongQueue: LintCheck {
    static let id = "BTP012"
    static let severity = Finding.Severity.warning
    static let title = "maxParallelRequests below 10 and the default queue"

    static func findings(in context: LintContext) -> [Finding] {
        context.resources.backendTrafficPolicies.compactMap { policy in
            guard let breaker = policy.settings.circuitBreaker,
                policy.fields.has("spec.circuitBreaker.maxParallelRequests"), breaker.maxParallelRequests < 10,
                !policy.fields.has("spec.circuitBreaker.maxPendingRequests")
            else { return nil }
            return finding(
                policy, "spec.circuitBreaker.maxParallelRequests",
                "\(breaker.maxParallelRequests) requests at once, and up to \(breaker.maxPendingRequests) more wait: under load requests queue until they time out instead of failing fast",
                fix:
                    "set maxPendingRequests to what may wait (e.g. \(breaker.maxParallelRequests * 2)), or raise maxParallelRequests"
            )
        }
    }
}
