import CanonicalText
import Foundation
import GatewayAPI
import GatewayIR
import GatewayTranslator
import Testing
import XDSTesting

/// A translation that reuses the last one's parts (`GatewayTranslator.Memo`) must give exactly
/// what a fresh translation gives, whatever changed in between.
@Suite("Translator memo")
struct TranslatorMemoTests {
    static let now = IRGoldenTests.goldenNow

    /// Every Gateway's IR and the whole status, as text: what two translations are compared by.
    static func text(_ output: GatewayTranslator.Output) throws -> String {
        let configs = output.configs.sorted { $0.key < $1.key }
        return try CanonicalText.encode(configs) + "\n" + CanonicalText.encode(output.status)
    }

    static func resources(_ files: [(path: String, contents: String)]) -> ResourceSet {
        ResourceSet.load(files)
    }

    /// Translates `resources` with `memo` and checks the result against a fresh translation.
    static func check(
        _ resources: ResourceSet, options: GatewayTranslator.Options, memo: inout GatewayTranslator.Memo,
        _ what: String
    ) throws {
        let reused = try text(GatewayTranslator.translate(resources, options: options, memo: &memo))
        let fresh = try text(GatewayTranslator.translate(resources, options: options))
        #expect(reused == fresh, "\(what): the memo's translation differs from a fresh one")
    }

    @Test("one memo carried through every golden case, forwards and backwards, changes no translation")
    func acrossCases() throws {
        var memo = GatewayTranslator.Memo()
        for golden in GoldenCase.all + GoldenCase.all.reversed() {
            let options = GatewayTranslator.Options(now: Self.now, rateLimitService: try golden.rateLimitService())
            try Self.check(Self.resources(try golden.inputs()), options: options, memo: &memo, golden.name)
        }
    }

    @Test("the same resources again reuse every route's part", arguments: GoldenCase.names)
    func unchanged(_ name: String) throws {
        let golden = GoldenCase(named: name)
        let options = GatewayTranslator.Options(now: Self.now, rateLimitService: try golden.rateLimitService())
        let resources = Self.resources(try golden.inputs())
        var memo = GatewayTranslator.Memo()
        _ = GatewayTranslator.translate(resources, options: options, memo: &memo)
        try Self.check(resources, options: options, memo: &memo, name)
        if !resources.httpRoutes.isEmpty || !resources.grpcRoutes.isEmpty {
            #expect(memo.reused > 0, "\(name): nothing was reused")
        }
    }

    /// Edits of what a route's part depends on, the route itself unchanged: each must be seen.
    @Test(
        "an edit to a route's backend, listener, policies, siblings or the server's options is not hidden by the memo",
        arguments: [
            ("the Backend's address", "address: 10.0.0.1", "address: 10.0.0.2"),
            ("listener b's hostname", "hostname: b.example.com}", "hostname: c.example.com}"),
            ("listener b's policy, merged under the route policy", "connectTimeout: 7s", "connectTimeout: 9s"),
            ("the Gateway's policy", "connectTimeout: 5s", "connectTimeout: 6s"),
            ("the route policy", "retry: {numRetries: 3}", "retry: {numRetries: 4}"),
            ("the route policy's merge type", "mergeType: StrategicMerge", "mergeType: JSONMerge"),
            (
                "a route policy dropped from a route",
                "  - {group: gateway.networking.k8s.io, kind: HTTPRoute, name: on-b}\n", ""
            ),
            (
                "a route's listener", "parentRefs: [{name: eg, sectionName: a}]",
                "parentRefs: [{name: eg, sectionName: b}]"
            ),
        ])
    func edits(_ what: String, _ before: String, _ after: String) throws {
        try Self.checkEdit(of: "btp-listener-over-gateway", what, before, after)
    }

    /// Edits of what a route's status is judged against, the route and its backends unchanged.
    @Test(
        "an edit to a Gateway or a namespace reaches the status of a route the memo kept",
        arguments: [
            (
                "btp-listener-over-gateway", "listener a renamed", "{name: a, protocol: HTTP",
                "{name: a2, protocol: HTTP"
            ),
            (
                "namespace-selectors", "a namespace's labels", "metadata: {name: blog, labels: {tier: frontend}}",
                "metadata: {name: blog, labels: {tier: backend}}"
            ),
        ])
    func statusEdits(_ golden: String, _ what: String, _ before: String, _ after: String) throws {
        try Self.checkEdit(of: golden, what, before, after)
    }

    /// Overlaps are kept per virtual host: an edit that starts or ends one must reach the routes
    /// on both sides, the unchanged ones too.
    @Test(
        "an edit that starts or ends an overlap reaches every route in it",
        arguments: [
            ("a route moved onto the busy host", "hostnames: [admin.example.com]", "hostnames: [shop.example.com]"),
            (
                "a header value changed", "headers: [{name: x-version, value: \"2\"}, {name: x-tenant",
                "headers: [{name: x-version, value: \"3\"}, {name: x-tenant"
            ),
        ])
    func overlapEdits(_ what: String, _ before: String, _ after: String) throws {
        try Self.checkEdit(of: "route-overlap", what, before, after)
    }

    /// Precedence is kept per virtual host too: an edit that moves a route within its host must
    /// be seen.
    @Test("an edit that changes a route's precedence reorders its host")
    func precedenceEdit() throws {
        try Self.checkEdit(
            of: "http-basic", "a prefix match made exact", "{type: PathPrefix, value: /items/}",
            "{type: Exact, value: /items/}")
    }

    static func checkEdit(of golden: String, _ what: String, _ before: String, _ after: String) throws {
        let files = try GoldenCase(named: golden).inputs()
        let edited = files.map { file in
            (path: file.path, contents: file.contents.replacingOccurrences(of: before, with: after))
        }
        #expect(edited.map(\.contents) != files.map(\.contents), "\(what): the edit did not apply")
        let options = GatewayTranslator.Options(now: Self.now)
        var memo = GatewayTranslator.Memo()
        _ = GatewayTranslator.translate(Self.resources(files), options: options, memo: &memo)
        try Self.check(Self.resources(edited), options: options, memo: &memo, what)
        // And back again.
        try Self.check(Self.resources(files), options: options, memo: &memo, "\(what), undone")
    }

    @Test("turning the rate limit service on, off or moving it reaches routes the memo kept")
    func rateLimitService() throws {
        let golden = GoldenCase(named: "btp-global-rate-limit")
        let resources = Self.resources(try golden.inputs())
        let service = try #require(try golden.rateLimitService())
        var memo = GatewayTranslator.Memo()
        for rateLimitService in [service, nil, service] {
            try Self.check(
                resources, options: .init(now: Self.now, rateLimitService: rateLimitService), memo: &memo,
                "rate limit service \(rateLimitService == nil ? "off" : "on")")
        }
        var moved = service
        moved.port += 1
        try Self.check(resources, options: .init(now: Self.now, rateLimitService: moved), memo: &memo, "service moved")
    }

    /// A policy's index among a translation's policies shifts when an older one goes. A route
    /// whose part was reused must be judged by the policy that governs it now, not by the index
    /// it had two translations ago: here that index comes to name another policy, which takes
    /// over the route once the one governing it is deleted.
    @Test("a reused route part is judged by today's policy indices, not those it was first made with")
    func policyIndicesShift() throws {
        func policy(_ name: String, created: String, route: String, timeout: String) -> String {
            """
            apiVersion: gateway.envoyproxy.io/v1alpha1
            kind: BackendTrafficPolicy
            metadata: {name: \(name), namespace: default, creationTimestamp: "\(created)"}
            spec:
              targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: \(route)}]
              timeout: {tcp: {connectTimeout: \(timeout)}}
            """
        }
        let base = """
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
            metadata: {name: r, namespace: default}
            spec:
              parentRefs: [{name: eg}]
              hostnames: [r.example.com]
              rules: [{backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: app}]}]
            ---
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: other, namespace: default}
            spec:
              parentRefs: [{name: eg}]
              hostnames: [other.example.com]
              rules: [{backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: app}]}]
            """
        let oldest = policy("oldest", created: "2026-01-01T00:00:00Z", route: "other", timeout: "2s")
        let governing = policy("governing", created: "2026-01-02T00:00:00Z", route: "r", timeout: "5s")
        let waiting = policy("waiting", created: "2026-01-03T00:00:00Z", route: "r", timeout: "7s")
        // A file each, so that a policy left alone is equal from one translation to the next.
        let steps = [
            (
                "the oldest policy and the one governing r",
                [("base", base), ("oldest", oldest), ("governing", governing)]
            ),
            (
                "the oldest gone, a newer one for r waiting",
                [("base", base), ("governing", governing), ("waiting", waiting)]
            ),
            ("the governing one gone: the newer one takes r", [("base", base), ("waiting", waiting)]),
        ]
        let options = GatewayTranslator.Options(now: Self.now)
        var memo = GatewayTranslator.Memo()
        for (what, files) in steps {
            let resources = Self.resources(files.map { (path: "\($0).yaml", contents: $1) })
            try Self.check(resources, options: options, memo: &memo, what)
        }
    }

    /// A route for `randomEdits`: what the edits change.
    struct EditedRoute {
        var name: String
        var hostname: String
        var section: String?
        var paths: [String]
        var header: String
        var backend: Int
        /// The first rule's name, which a policy may target.
        var rule = "main"

        var yaml: String {
            let parent = section.map { "{name: eg, sectionName: \($0)}" } ?? "{name: eg}"
            let matches = paths.map {
                "{path: {type: PathPrefix, value: \($0)}, headers: [{name: x-v, value: \(header)}]}"
            }
            return """
                apiVersion: gateway.networking.k8s.io/v1
                kind: HTTPRoute
                metadata: {name: \(name), namespace: default}
                spec:
                  parentRefs: [\(parent)]
                  hostnames: [\(hostname)]
                  rules:
                  - name: \(rule)
                    matches: [\(matches.joined(separator: ", "))]
                    backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: b\(backend)}]
                  - matches: [{path: {type: Exact, value: /\(name)/health}}]
                    backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: b\((backend + 1) % 4)}]
                """
        }
    }

    /// Patching a Gateway's pass must give what the whole pass gives, whatever the edit: most
    /// edits here change one route's values (patched), others its shape, hostnames, listener,
    /// a policy, or delete and add routes (each of which needs the whole pass).
    @Test("200 random route and policy edits: the memo's translation (patched or whole) equals a fresh one")
    func randomEdits() throws {
        var random = SplitMix64(seed: 30)
        let hostnames = ["a.example.com", "x.b.example.com", "y.b.example.com", "c.example.com"]
        // Flow style, a line for each part: listeners "http" and "b" share port 80.
        let gateway = """
            apiVersion: gateway.networking.k8s.io/v1
            kind: Gateway
            metadata: {name: eg, namespace: default}
            spec: {gatewayClassName: eg, listeners: [{name: http, protocol: HTTP, port: 80}, \
            {name: b, protocol: HTTP, port: 80, hostname: "*.b.example.com"}, {name: alt, protocol: HTTP, port: 8080}]}
            """
        let backends = (0..<4).map { index in
            """
            {apiVersion: gateway.envoyproxy.io/v1alpha1, kind: Backend, metadata: {name: b\(index), namespace: default}, \
            spec: {endpoints: [{ip: {address: 10.0.0.\(index + 1), port: 8080}}]}}
            """
        }
        let policyKind = "apiVersion: gateway.envoyproxy.io/v1alpha1\nkind: BackendTrafficPolicy"
        func gatewayPolicy(_ timeout: Int) -> String {
            """
            \(policyKind)
            metadata: {name: gateway-wide, namespace: default}
            spec: {targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: eg}], \
            timeout: {tcp: {connectTimeout: \(timeout)s}}}
            """
        }
        func routePolicy(_ retries: Int, routes: [String]) -> String {
            // And r7's rule "main", when it has one of that name.
            let refs =
                routes.map { "{group: gateway.networking.k8s.io, kind: HTTPRoute, name: \($0)}" }
                + ["{group: gateway.networking.k8s.io, kind: HTTPRoute, name: r7, sectionName: main}"]
            return """
                \(policyKind)
                metadata: {name: some-routes, namespace: default}
                spec: {targetRefs: [\(refs.joined(separator: ", "))], retry: {numRetries: \(retries)}}
                """
        }
        func route(_ index: Int) -> EditedRoute {
            EditedRoute(
                name: "r\(index)", hostname: hostnames.randomElement(using: &random)!,
                section: [nil, nil, "b", "alt"].randomElement(using: &random)!, paths: ["/r\(index)"],
                header: "v\(Int.random(in: 0..<100, using: &random))", backend: Int.random(in: 0..<4, using: &random))
        }
        var routes = (0..<24).map(route)
        var policyValues = (timeout: 5, retries: 2, routes: ["r3", "r5"])
        func resources() -> ResourceSet {
            var files = [
                (path: "gateway.yaml", contents: gateway),
                (path: "backends.yaml", contents: backends.joined(separator: "\n---\n")),
            ]
            files.append((path: "policy-gateway.yaml", contents: gatewayPolicy(policyValues.timeout)))
            files.append(
                (path: "policy-routes.yaml", contents: routePolicy(policyValues.retries, routes: policyValues.routes)))
            // A file each, as operators keep them: an unchanged route is decoded as before.
            files += routes.map { (path: "\($0.name).yaml", contents: $0.yaml) }
            return Self.resources(files)
        }
        let options = GatewayTranslator.Options(now: Self.now)
        var memo = GatewayTranslator.Memo()
        let first = resources()
        #expect(first.diagnostics.isEmpty && first.backendTrafficPolicies.count == 2 && first.backends.count == 4)
        _ = GatewayTranslator.translate(first, options: options, memo: &memo)
        var unpatched = 0
        var routePolicyPatched = 0
        for step in 0..<200 {
            var index = Int.random(in: routes.indices, using: &random)
            let patchedBefore = memo.patchedPasses
            let kind = Int.random(in: 0..<15, using: &random)
            // Half the time, a route that policies target.
            let targeted = ["r3", "r5", "r7"].randomElement(using: &random)!
            if Bool.random(using: &random), let found = routes.firstIndex(where: { $0.name == targeted }) {
                index = found
            }
            switch kind {
            case 0...5: routes[index].header = "v\(Int.random(in: 0..<100, using: &random))"
            case 6: routes[index].paths[0] = "/r\(index)/\(Int.random(in: 0..<5, using: &random))"
            case 7: routes[index].backend = Int.random(in: 0..<4, using: &random)
            case 8:  // a match more or fewer: the route's shape changes
                if routes[index].paths.count > 1 {
                    routes[index].paths.removeLast()
                } else {
                    routes[index].paths.append("/more")
                }
            case 9: routes[index].hostname = hostnames.randomElement(using: &random)!
            case 10: routes[index].section = [nil, "b", "alt"].randomElement(using: &random)!
            case 11:  // what the route policy sets: its routes alone change
                policyValues.retries = policyValues.retries % 4 + 1
            case 12:
                if Bool.random(using: &random) {
                    policyValues.timeout = Int.random(in: 1..<9, using: &random)
                } else {
                    // What the route policy targets: r3 and r5, or one of them.
                    policyValues.routes =
                        policyValues.routes.count == 2 ? [["r3", "r5"].randomElement(using: &random)!] : ["r3", "r5"]
                }
            case 13: routes[index].rule = routes[index].rule == "main" ? "primary" : "main"
            default:
                if routes.count > 20 && Bool.random(using: &random) {
                    routes.remove(at: index)
                } else {
                    routes.insert(route(24 + step), at: index)
                }
            }
            try Self.check(resources(), options: options, memo: &memo, "step \(step), edit \(kind)")
            if memo.patchedPasses == patchedBefore { unpatched += 1 } else if kind == 11 { routePolicyPatched += 1 }
        }
        #expect(routePolicyPatched > 3, "\(routePolicyPatched) route policy edits patched")
        // Value edits (more than half) patch, unless they leave the route as it was or change
        // what a route attaches to.
        #expect(memo.patchedPasses > 80, "\(memo.patchedPasses) of 200 translations patched")
        #expect(unpatched > 30, "\(unpatched) of 200 translations ran the whole pass")
    }

    @Test("a route whose status parents are those of the route before it shares their array")
    func statusParentsShared() throws {
        var pairs = 0
        for golden in GoldenCase.all {
            let options = GatewayTranslator.Options(now: Self.now, rateLimitService: try golden.rateLimitService())
            let status = GatewayTranslator.translate(Self.resources(try golden.inputs()), options: options).status
            for routes in [status.httpRoutes, status.grpcRoutes] {
                for (before, route) in zip(routes, routes.dropFirst()) where before.parents == route.parents {
                    pairs += 1
                    let shared = before.parents.withUnsafeBufferPointer { a in
                        route.parents.withUnsafeBufferPointer { b in a.baseAddress == b.baseAddress }
                    }
                    #expect(shared, "\(golden.name): \(route.name)")
                }
            }
        }
        #expect(pairs > 10, "the golden cases have routes with the parents of the route before them")
    }
}
