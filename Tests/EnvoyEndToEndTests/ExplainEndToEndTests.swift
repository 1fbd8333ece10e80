import Explain
import Foundation
import GatewayAPI
import Testing
import XDSTesting

/// `explain` against what Envoy actually runs: the names it gives are in Envoy's config_dump,
/// and the settings it says are in effect are the values Envoy holds.
@Suite(
    "explain agrees with a real Envoy's config_dump",
    .enabled(if: envoyRequired, "no Envoy binary (set ENVOY_BIN or create .venv)"))
struct ExplainEndToEndTests {
    @Test func explainedSettingsAreWhatEnvoyRuns() async throws {
        let upstream = try await UpstreamServer.start(name: "explained")
        defer { Task { await upstream.stop() } }
        let port = try freePort()
        let yaml =
            TestManifests.gatewayAndApp(listenerPort: port, upstreamPort: upstream.port) + """
                ---
                apiVersion: gateway.networking.k8s.io/v1
                kind: HTTPRoute
                metadata: {name: shop}
                spec:
                  parentRefs: [{name: eg}]
                  rules:
                  - name: orders
                    matches: [{path: {value: /orders}}]
                    backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: app}]
                ---
                apiVersion: gateway.envoyproxy.io/v1alpha1
                kind: BackendTrafficPolicy
                metadata: {name: gateway-wide}
                spec:
                  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: eg}]
                  timeout: {tcp: {connectTimeout: 7s}}
                  circuitBreaker: {maxConnections: 50}
                  retry: {numRetries: 1}
                ---
                apiVersion: gateway.envoyproxy.io/v1alpha1
                kind: BackendTrafficPolicy
                metadata: {name: orders}
                spec:
                  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: shop, sectionName: orders}]
                  mergeType: StrategicMerge
                  retry: {numRetries: 4}
                  circuitBreaker: {maxParallelRequests: 30}

                """
        let resources = ResourceSet.load([("config.yaml", yaml)])
        let explainer = Explainer(resources)
        let explained = try #require(
            try explainer.explain(ExplainRequest(parsing: "GET http://localhost:\(port)/orders/7")).first)
        #expect(explained.ruleName == "orders")
        #expect(explained.policies.map(\.name) == ["default/orders", "default/gateway-wide"])
        let values = Dictionary(
            explained.settings.map { ($0.field, $0.value) }, uniquingKeysWith: { first, _ in first })
        @Sendable func value(_ field: String) -> String? { values[field] }

        try await withEnvoy(serving: yaml, mode: .sotw, nodeID: "explain") { envoy, _ in
            let ready = await eventually(timeout: .seconds(60)) {
                try await HTTP.get("http://127.0.0.1:\(port)/orders/7").status == 200
            }
            try #require(ready, "Envoy log:\n\(envoy.log().suffix(2000))")
            let dump = try await envoy.configDump()
            // The names: listener, route configuration, virtual host, route and cluster.
            #expect(dump.listeners[explained.envoy.listener] != nil, "\(dump.listeners.keys)")
            let routeConfig = try #require(dump.routeConfigs[explained.envoy.listener])
            let routes = try JSONSerialization.jsonObject(with: Data(routeConfig.utf8)) as? [String: Any]
            let host = try #require(
                (routes?["virtual_hosts"] as? [[String: Any]])?.first {
                    $0["name"] as? String == explained.envoy.virtualHosts.first
                })
            let route = try #require(
                (host["routes"] as? [[String: Any]])?.first { $0["name"] as? String == explained.envoy.routes.first })
            let action = try #require(route["route"] as? [String: Any])
            #expect(explained.envoy.clusters == [action["cluster"] as? String ?? ""])
            let clusterText = try #require(dump.clusterConfigs[explained.envoy.clusters[0]])
            let cluster = try #require(try JSONSerialization.jsonObject(with: Data(clusterText.utf8)) as? [String: Any])

            // The values, merged from two policies, as Envoy holds them.
            let retry = action["retry_policy"] as? [String: Any]
            #expect(value("retry.numRetries") == "4")
            #expect("\(retry?["num_retries"] ?? "none")" == value("retry.numRetries"))
            #expect(value("timeout.tcp.connectTimeout") == "7s")
            #expect(cluster["connect_timeout"] as? String == value("timeout.tcp.connectTimeout"))
            let thresholds = (cluster["circuit_breakers"] as? [String: Any])?["thresholds"] as? [[String: Any]]
            #expect(value("circuitBreaker.maxConnections") == "50")
            #expect("\(thresholds?.first?["max_connections"] ?? "none")" == value("circuitBreaker.maxConnections"))
            #expect(value("circuitBreaker.maxParallelRequests") == "30")
            #expect("\(thresholds?.first?["max_requests"] ?? "none")" == value("circuitBreaker.maxParallelRequests"))
            // A default it names is Envoy's: the pending-request limit written as the CRD's 1024.
            #expect(value("circuitBreaker.maxPendingRequests") == "1024")
            #expect("\(thresholds?.first?["max_pending_requests"] ?? "1024")" == "1024")
        }
    }
}
