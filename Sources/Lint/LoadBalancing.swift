import GatewayAPI

/// Checks on `loadBalancer`.
struct HashOnMissingHeader: LintCheck {
    static let id = "BTP010"
    static let severity = Finding.Severity.warning
    static let title = "consistent hashing on a header no route match requires"

    static func findings(in context: LintContext) -> [Finding] {
        context.resources.backendTrafficPolicies.compactMap { policy in
            guard let balancer = policy.settings.loadBalancer, case .headers(let names)? = balancer.hashKey else {
                return nil
            }
            let lowered = Set(names.map { $0.lowercased() })
            let unguarded = context.routes(of: policy).first { route in
                route.rules.flatMap(\.matches).contains { match in
                    !match.headers.contains { lowered.contains($0.name.lowercased()) }
                }
            }
            guard let unguarded else { return nil }
            let field =
                policy.fields.has("spec.loadBalancer.consistentHash.header")
                ? "spec.loadBalancer.consistentHash.header" : "spec.loadBalancer.consistentHash"
            return finding(
                policy, field,
                "hashing on \(names.joined(separator: ", ")), which HTTPRoute \(unguarded.namespace)/\(unguarded.name) does not require: requests without it all hash alike and land on one endpoint",
                fix: "match on the header in the route, or hash on something every request has (SourceIP, a cookie)")
        }
    }
}
