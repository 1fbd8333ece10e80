import Testing

@testable import GatewayAPI

/// `rateLimit.global` read as Envoy Gateway's CRD defines it: every field, its limits, and the
/// problems Envoy Gateway reports in a policy's status.
@Suite struct GlobalRateLimitTests {
    static func policy(_ rateLimit: String) -> ResourceSet {
        ResourceSet.load([
            (
                "p.yaml",
                """
                apiVersion: gateway.envoyproxy.io/v1alpha1
                kind: BackendTrafficPolicy
                metadata: {name: p, namespace: default}
                spec:
                  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: r}]
                  rateLimit:
                \(rateLimit)
                """
            )
        ])
    }

    @Test func readsEveryField() throws {
        let set = Self.policy(
            """
                global:
                  rules:
                  - clientSelectors:
                    - headers: [{name: x-user, type: Distinct}, {name: x-plan, value: free, invert: true}]
                      methods: [{value: POST}]
                      path: {type: Exact, value: /login}
                      sourceCIDR: {type: Distinct, value: 10.0.0.0/8}
                      queryParams: [{name: key, type: RegularExpression, value: "a.*"}]
                    limit: {requests: 0, unit: Minute}
                    shared: true
                    shadowMode: true
                    xRateLimitHeaders: "Off"
                    cost:
                      request: {from: Number, number: 0}
                      response: {from: Metadata, metadata: {namespace: io.cost, key: tokens}}
                  - limit: {requests: 5, unit: Hour, fromMetadata: {namespace: io.limits, key: hourly}}
            """)
        #expect(set.diagnostics.isEmpty, "\(set.diagnostics)")
        let rateLimit = try #require(set.backendTrafficPolicies.first?.settings.rateLimit)
        let rules = try #require(rateLimit.global)
        #expect(rules.count == 2)
        let selector = try #require(rules[0].selectors.first)
        #expect(selector.headers.map(\.type) == ["Distinct", "Exact"])
        #expect(selector.headers[1].invert)
        #expect(selector.methods.map(\.method) == ["POST"])
        #expect(selector.path?.type == "Exact" && selector.path?.value == "/login")
        #expect(selector.sourceCIDR?.type == "Distinct" && selector.sourceCIDR?.value == "10.0.0.0/8")
        #expect(selector.queryParams.first?.value == "a.*")
        #expect(rules[0].requests == 0 && rules[0].unit == "Minute")
        #expect(rules[0].shared && rules[0].shadowMode && rules[0].xRateLimitHeaders == "Off")
        #expect(rules[0].requestCost == .number(0))
        #expect(rules[0].responseCost == .metadata(.init(namespace: "io.cost", key: "tokens")))
        #expect(rules[1].limitFromMetadata == .init(namespace: "io.limits", key: "hourly"))
        #expect(!rules[1].shared && rules[1].selectors.isEmpty)
    }

    /// A file that breaks the CRD gets a diagnostic at the field; a rule Envoy Gateway refuses in
    /// translation gets its words in the policy's status.
    @Test func refusals() {
        let both = Self.policy(
            """
                global:
                  rules: [{limit: {requests: 1, unit: Second}, cost: {request: {from: Number, number: 1, metadata: {namespace: a, key: b}}}}]
            """)
        #expect(both.diagnostics.map(\.field) == ["spec.rateLimit.global.rules[0].cost.request"])
        let local = Self.policy(
            """
                local:
                  rules: [{limit: {requests: 1, unit: Second}, shared: true}]
            """)
        #expect(local.diagnostics.map(\.field) == ["spec.rateLimit.local.rules[0].shared"])
        let many = Self.policy(
            """
                global:
                  rules: [\(Array(repeating: "{limit: {requests: 1, unit: Second}}", count: 257).joined(separator: ", "))]
            """)
        #expect(many.diagnostics.map(\.field) == ["spec.rateLimit.global.rules"])
        let distinctInvert = Self.policy(
            """
                global:
                  rules: [{clientSelectors: [{headers: [{name: x-user, type: Distinct, invert: true}]}], limit: {requests: 1, unit: Second}}]
            """)
        #expect(
            distinctInvert.backendTrafficPolicies.first?.settings.rateLimit?.problems.contains(
                "unable to translate rateLimit.Invert is not applicable for distinct header match type") == true)
        let empty = Self.policy("    type: Global")
        #expect(
            empty.backendTrafficPolicies.first?.settings.rateLimit?.problems.contains(
                "global configuration empty for rateLimit") == true)
    }

    /// A source CIDR reads as Envoy's masked client address prints it, host bits cleared.
    @Test func cidrs() {
        #expect(CIDR.canonical("10.1.2.3/16") == "10.1.0.0/16")
        #expect(CIDR.canonical("10.1.2.3/32") == "10.1.2.3/32")
        #expect(CIDR.canonical("192.168.7.255/0") == "0.0.0.0/0")
        #expect(CIDR.canonical("2001:db8:1234::1/32") == "2001:db8::/32")
        #expect(CIDR.canonical("10.1.2.3/33") == nil)
        #expect(CIDR.canonical("10.1.2/8") == nil)
        #expect(CIDR.canonical("10.1.2.3") == nil)
        let invalid = Self.policy(
            """
                global:
                  rules: [{clientSelectors: [{sourceCIDR: {value: 300.1.1.1/8}}], limit: {requests: 1, unit: Second}}]
            """)
        #expect(
            invalid.backendTrafficPolicies.first?.settings.rateLimit?.problems == [
                "unable to translate rateLimit: invalid CIDR address: 300.1.1.1/8"
            ])
    }
}

/// A route policy's global rules over its parent's, as Envoy Gateway merges them after
/// translating each policy: a strategic merge keeps both lists, the route's first; a JSON merge
/// replaces the parent's list when the route has one.
@Suite struct GlobalRateLimitMergeTests {
    static func policies(route: String, mergeType: String) throws -> (
        route: BackendTrafficPolicy, parent: BackendTrafficPolicy
    ) {
        let set = ResourceSet.load([
            (
                "p.yaml",
                """
                apiVersion: gateway.envoyproxy.io/v1alpha1
                kind: BackendTrafficPolicy
                metadata: {name: parent, namespace: default}
                spec:
                  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: eg}]
                  rateLimit:
                    global:
                      rules:
                      - limit: {requests: 100, unit: Minute}
                ---
                apiVersion: gateway.envoyproxy.io/v1alpha1
                kind: BackendTrafficPolicy
                metadata: {name: route, namespace: default}
                spec:
                  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: r}]
                  mergeType: \(mergeType)
                \(route)
                """
            )
        ])
        #expect(set.diagnostics.isEmpty, "\(set.diagnostics)")
        let byName = Dictionary(uniqueKeysWithValues: set.backendTrafficPolicies.map { ($0.name, $0) })
        return (try #require(byName["route"]), try #require(byName["parent"]))
    }

    static let ownRules = """
          rateLimit:
            global:
              rules:
              - limit: {requests: 5, unit: Minute}
        """

    @Test func strategicMergeKeepsBothListsRouteFirst() throws {
        let (route, parent) = try Self.policies(route: Self.ownRules, mergeType: "StrategicMerge")
        let merged = route.merged(over: parent)
        #expect(merged.problems.isEmpty, "\(merged.problems)")
        #expect(merged.settings.rateLimit?.global?.map(\.requests) == [5, 100])
    }

    @Test func jsonMergeReplacesTheParentsList() throws {
        let (route, parent) = try Self.policies(route: Self.ownRules, mergeType: "JSONMerge")
        let merged = route.merged(over: parent)
        #expect(merged.problems.isEmpty, "\(merged.problems)")
        #expect(merged.settings.rateLimit?.global?.map(\.requests) == [5])
    }

    @Test func jsonMergeWithoutRulesInheritsTheParents() throws {
        let (route, parent) = try Self.policies(
            route: "  timeout: {http: {requestTimeout: 5s}}", mergeType: "JSONMerge")
        let merged = route.merged(over: parent)
        #expect(merged.problems.isEmpty, "\(merged.problems)")
        #expect(merged.settings.rateLimit?.global?.map(\.requests) == [100])
    }
}
