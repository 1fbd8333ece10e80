import Testing

@testable import GatewayAPI

/// Input written to hurt: alias bombs, names that collide or break Envoy names, values Envoy
/// refuses. Each is refused with a diagnostic naming file, line and field.
@Suite("Hostile and invalid input")
struct HostileInputTests {
    /// A BackendTrafficPolicy whose spec holds a `fanout`-per-level alias bomb `depth` deep.
    static func aliasBomb(depth: Int, fanout: Int = 9) -> String {
        var lines = [
            "apiVersion: gateway.envoyproxy.io/v1alpha1", "kind: BackendTrafficPolicy", "metadata: {name: bomb}",
            "spec:",
        ]
        lines.append("  a0: &a0 [x, x, x, x, x, x, x, x, x]")
        for level in 1...depth {
            let refs = Array(repeating: "*a\(level - 1)", count: fanout).joined(separator: ", ")
            lines.append("  a\(level): &a\(level) [\(refs)]")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    @Test("an alias bomb is refused at once, before anything walks its expansion")
    func aliasBomb() {
        // 9^9 nodes: were the expansion walked, this test would not finish (or run out of memory).
        let set = ResourceSet.load([("bomb.yaml", Self.aliasBomb(depth: 9))])
        #expect(set.backendTrafficPolicies.isEmpty)
        let diagnostic = set.diagnostics.first
        #expect(diagnostic?.code == .tooLarge)
        #expect(diagnostic?.location == SourceLocation(file: "bomb.yaml", line: 1, column: 1))
        #expect(
            diagnostic?.message.hasPrefix("YAML: the document expands its aliases too much") == true,
            "\(set.diagnostics)")
    }

    @Test("ordinary aliases still load")
    func ordinaryAliases() {
        let yaml = """
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: r}
            spec:
              parentRefs: [&gw {name: eg}]
              rules:
              - backendRefs: &refs [{name: svc, port: 80}]
              - matches: [{path: {value: /b}}]
                backendRefs: *refs
            """
        let set = ResourceSet.load([("r.yaml", yaml)])
        #expect(set.diagnostics.isEmpty, "\(set.diagnostics)")
        #expect(set.httpRoutes.first?.rules.count == 2)
    }

    @Test("names and namespaces follow Kubernetes' rules; `a/b` + `c` cannot pose as `a` + `b/c`")
    func names() {
        func load(kind: String = "HTTPRoute", name: String, namespace: String = "default") -> [Diagnostic] {
            let group = kind == "Service" ? "v1" : "gateway.networking.k8s.io/v1"
            let spec = kind == "Service" ? "{ports: [{port: 80}]}" : "{}"
            return ResourceSet.load([
                (
                    "n.yaml",
                    "apiVersion: \(group)\nkind: \(kind)\nmetadata: {name: \"\(name)\", namespace: \"\(namespace)\"}\nspec: \(spec)\n"
                )
            ]).diagnostics.filter { $0.field.hasPrefix("metadata") }
        }
        #expect(load(name: "Bad Name!").map(\.field) == ["metadata.name"])
        #expect(load(name: "Bad Name!").first?.message.contains("lowercase RFC 1123 subdomain") == true)
        #expect(load(name: "a\\u0000b").map(\.field) == ["metadata.name"], "a NUL")
        #expect(load(name: "a/b", namespace: "c").map(\.field) == ["metadata.name"])
        #expect(load(name: "c", namespace: "a/b").map(\.field) == ["metadata.namespace"])
        #expect(load(name: String(repeating: "a", count: 254)).first?.message.contains("no more than 253") == true)
        #expect(load(name: "api.v1-x").isEmpty, "dots are fine in a subdomain")
        #expect(load(name: "x", namespace: "a.b").map(\.field) == ["metadata.namespace"], "a namespace is a label")
        #expect(
            load(kind: "Service", name: "1svc").map(\.field) == ["metadata.name"], "a Service name starts with a letter"
        )
        #expect(load(kind: "Service", name: "svc-1").isEmpty)
    }

    @Test("a quoted or !!str number is a string: refused for a number field, accepted for a string one")
    func explicitStrings() {
        let backend = { (port: String, address: String) in
            """
            apiVersion: gateway.envoyproxy.io/v1alpha1
            kind: Backend
            metadata: {name: b}
            spec: {endpoints: [{ip: {address: \(address), port: \(port)}}]}
            """
        }
        #expect(ResourceSet.load([("b.yaml", backend("5", "127.0.0.1"))]).diagnostics.isEmpty)
        for port in ["!!str 5", "\"5\"", "'5'"] {
            let set = ResourceSet.load([("b.yaml", backend(port, "127.0.0.1"))])
            #expect(set.diagnostics.map(\.field) == ["spec.endpoints[0].ip.port"], "\(port)")
            #expect(set.diagnostics.first?.message.hasPrefix("must be an integer") == true)
        }
        #expect(ResourceSet.load([("b.yaml", backend("5", "!!str 127.0.0.1"))]).diagnostics.isEmpty)
    }

    @Test(
        "values Envoy refuses are refused here, with the field",
        arguments: [
            ("ip: {address: not-an-ip, port: 80}", "spec.endpoints[0].ip.address", "is not an IP address"),
            ("ip: {address: 127.0.0.1.5, port: 80}", "spec.endpoints[0].ip.address", "is not an IP address"),
            ("ip: {address: '::1', port: 80}", "", ""),
            ("fqdn: {hostname: Bad_Host, port: 80}", "spec.endpoints[0].fqdn.hostname", "is not a valid hostname"),
        ])
    func backendValues(endpoint: String, field: String, message: String) {
        let yaml =
            "apiVersion: gateway.envoyproxy.io/v1alpha1\nkind: Backend\nmetadata: {name: b}\nspec: {endpoints: [{\(endpoint)}]}\n"
        let set = ResourceSet.load([("b.yaml", yaml)])
        #expect(set.diagnostics.map(\.field) == (field.isEmpty ? [] : [field]))
        #expect(set.diagnostics.allSatisfy { $0.message.contains(message) }, "\(set.diagnostics)")
    }

    @Test(
        "path matches follow the Gateway API's rules",
        arguments: [
            ("/a//", "must not contain \"//\""), ("/a/../b", "must not contain \"/../\""),
            ("/a/.", "must not end with \"/.\""),
            ("/a%2fb", "must not contain \"%2f\""), ("/a b", "contains a character"), ("/a%zz", "two hex digits"),
            ("api", "must start with"),
            ("/ok/path-1.2~x", ""), ("/%C3%A9", ""),
            ("/a/..", "must not end with \"/..\""), ("/a/./b", "must not contain \"/./\""),
            ("/a%2Fb", "must not contain \"%2F\""), ("/a#b", "must not contain \"#\""), ("/a%4", "two hex digits"),
            ("/a\\b", "contains a character"), ("/é", "contains a character"), ("/", ""),
            ("/-._~!$&'()*+,;=:@/x", ""), ("/" + String(repeating: "a", count: 1024), "paths have at most 1024"),
        ])
    func paths(value: String, message: String) {
        let route = """
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: r}
            spec:
              rules:
              - matches: [{path: {type: PathPrefix, value: "\(value)"}}]
            """
        let set = ResourceSet.load([("r.yaml", route)])
        if message.isEmpty {
            #expect(set.diagnostics.isEmpty, "\(set.diagnostics)")
        } else {
            #expect(set.diagnostics.map(\.field) == ["spec.rules[0].matches[0].path.value"])
            #expect(set.diagnostics.first?.message.contains(message) == true, "\(set.diagnostics)")
            #expect(set.diagnostics.first?.location.line == 6)
        }
    }

    @Test("header names are RFC 7230 tokens; a local rate limit of 0 requests is refused")
    func headersAndLimits() {
        let route = """
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: r}
            spec:
              rules:
              - matches: [{headers: [{name: "x bad", value: v}]}]
                filters:
                - type: RequestHeaderModifier
                  requestHeaderModifier: {set: [{name: "a:b", value: v}], remove: ["ok-name", "bad\\nname"]}
            """
        #expect(
            ResourceSet.load([("r.yaml", route)]).diagnostics.map(\.field) == [
                "spec.rules[0].matches[0].headers[0].name",
                "spec.rules[0].filters[0].requestHeaderModifier.set[0].name",
                "spec.rules[0].filters[0].requestHeaderModifier.remove[1]",
            ])
        let policy = """
            apiVersion: gateway.envoyproxy.io/v1alpha1
            kind: BackendTrafficPolicy
            metadata: {name: p}
            spec:
              targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: r}]
              rateLimit: {type: Local, local: {rules: [{limit: {requests: 0, unit: Second}}]}}
            """
        let set = ResourceSet.load([("p.yaml", policy)])
        #expect(set.diagnostics.map(\.field) == ["spec.rateLimit.local.rules[0].limit.requests"])
        #expect(set.backendTrafficPolicies.isEmpty)
    }
}
