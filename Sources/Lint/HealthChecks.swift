import GatewayAPI

/// Checks on `healthCheck`.
struct HealthCheckTimeoutNotBelowInterval: LintCheck {
    static let id = "BTP008"
    static let severity = Finding.Severity.warning
    static let title = "active health check timeout at or above its interval"

    static func findings(in context: LintContext) -> [Finding] {
        context.resources.backendTrafficPolicies.compactMap { policy in
            guard let active = policy.settings.healthCheck?.active,
                active.timeout.milliseconds >= active.interval.milliseconds
            else { return nil }
            return finding(
                policy, "spec.healthCheck.active.timeout",
                "timeout \(active.timeout) is not below interval \(active.interval): a slow endpoint is probed again before the last probe ends",
                fix: "make the timeout well below the interval (e.g. 1s every 3s)")
        }
    }
}

struct EjectEveryEndpoint: LintCheck {
    static let id = "BTP009"
    static let severity = Finding.Severity.warning
    static let title = "passive health checks that can eject every endpoint"

    static func findings(in context: LintContext) -> [Finding] {
        context.resources.backendTrafficPolicies.compactMap { policy in
            guard let passive = policy.settings.healthCheck?.passive else { return nil }
            if passive.maxEjectionPercent == 100 {
                return finding(
                    policy, "spec.healthCheck.passive.maxEjectionPercent",
                    "every endpoint may be ejected: Envoy then panics and sends to all of them, bad ones included, so the check stops protecting",
                    fix: "keep maxEjectionPercent at or below 50")
            }
            let single = context.routes(of: policy).flatMap(context.backends).first { $0.endpoints.count == 1 }
            guard let single else { return nil }
            return finding(
                policy, "spec.healthCheck.passive",
                "Backend \(single.namespace)/\(single.name) has one endpoint: ejecting it leaves nothing to eject it for, and Envoy panics and sends to it anyway",
                fix: "give the Backend more endpoints, or rely on retries and active checks for it")
        }
    }
}
