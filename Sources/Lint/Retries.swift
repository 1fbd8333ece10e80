import GatewayAPI

/// Checks on `retry`, each a BackendTrafficPolicy's.
struct RetryWithoutPerRetryTimeout: LintCheck {
    static let id = "BTP001"
    static let severity = Finding.Severity.warning
    static let title = "retries without perRetry.timeout"

    static func findings(in context: LintContext) -> [Finding] {
        context.resources.backendTrafficPolicies.compactMap { policy in
            guard let retry = policy.settings.retry, retry.numRetries > 0, retry.perRetryTimeout == nil else {
                return nil
            }
            return finding(
                policy, "spec.retry",
                "\(retry.numRetries) \(retry.numRetries == 1 ? "retry" : "retries") without perRetry.timeout: one slow try can use the whole request timeout and leave none for the retries",
                fix: "set retry.perRetry.timeout well below the request timeout (e.g. a third of it)")
        }
    }
}

struct PerRetryTimeoutNotBelowRequestTimeout: LintCheck {
    static let id = "BTP002"
    static let severity = Finding.Severity.warning
    static let title = "perRetry.timeout at or above the request timeout"

    static func findings(in context: LintContext) -> [Finding] {
        context.resources.backendTrafficPolicies.compactMap { policy in
            guard let perTry = policy.settings.retry?.perRetryTimeout,
                let request = policy.settings.timeout?.requestTimeout, request.milliseconds > 0,
                perTry.milliseconds >= request.milliseconds
            else { return nil }
            return finding(
                policy, "spec.retry.perRetry.timeout",
                "perRetry.timeout \(perTry) is not below the request timeout \(request): the first try can time out the whole request, so no retry ever runs",
                fix: "make perRetry.timeout a fraction of timeout.http.requestTimeout")
        }
    }
}

struct ManyRetries: LintCheck {
    static let id = "BTP003"
    static let severity = Finding.Severity.warning
    static let title = "more than 5 retries"

    static func findings(in context: LintContext) -> [Finding] {
        context.resources.backendTrafficPolicies.compactMap { policy in
            guard let retries = policy.settings.retry?.numRetries, retries > 5 else { return nil }
            return finding(
                policy, "spec.retry.numRetries",
                "\(retries) retries: a failing backend gets \(retries + 1) times its traffic, and clients wait through every try",
                fix: "use 2 or 3 retries with back-off, and a retry budget")
        }
    }
}

struct RetryOnNonIdempotentMethods: LintCheck {
    static let id = "BTP004"
    static let severity = Finding.Severity.warning
    static let title = "retries after the request was sent, on routes for non-idempotent methods"

    /// Triggers that fire once the upstream may have acted on the request.
    static let afterSending: Set<String> = [
        "5xx", "gateway-error", "reset", "retriable-4xx", "retriable-status-codes", "cancelled", "deadline-exceeded",
        "internal", "resource-exhausted", "unavailable",
    ]
    /// Envoy Gateway's `retry_on` when `retryOn` gives no triggers.
    static let defaultTriggers = [
        "connect-failure", "refused-stream", "unavailable", "cancelled", "retriable-status-codes",
    ]
    static let nonIdempotent: Set<String> = ["POST", "PATCH", "CONNECT"]

    static func findings(in context: LintContext) -> [Finding] {
        context.resources.backendTrafficPolicies.compactMap { policy in
            guard let retry = policy.settings.retry, retry.numRetries > 0 else { return nil }
            let given = retry.retryOn?.triggers ?? []
            let risky = (given.isEmpty ? defaultTriggers : given).filter(afterSending.contains)
            guard !risky.isEmpty else { return nil }
            let methods = context.routes(of: policy).flatMap { route in
                route.rules.flatMap(\.matches).compactMap(\.method).filter(nonIdempotent.contains).map {
                    "\($0) on HTTPRoute \(route.namespace)/\(route.name)"
                }
            }
            guard let first = methods.first else { return nil }
            return finding(
                policy, "spec.retry",
                "retries on \(risky.joined(separator: ", ")) resend requests the upstream may already have acted on (\(first)): a retried payment is paid twice",
                fix:
                    "retry only on connect-failure, refused-stream and reset-before-request for those routes, or make the method idempotent"
            )
        }
    }
}

struct RetryWithoutConnectionTriggers: LintCheck {
    static let id = "BTP005"
    static let severity = Finding.Severity.info
    static let title = "retry triggers without connect-failure or reset"

    static func findings(in context: LintContext) -> [Finding] {
        context.resources.backendTrafficPolicies.compactMap { policy in
            guard let triggers = policy.settings.retry?.retryOn?.triggers, !triggers.isEmpty,
                !triggers.contains(where: ["connect-failure", "reset", "reset-before-request"].contains)
            else { return nil }
            return finding(
                policy, "spec.retry.retryOn.triggers",
                "triggers \(triggers.joined(separator: ", ")) leave out connect-failure and reset: an endpoint that went away fails the request instead of moving it to another",
                fix: "add connect-failure (and reset-before-request) to retryOn.triggers")
        }
    }
}

struct ManyRetriesWithoutBudget: LintCheck {
    static let id = "BTP006"
    static let severity = Finding.Severity.warning
    static let title = "several retries and no retry budget"

    static func findings(in context: LintContext) -> [Finding] {
        context.resources.backendTrafficPolicies.compactMap { policy in
            guard let retries = policy.settings.retry?.numRetries, retries >= 3,
                policy.settings.circuitBreaker?.retryBudget == nil
            else { return nil }
            return finding(
                policy, "spec.retry.numRetries",
                "\(retries) retries and no retry budget: in an outage every request becomes \(retries + 1), and the retries keep the backend down",
                fix: "add circuitBreaker.retryBudget (e.g. percent 20) so retries stay a share of traffic")
        }
    }
}
