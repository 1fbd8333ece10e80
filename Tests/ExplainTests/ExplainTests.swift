import Explain
import Foundation
import GatewayAPI
import Testing
import XDSTesting

/// `switchboard explain` over the golden cases' inputs: every rule of every route explained,
/// kept as `explain.txt` beside the case (`SWITCHBOARD_UPDATE_GOLDENS=1` rewrites it).
@Suite("explain: what applies to a rule or a request, and why")
struct ExplainTests {
    static let cases = [
        "btp-features", "btp-invalid-and-precedence-details", "btp-listener-over-gateway", "btp-merge",
        "btp-merge-rate-limits",
    ]

    static func explainer(_ name: String) throws -> (Explainer, ResourceSet) {
        let resources = ResourceSet.load(try GoldenCase(named: name).inputs())
        return (Explainer(resources, options: .init(now: Date(timeIntervalSince1970: 1_780_000_000))), resources)
    }

    @Test("every rule of each case, as text, matches its explain.txt", arguments: cases)
    func golden(_ name: String) throws {
        let (explainer, resources) = try Self.explainer(name)
        var texts: [String] = []
        let routes = resources.httpRoutes.sorted { ($0.namespace, $0.name) < ($1.namespace, $1.name) }
        for route in routes {
            let reference = Explainer.RuleReference(kind: "HTTPRoute", namespace: route.namespace, name: route.name)
            do {
                texts += try explainer.explain(reference).map(\.text)
            } catch {
                texts.append("\(reference): \(error)")
            }
        }
        let text = texts.joined(separator: "\n\n") + "\n"
        if let difference = try GoldenCase(named: name).compare(text, with: "explain.txt") {
            Issue.record("\(difference)")
        }
    }

    /// A route policy merged over the Gateway's: each field names the policy it came from.
    @Test func mergedFieldsNameTheirPolicy() throws {
        let (explainer, _) = try Self.explainer("btp-merge")
        let strategic = try #require(
            try explainer.explain(.init(kind: "HTTPRoute", namespace: "default", name: "httproute-1", rule: 0)).first)
        func source(_ field: String) -> String? {
            strategic.settings.first { $0.field == field }.map { $0.policy ?? $0.defaultedBy ?? "" }
        }
        #expect(source("timeout.tcp.connectTimeout") == "default/strategic")
        #expect(strategic.settings.first { $0.field == "timeout.tcp.connectTimeout" }?.value == "10s")
        #expect(source("timeout.http.connectionIdleTimeout") == "default/policy-for-gateway")
        #expect(source("retry.numRetries") == "default/policy-for-gateway")
        #expect(source("connection.bufferLimit") == "default/strategic")
        #expect(source("circuitBreaker.maxConnections") == "Envoy default")
        #expect(
            strategic.policies.map(\.role) == [
                "applies, merged (StrategicMerge) over default/policy-for-gateway", "merged under default/strategic",
            ])
        #expect(strategic.envoy.clusters == ["httproute/default/httproute-1/rule/0"])
        #expect(
            strategic.envoy.routes == [
                "httproute/default/httproute-1/match/0/*".replacingOccurrences(of: "/match", with: "/rule/0/match")
            ])

        // JSONMerge deleting timeout.http with null: the Gateway's http timeouts are gone.
        let json = try #require(
            try explainer.explain(.init(kind: "HTTPRoute", namespace: "default", name: "httproute-2")).first)
        #expect(!json.settings.contains { $0.field == "timeout.http.connectionIdleTimeout" && $0.policy != nil })
        #expect(json.settings.first { $0.field == "retry.numRetries" }?.policy == "default/json")
        #expect(
            json.settings.first { $0.field == "timeout.tcp.connectTimeout" }?.policy == "default/policy-for-gateway")

        // No mergeType: the route's policy replaces the Gateway's whole feature set.
        let replace = try #require(
            try explainer.explain(.init(kind: "HTTPRoute", namespace: "default", name: "httproute-3")).first)
        #expect(replace.policies.map(\.role) == ["applies", "overridden by default/replace"])
        #expect(
            replace.settings.first { $0.field == "timeout.tcp.connectTimeout" }?.defaultedBy == "Envoy Gateway default")
        #expect(replace.settings.first { $0.field == "retry" }?.value == "none (no retries)")

        // JSON for scripts reads back as the same explanations.
        let decoded = try JSONDecoder().decode(
            [Explanation].self, from: Data(try Explanation.json([strategic, json, replace]).utf8))
        #expect(decoded == [strategic, json, replace])
    }

    /// A strategic merge keeps rate limit rules of both policies, as the translation does: the
    /// Gateway's rules with clientSelectors after the route's (not its default rule, whose place
    /// the route's takes), and every global rule of both. Each names the policy and line it is from.
    @Test func mergedRateLimitRulesNameTheirPolicy() throws {
        let (explainer, _) = try Self.explainer("btp-merge-rate-limits")
        let explanation = try #require(
            try explainer.explain(.init(kind: "HTTPRoute", namespace: "default", name: "httproute-1")).first)
        func setting(_ field: String) -> Explanation.Setting? { explanation.settings.first { $0.field == field } }
        #expect(setting("rateLimit.local.rules[0].clientSelectors[0].headers[0].value")?.value == "one")
        #expect(setting("rateLimit.local.rules[0].limit.unit")?.policy == "default/policy-for-route")
        let inherited = try #require(setting("rateLimit.local.rules[1].clientSelectors[0].headers[0].value"))
        #expect(inherited.value == "two")
        #expect(inherited.policy == "default/policy-for-gateway")
        #expect(inherited.location?.hasSuffix("all.yaml:44:56") == true, "\(inherited.location ?? "")")
        // The Gateway's default rule (100 a minute) gives way to the route's.
        #expect(setting("rateLimit.local.rules[2].limit.requests") == nil)
        #expect(!explanation.settings.contains { $0.value == "100" })

        // Global rules: the route's, then every one of the Gateway's.
        let (global, _) = try Self.explainer("btp-global-rate-limit")
        let api = try #require(try global.explain(.init(kind: "HTTPRoute", namespace: "apps", name: "api")).first)
        let own = try #require(api.settings.first { $0.field == "rateLimit.global.rules[0].limit.requests" })
        #expect((own.value, own.policy) == ("7", "apps/api-limits"))
        let parents = try #require(api.settings.first { $0.field == "rateLimit.global.rules[1].limit.requests" })
        #expect((parents.value, parents.policy) == ("50", "infra/gateway-limits"))
        #expect(parents.location?.hasSuffix("all.yaml:88:17") == true, "\(parents.location ?? "")")
    }

    @Test func referencesAreCheckedWithAFix() throws {
        let (explainer, _) = try Self.explainer("btp-merge")
        #expect(throws: ExplainError.badReference("route/x")) { try Explainer.RuleReference(parsing: "route/x") }
        #expect(throws: ExplainError.badReference("httproute/a/b/rule/x")) {
            try Explainer.RuleReference(parsing: "httproute/a/b/rule/x")
        }
        #expect(try Explainer.RuleReference(parsing: "HTTPRoute/a/b/rule/2").rule == 2)
        #expect(throws: ExplainError.noRoute("httproute/default/nope")) {
            try explainer.explain(Explainer.RuleReference(parsing: "httproute/default/nope"))
        }
        #expect(throws: ExplainError.noRule("httproute/default/httproute-1/rule/3", count: 1)) {
            try explainer.explain(Explainer.RuleReference(parsing: "httproute/default/httproute-1/rule/3"))
        }
        #expect(throws: ExplainError.noGateway("default/other", known: ["default/gateway-1"])) {
            try explainer.explain(
                Explainer.RuleReference(parsing: "httproute/default/httproute-1"), gateway: "default/other")
        }
    }

    static let requestCase = """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: eg, namespace: default}
        spec:
          gatewayClassName: eg
          listeners: [{name: http, protocol: HTTP, port: 80}]
        ---
        apiVersion: gateway.envoyproxy.io/v1alpha1
        kind: Backend
        metadata: {name: app, namespace: default}
        spec:
          endpoints: [{ip: {address: 10.0.0.1, port: 8080}}]
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: shop, namespace: default}
        spec:
          parentRefs: [{name: eg}]
          hostnames: [shop.example.com, "*.example.org"]
          rules:
          - name: api
            matches:
            - path: {type: PathPrefix, value: /api}
              method: POST
              headers: [{name: x-tenant, value: blue}]
            backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: app}]
          - matches: [{path: {type: RegularExpression, value: "/items/[0-9]+"}}]
            backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: app}]
          - backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: app}]
        ---
        apiVersion: gateway.envoyproxy.io/v1alpha1
        kind: BackendTrafficPolicy
        metadata: {name: api-retries, namespace: default}
        spec:
          targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: shop, sectionName: api}]
          retry: {numRetries: 3}
        """

    @Test("a request is followed as Envoy follows it: listener, virtual host, first matching route")
    func requests() throws {
        let resources = ResourceSet.load([(path: "shop.yaml", contents: Self.requestCase)])
        #expect(resources.diagnostics.isEmpty, "\(resources.diagnostics)")
        let explainer = Explainer(resources)
        func rule(_ text: String, _ headers: [String] = []) throws -> Int? {
            try explainer.explain(ExplainRequest(parsing: text, headers: headers)).first?.rule
        }
        // Method and header both match: the named rule, with its policy.
        let api = try #require(
            try explainer.explain(
                ExplainRequest(parsing: "POST http://shop.example.com/api/orders", headers: ["x-tenant=blue"])
            ).first)
        #expect(api.rule == 0 && api.ruleName == "api")
        #expect(api.request?.virtualHost == "default/eg/http/shop_example_com")
        #expect(api.settings.first { $0.field == "retry.numRetries" }?.policy == "default/api-retries")
        #expect(api.policies.map(\.level) == ["rule"])
        // A GET, a missing header, or /apix (prefixes match whole segments) fall through.
        #expect(try rule("GET http://shop.example.com/api/orders", ["x-tenant=blue"]) == 2)
        #expect(try rule("POST http://shop.example.com/api/orders") == 2)
        #expect(try rule("POST http://shop.example.com/apix", ["x-tenant: blue"]) == 2)
        // The regular expression matches the whole path, with RE2.
        #expect(try rule("http://shop.example.com/items/42") == 1)
        #expect(try rule("http://shop.example.com/items/42x") == 2)
        // A wildcard hostname takes a subdomain, not the bare domain.
        #expect(try rule("http://a.example.org/items/7") == 1)
        let bare = #expect(throws: ExplainError.self) { try rule("http://example.org/") }
        #expect(bare?.description.contains("has no virtual host for example.org") == true)
        let secure = #expect(throws: ExplainError.self) { try rule("https://shop.example.com/") }
        #expect(
            secure?.description.contains(
                "no https listener on port 443; the listeners: default/eg/http (http, port 80, which Envoy binds as 10080)"
            ) == true)
        #expect(throws: ExplainError.badRequest("ftp://x/", why: "the URL needs http:// or https:// and a host")) {
            try ExplainRequest(parsing: "ftp://x/")
        }
    }
}
