import EnvoyAPI
import GatewayAPI
import GatewayIR
import Testing
import XDSCache
import XDSTesting
import XDSTranslator

@testable import GatewayTranslator

@Suite("Gateway translation")
struct TranslationPipelineTests {
    static let gateway = """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: eg, namespace: infra}
        spec:
          gatewayClassName: envoy
          listeners:
          - {name: http, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}
          - {name: www, port: 80, protocol: HTTP, hostname: "*.example.com", allowedRoutes: {namespaces: {from: All}}}
          - {name: internal, port: 8080, protocol: HTTP}
        ---
        apiVersion: gateway.envoyproxy.io/v1alpha1
        kind: Backend
        metadata: {name: api, namespace: apps}
        spec:
          endpoints: [{ip: {address: 10.0.0.1, port: 3000}}]
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: web, namespace: apps}
        spec:
          ports: [{name: http, port: 80, targetPort: 8080}]
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: web-1, namespace: apps, labels: {kubernetes.io/service-name: web}}
        addressType: IPv4
        endpoints:
        - {addresses: [10.1.0.1], conditions: {ready: true}}
        - {addresses: [10.1.0.2], conditions: {ready: false, terminating: true}}
        - {addresses: [10.1.0.3], conditions: {ready: false}}
        ports: [{name: http, port: 8080}]
        """

    static let routes = """
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: shop, namespace: apps}
        spec:
          parentRefs: [{name: eg, namespace: infra, sectionName: www}]
          hostnames: [shop.example.com, other.org]
          rules:
          - matches: [{path: {type: PathPrefix, value: /}}]
            backendRefs: [{name: web, port: 80}]
          - matches: [{path: {type: PathPrefix, value: /api}}, {path: {type: Exact, value: /api/health}}]
            backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: api}]
          - matches: [{path: {type: PathPrefix, value: /missing}}]
            backendRefs: [{name: nowhere, port: 80}]
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: private, namespace: apps}
        spec:
          parentRefs: [{name: eg, namespace: infra, sectionName: internal}]
          rules: [{backendRefs: [{name: web, port: 80}]}]
        """

    func translate() throws -> GatewayConfig {
        let resources = ResourceSet.load([("gw.yaml", Self.gateway), ("routes.yaml", Self.routes)])
        try #require(resources.diagnostics.isEmpty, "\(resources.diagnostics)")
        return try #require(GatewayTranslator.translate(resources).configs.first)
    }

    @Test("listeners on one port share an Envoy listener named after the first; ports below 1024 move up 10000")
    func listeners() throws {
        let config = try translate()
        #expect(config.key == "infra/eg")
        #expect(config.listeners.map(\.name) == ["infra/eg/http", "infra/eg/internal"])
        #expect(config.listeners.map(\.port) == [10080, 8080])
        #expect(
            config.listeners[1].virtualHosts.isEmpty, "the internal listener only allows routes from its own namespace")
    }

    @Test(
        "virtual hosts per hostname in the listener's wildcard; routes named as Envoy Gateway names them, in precedence order"
    )
    func routes() throws {
        let listener = try #require(try translate().listeners.first)
        #expect(
            listener.virtualHosts.map(\.name) == ["infra/eg/http/shop_example_com"],
            "other.org is outside *.example.com")
        let routes = listener.virtualHosts[0].routes
        #expect(
            routes.map(\.name) == [
                "httproute/apps/shop/rule/1/match/1/shop_example_com",
                "httproute/apps/shop/rule/2/match/0/shop_example_com",
                "httproute/apps/shop/rule/1/match/0/shop_example_com",
                "httproute/apps/shop/rule/0/match/0/shop_example_com",
            ])
        #expect(routes.map(\.path) == [.exact("/api/health"), .prefix("/missing"), .prefix("/api"), .prefix("/")])
        #expect(routes[1].action == .directResponse(status: 500), "a rule whose backends do not resolve answers 500")
        #expect(routes[0].action == .forward(cluster: "httproute/apps/shop/rule/1"))
    }

    @Test("clusters: a Backend's endpoints, a Service's ready and draining endpoints at the slice's port")
    func clusters() throws {
        let clusters = try translate().clusters
        #expect(clusters.map(\.name) == ["httproute/apps/shop/rule/0", "httproute/apps/shop/rule/1"])
        #expect(
            clusters[0].groups.first?.endpoints == [
                Endpoint(host: "10.1.0.1", port: 8080), Endpoint(host: "10.1.0.2", port: 8080, draining: true),
            ])
        #expect(clusters[1].groups.first?.endpoints == [Endpoint(host: "10.0.0.1", port: 3000)])
    }

    @Test("hostname intersection follows Gateway API wildcards")
    func hostnames() {
        #expect(GatewayTranslator.hostnames(listener: nil, route: []) == ["*"])
        #expect(GatewayTranslator.hostnames(listener: "a.com", route: []) == ["a.com"])
        #expect(GatewayTranslator.hostnames(listener: "*.a.com", route: ["x.a.com", "b.com"]) == ["x.a.com"])
        #expect(GatewayTranslator.hostnames(listener: "x.a.com", route: ["*.a.com"]) == ["x.a.com"])
    }
}

@Suite("Policy edits")
struct PolicyEditTests {
    static func yaml(connectTimeout: String) -> String {
        """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: eg}
        spec:
          gatewayClassName: eg
          listeners: [{name: http, port: 80, protocol: HTTP}]
        ---
        apiVersion: gateway.envoyproxy.io/v1alpha1
        kind: Backend
        metadata: {name: app}
        spec: {endpoints: [{ip: {address: 10.0.0.1, port: 80}}]}
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: a}
        spec:
          parentRefs: [{name: eg}]
          rules: [{matches: [{path: {value: /a}}], backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: app}]}]
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: b}
        spec:
          parentRefs: [{name: eg}]
          rules: [{matches: [{path: {value: /b}}], backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: app}]}]
        ---
        apiVersion: gateway.envoyproxy.io/v1alpha1
        kind: BackendTrafficPolicy
        metadata: {name: a}
        spec:
          targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: a}]
          timeout: {tcp: {connectTimeout: \(connectTimeout)}}
          retry: {numRetries: 4}
        """
    }

    static func snapshot(_ yaml: String) throws -> Snapshot {
        let resources = ResourceSet.load([("p.yaml", yaml)])
        try #require(resources.diagnostics.isEmpty, "\(resources.diagnostics)")
        return try SnapshotTranslator.snapshot(try #require(GatewayTranslator.translate(resources).configs.first))
    }

    @Test("a policy value edit changes only the cluster it governs: every other resource keeps its version")
    func onlyAffectedResourcesChange() throws {
        let before = try Self.snapshot(Self.yaml(connectTimeout: "3s"))
        let after = try Self.snapshot(Self.yaml(connectTimeout: "4s"))
        var changed: [String] = []
        for type in ResourceType.allCases {
            for name in Set(before[type].names + after[type].names).sorted()
            where before[type][name]?.version != after[type][name]?.version {
                changed.append("\(type):\(name)")
            }
        }
        #expect(changed == ["cds:httproute/default/a/rule/0"])
    }

    @Test("after a policy edit, a delta stream receives only the changed cluster")
    func deltaSendsOnlyTheChange() async throws {
        let group = "default/eg"
        let cache = SnapshotCache()
        try cache.setSnapshot(try Self.snapshot(Self.yaml(connectTimeout: "3s")), for: group)
        try await withInProcessADS(watcher: cache) { client, _ in
            try await ADSTestClient.withDeltaStream(client) { stream in
                var request = Envoy_Service_Discovery_V3_DeltaDiscoveryRequest()
                request.typeURL = ResourceType.cluster.typeURL
                request.node = ADSTestClient.node(id: "envoy-1", cluster: group)
                stream.send(request)
                var responses = stream.responses.makeAsyncIterator()
                let first = try #require(try await responses.next())
                #expect(
                    first.resources.map(\.name).sorted() == [
                        "httproute/default/a/rule/0", "httproute/default/b/rule/0",
                    ])
                var ack = Envoy_Service_Discovery_V3_DeltaDiscoveryRequest()
                ack.typeURL = ResourceType.cluster.typeURL
                ack.responseNonce = first.nonce
                stream.send(ack)

                try cache.setSnapshot(try Self.snapshot(Self.yaml(connectTimeout: "4s")), for: group)
                let second = try #require(try await responses.next())
                #expect(second.resources.map(\.name) == ["httproute/default/a/rule/0"])
                #expect(second.removedResources.isEmpty)
            }
        }
    }
}
