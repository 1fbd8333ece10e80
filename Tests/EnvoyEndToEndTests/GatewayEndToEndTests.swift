import Foundation
import GatewayAPI
import GatewayTranslator
import Testing
import XDSCache
import XDSServer
import XDSTesting
import XDSTranslator

@Suite("Gateway API YAML to a real Envoy", .enabled(if: envoyRequired, "no Envoy binary (set ENVOY_BIN or create .venv)"))
struct GatewayEndToEndTests {
    @Test("a Gateway, an HTTPRoute and Backends in YAML route real traffic by path and host")
    func yamlToTraffic() async throws {
        let web = try await UpstreamServer.start(name: "web")
        let api = try await UpstreamServer.start(name: "api")
        defer { Task { await web.stop(); await api.stop() } }
        let port = try freePort()
        let yaml = """
            apiVersion: gateway.networking.k8s.io/v1
            kind: Gateway
            metadata: {name: eg}
            spec:
              gatewayClassName: envoy
              listeners: [{name: http, port: \(port), protocol: HTTP}]
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
        let resources = ResourceSet.load([("gateway.yaml", yaml)])
        try #require(resources.diagnostics.isEmpty, "\(resources.diagnostics)")
        let config = try #require(GatewayTranslator.translate(resources).configs.first)
        let cache = SnapshotCache()
        try cache.setSnapshot(try SnapshotTranslator.snapshot(config), for: config.key)

        try await withADSServer(watcher: cache) { server, xdsPort in
            let envoy = try await EnvoyProcess.start(
                bootstrap: EnvoyProcess.bootstrap(xdsPort: xdsPort, mode: .delta, nodeID: "gw", nodeCluster: config.key))
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
            await envoy.stop()
        }
    }
}
