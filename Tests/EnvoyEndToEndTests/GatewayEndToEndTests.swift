import Foundation
import GatewayAPI
import GatewayTranslator
import Testing
import XDSCache
import XDSServer
import XDSTesting
import XDSTranslator

@Suite(
    "Gateway API YAML to a real Envoy", .enabled(if: envoyRequired, "no Envoy binary (set ENVOY_BIN or create .venv)"))
struct GatewayEndToEndTests {
    @Test("a Gateway, an HTTPRoute and Backends in YAML route real traffic by path and host")
    func yamlToTraffic() async throws {
        let web = try await UpstreamServer.start(name: "web")
        let api = try await UpstreamServer.start(name: "api")
        defer {
            Task {
                await web.stop()
                await api.stop()
            }
        }
        let port = try freePort()
        let yaml =
            TestManifests.gateway(port: port) + """
                ---
                apiVersion: gateway.networking.k8s.io/v1
                kind: HTTPRoute
                metadata: {name: site}
                spec:
                  parentRefs: [{name: eg}]
                  hostnames: [www.example.com]
                  rules:
                  - backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: web}]
                  - matches: [{path: {type: PathPrefix, value: /api}}]
                    filters:
                    - type: ResponseHeaderModifier
                      responseHeaderModifier: {set: [{name: x-served-by, value: switchboard}], remove: [x-upstream]}
                    backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: api}]
                ---
                apiVersion: gateway.envoyproxy.io/v1alpha1
                kind: Backend
                metadata: {name: web}
                spec: {endpoints: [{ip: {address: 127.0.0.1, port: \(web.port)}}]}
                ---
                apiVersion: gateway.envoyproxy.io/v1alpha1
                kind: Backend
                metadata: {name: api}
                spec: {endpoints: [{ip: {address: 127.0.0.1, port: \(api.port)}}]}
                """
        try await withEnvoy(serving: yaml, mode: .delta, nodeID: "gw") { envoy, server in
            let url = "http://127.0.0.1:\(port)"
            let host = ["Host": "www.example.com"]
            let ready = await eventually { try await HTTP.get("\(url)/", headers: host).body == "web" }
            #expect(ready, "Envoy log:\n\(envoy.log().suffix(2000))")
            let apiResponse = try await HTTP.get("\(url)/api/users", headers: host)
            #expect(apiResponse.body == "api")
            #expect(apiResponse.headers["x-served-by"] == "switchboard", "the response header modifier ran in Envoy")
            #expect(apiResponse.headers["x-upstream"] == nil)
            #expect(try await HTTP.get("\(url)/", headers: host).headers["x-upstream"] == "web")
            #expect(try await HTTP.get("\(url)/apiary", headers: host).body == "web", "a prefix matches whole segments")
            #expect(try await HTTP.get("\(url)/", headers: ["Host": "other.org"]).status == 404)
            #expect(server.registry.streams.first?.types.values.allSatisfy { $0.lastNack == nil } == true)
        }
    }
}

@Suite(
    "HTTPRoute filters and rule settings in a real Envoy",
    .enabled(if: envoyRequired, "no Envoy binary (set ENVOY_BIN or create .venv)"))
struct RouteBehaviourEndToEndTests {
    @Test(
        "URL rewrites reach the upstream rewritten; a redirect answers 301; a request timeout answers 504; retries turn 503s into a 200"
    )
    func behaviour() async throws {
        let app = try await UpstreamServer.start(name: "app")
        let slow = try await UpstreamServer.start(name: "slow", behavior: .delay(.seconds(2)))
        let flaky = try await UpstreamServer.start(name: "flaky", behavior: .statuses([503, 503]))
        defer {
            Task {
                await app.stop()
                await slow.stop()
                await flaky.stop()
            }
        }
        let port = try freePort()
        func backend(_ name: String, _ upstream: UpstreamServer) -> String {
            """
            ---
            apiVersion: gateway.envoyproxy.io/v1alpha1
            kind: Backend
            metadata: {name: \(name)}
            spec: {endpoints: [{ip: {address: 127.0.0.1, port: \(upstream.port)}}]}

            """
        }
        let yaml =
            TestManifests.gateway(port: port) + """
                ---
                apiVersion: gateway.networking.k8s.io/v1
                kind: HTTPRoute
                metadata: {name: behaviour}
                spec:
                  parentRefs: [{name: eg}]
                  rules:
                  - matches: [{path: {value: /api/}}]
                    filters: [{type: URLRewrite, urlRewrite: {hostname: internal.example.com, path: {type: ReplacePrefixMatch, replacePrefixMatch: /v2/}}}]
                    backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: app}]
                  - matches: [{path: {value: /strip}}]
                    filters: [{type: URLRewrite, urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /}}}]
                    backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: app}]
                  - matches: [{path: {type: Exact, value: /status}}]
                    filters: [{type: URLRewrite, urlRewrite: {path: {type: ReplaceFullPath, replaceFullPath: /healthz}}}]
                    backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: app}]
                  - matches: [{path: {value: /old}}]
                    filters: [{type: RequestRedirect, requestRedirect: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /new}, statusCode: 301}}]
                  - matches: [{path: {value: /slow}}]
                    timeouts: {request: 500ms}
                    backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: slow}]
                  - matches: [{path: {value: /flaky}}]
                    retry: {attempts: 2, codes: [503]}
                    backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: flaky}]

                """ + backend("app", app) + backend("slow", slow) + backend("flaky", flaky)
        try await withEnvoy(serving: yaml, mode: .sotw, nodeID: "behaviour") { envoy, _ in
            let url = "http://127.0.0.1:\(port)"
            let ready = await eventually { try await HTTP.get("\(url)/status").status == 200 }
            try #require(ready, "Envoy log:\n\(envoy.log().suffix(2000))")

            let rewritten = try await HTTP.get("\(url)/api/users?page=2", headers: ["Host": "www.example.com"])
            #expect(rewritten.headers["x-path"] == "/v2/users?page=2")
            #expect(rewritten.headers["x-host"] == "internal.example.com")
            #expect(try await HTTP.get("\(url)/strip/x/y").headers["x-path"] == "/x/y")
            #expect(try await HTTP.get("\(url)/strip").headers["x-path"] == "/")
            #expect(try await HTTP.get("\(url)/status").headers["x-path"] == "/healthz")

            let redirect = try await HTTP.get(
                "\(url)/old/page", headers: ["Host": "www.example.com"], followRedirects: false)
            #expect(redirect.status == 301)
            #expect(redirect.headers["location"] == "http://www.example.com:\(port)/new/page")

            // Envoy's own answer when the route's 500ms timeout cuts the 2s upstream short.
            let timedOut = try await HTTP.get("\(url)/slow")
            #expect(timedOut.status == 504 && timedOut.body == "upstream request timeout", "\(timedOut)")

            let retried = try await HTTP.get("\(url)/flaky")
            #expect(retried.status == 200)
            #expect(retried.body == "flaky")
            #expect(flaky.requests == 3, "two 503s retried, then the 200")
            #expect(try await envoy.stat("cluster.httproute/default/behaviour/rule/5.upstream_rq_retry") == 2)
        }
    }
}

/// Translates `yaml` (which must be valid and hold one Gateway), serves it over ADS and runs
/// `body` with an Envoy of that Gateway; stops the Envoy afterwards.
func withEnvoy(
    serving yaml: String, mode: EnvoyProcess.Mode, nodeID: String,
    _ body: @Sendable (EnvoyProcess, ADSServer) async throws -> Void
) async throws {
    let resources = ResourceSet.load([("config.yaml", yaml)])
    try #require(resources.diagnostics.isEmpty, "\(resources.diagnostics)")
    let config = try #require(GatewayTranslator.translate(resources).configs.first)
    let cache = SnapshotCache()
    try cache.setSnapshot(try SnapshotTranslator.snapshot(config), for: config.key)
    try await withADSServer(watcher: cache) { server, xdsPort in
        let envoy = try await EnvoyProcess.start(
            bootstrap: EnvoyProcess.bootstrap(xdsPort: xdsPort, mode: mode, nodeID: nodeID, nodeCluster: config.key))
        do {
            try await body(envoy, server)
        } catch {
            await envoy.stop()
            throw error
        }
        await envoy.stop()
    }
}
