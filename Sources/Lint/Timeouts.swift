import GatewayAPI

/// Checks on `timeout`.
struct InfiniteRequestTimeout: LintCheck {
    static let id = "BTP011"
    static let severity = Finding.Severity.warning
    static let title = "a request timeout of 0 (none)"

    static func findings(in context: LintContext) -> [Finding] {
        context.resources.backendTrafficPolicies.compactMap { policy in
            guard policy.settings.timeout?.requestTimeout?.milliseconds == 0 else { return nil }
            return finding(
                policy, "spec.timeout.http.requestTimeout",
                "requestTimeout 0s disables the timeout: a stuck upstream holds each client's connection, and the proxy's, forever",
                fix:
                    "set a finite requestTimeout (Envoy Gateway's default is 15s); streaming routes can use streamIdleTimeout instead"
            )
        }
    }
}
