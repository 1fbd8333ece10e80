import Foundation
import Testing
import XDSTesting

/// BackendTrafficPolicy behaviour in a real Envoy with real upstreams: one Gateway, one route
/// per feature, one policy per route.
@Suite(
    "BackendTrafficPolicy in a real Envoy",
    .enabled(if: envoyRequired, "no Envoy binary (set ENVOY_BIN or create .venv)"))
struct TrafficPolicyEndToEndTests {
    @Test(
        "circuit breaker fails fast; retries hide 503s; health checks steer traffic; hashing pins; timeouts, rate limits and faults answer"
    )
    func policies() async throws {
        let slow = try await UpstreamServer.start(name: "slow", behavior: .delay(.seconds(2)))
        let flaky = try await UpstreamServer.start(name: "flaky", behavior: .statuses([503, 503]))
        let healthy = try await UpstreamServer.start(name: "healthy")
        let sick = try await UpstreamServer.start(name: "sick", behavior: .always(503))
        let failing = try await UpstreamServer.start(name: "failing", behavior: .always(500))
        let hashed = [
            try await UpstreamServer.start(name: "h0"), try await UpstreamServer.start(name: "h1"),
            try await UpstreamServer.start(name: "h2"),
        ]
        let plain = try await UpstreamServer.start(name: "plain")
        defer {
            Task {
                for upstream in [slow, flaky, healthy, sick, failing, plain] + hashed { await upstream.stop() }
            }
        }
        let port = try freePort()
        func backend(_ name: String, _ upstreams: [UpstreamServer]) -> String {
            """
            ---
            apiVersion: gateway.envoyproxy.io/v1alpha1
            kind: Backend
            metadata: {name: \(name)}
            spec:
              endpoints: [\(upstreams.map { "{ip: {address: 127.0.0.1, port: \($0.port)}}" }.joined(separator: ", "))]

            """
        }
        func route(_ name: String, backend: String) -> String {
            """
            ---
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: \(name)}
            spec:
              parentRefs: [{name: eg}]
              rules:
              - matches: [{path: {value: /\(name)}}]
                backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: \(backend)}]

            """
        }
        func policy(_ route: String, _ body: String) -> String {
            """
            ---
            apiVersion: gateway.envoyproxy.io/v1alpha1
            kind: BackendTrafficPolicy
            metadata: {name: \(route)}
            spec:
              targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: \(route)}]
            \(body.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))

            """
        }
        var yaml = TestManifests.gateway(port: port)
        yaml += backend("slow", [slow]) + backend("flaky", [flaky]) + backend("pair", [healthy, sick])
        yaml += backend("outliers", [healthy, failing]) + backend("hashed", hashed) + backend("plain", [plain])
        yaml += route("breaker", backend: "slow") + policy("breaker", "circuitBreaker: {maxParallelRequests: 10}")
        yaml += route("strict", backend: "slow")
        yaml += policy("strict", "circuitBreaker: {maxPendingRequests: 0, maxParallelRequests: 10}")
        yaml +=
            route("retry", backend: "flaky")
            + policy("retry", "retry: {numRetries: 3, retryOn: {httpStatusCodes: [503]}}")
        yaml += route("active", backend: "pair")
        yaml += policy(
            "active",
            "healthCheck: {active: {type: HTTP, interval: 200ms, timeout: 100ms, unhealthyThreshold: 1, http: {path: /healthz}}}"
        )
        yaml += route("passive", backend: "outliers")
        yaml += policy(
            "passive",
            "healthCheck: {passive: {consecutive5XxErrors: 2, interval: 100ms, baseEjectionTime: 60s, maxEjectionPercent: 50}}"
        )
        yaml += route("hash", backend: "hashed")
        yaml += policy(
            "hash", "loadBalancer: {type: ConsistentHash, consistentHash: {type: Headers, headers: [{name: x-user}]}}")
        yaml += route("timeout", backend: "slow") + policy("timeout", "timeout: {http: {requestTimeout: 300ms}}")
        yaml +=
            route("limited", backend: "plain")
            + policy("limited", "rateLimit: {local: {rules: [{limit: {requests: 3, unit: Minute}}]}}")
        yaml += route("fault", backend: "plain") + policy("fault", "faultInjection: {abort: {httpStatus: 418}}")
        yaml +=
            route("methods", backend: "plain")
            + policy(
                "methods",
                "rateLimit: {local: {rules: [{limit: {requests: 100, unit: Second}}, "
                    + "{clientSelectors: [{methods: [{value: POST}, {value: PUT}]}], limit: {requests: 2, unit: Minute}}]}}"
            )

        try await withEnvoy(serving: yaml, mode: .delta, nodeID: "policies") { envoy, _ in
            let url = "http://127.0.0.1:\(port)"
            let ready = await eventually(timeout: .seconds(60)) { try await HTTP.get("\(url)/hash").status == 200 }
            try #require(ready, "Envoy log:\n\(envoy.log().suffix(2000))")

            // Circuit breaker: 10 in flight to a 2 s upstream; the other 50 fail at once. (With
            // maxPendingRequests 0 as well, Envoy refuses every request that must wait for a new
            // connection, so on a cold pool all 60 fail: Envoy Gateway's own e2e test relies on that.)
            let statuses = await HTTP.concurrentGets("\(url)/breaker", count: 60)
            let succeeded = statuses.filter { $0 == 200 }.count
            let rejected = statuses.filter { $0 == 503 }.count
            #expect((8...12).contains(succeeded), "\(succeeded) succeeded of 60; want about 10 (\(statuses))")
            #expect(rejected >= 45, "\(rejected) got 503")
            // At once: refused by the breaker (its overflow counter), not queued behind the 10.
            #expect(
                try await envoy.stat("cluster.httproute/default/breaker/rule/0.upstream_rq_active_overflow") ?? 0 >= 45)

            let strict = await HTTP.concurrentGets("\(url)/strict", count: 20)
            #expect(strict.allSatisfy { $0 == 503 }, "no pending requests allowed on a cold pool: \(strict)")
            #expect(try await envoy.stat("cluster.httproute/default/strict/rule/0.upstream_rq_pending_overflow") == 20)

            // Retries: two 503s then a 200, and Envoy counts the retries.
            let retried = try await HTTP.get("\(url)/retry")
            #expect(retried.status == 200)
            #expect(flaky.requests == 3)
            #expect(try await envoy.stat("cluster.httproute/default/retry/rule/0.upstream_rq_retry") == 2)

            // Active health check: once the sick upstream fails /healthz, all traffic goes to the healthy one.
            let steered = await eventually(timeout: .seconds(60)) {
                var bodies: [String] = []
                for _ in 0..<10 { bodies.append(try await HTTP.get("\(url)/active").body) }
                return bodies.allSatisfy { $0 == "healthy" }
            }
            #expect(steered, "requests still reach the upstream failing its health check")

            // Passive: the upstream answering 500 is ejected after consecutive errors. Envoy's
            // main thread enforces the ejection after the worker reports the errors, so on a busy
            // machine it can land after the tenth request: keep sending until it does.
            let ejected = await eventually(timeout: .seconds(60)) {
                for _ in 0..<10 { _ = try? await HTTP.get("\(url)/passive") }
                return try await envoy.stat(
                    "cluster.httproute/default/passive/rule/0.outlier_detection.ejections_enforced_total") ?? 0 >= 1
            }
            #expect(ejected, "the upstream answering 500 was never ejected")
            var afterEjection: [String] = []
            for _ in 0..<10 { afterEjection.append(try await HTTP.get("\(url)/passive").body) }
            #expect(afterEjection.allSatisfy { $0 == "healthy" }, "\(afterEjection)")

            // Consistent hash by header: each user always reaches the same upstream.
            var seen = Set<String>()
            for user in ["ann", "bob", "cid", "dee", "eve", "fay", "gus", "hal", "ivy", "jon", "kim", "lee"] {
                var bodies = Set<String>()
                for _ in 0..<8 { bodies.insert(try await HTTP.get("\(url)/hash", headers: ["x-user": user]).body) }
                #expect(bodies.count == 1, "user \(user) reached \(bodies)")
                seen.formUnion(bodies)
            }
            #expect(seen.count >= 2, "twelve users all hashed to \(seen)")

            #expect(try await HTTP.get("\(url)/timeout").status == 504)

            var limited: [Int] = []
            for _ in 0..<5 { limited.append(try await HTTP.get("\(url)/limited").status) }
            #expect(limited == [200, 200, 200, 429, 429])

            #expect(try await HTTP.get("\(url)/fault").status == 418)

            // One rule for POST and PUT: one bucket of 2 that both draw from; GET is not in it.
            var byMethod: [String] = []
            for method in ["POST", "PUT", "POST", "PUT", "GET"] {
                byMethod.append("\(method) \(try await HTTP.get("\(url)/methods", method: method).status)")
            }
            #expect(byMethod == ["POST 200", "PUT 200", "POST 429", "PUT 429", "GET 200"])
        }
    }

    /// The issue's recipe as written: pending 0 and parallel 10. With pending 0, Envoy refuses
    /// every request that would wait for a new connection, so the recipe needs connections kept
    /// ready: predictive preconnect opens the first one, per-endpoint preconnect grows the pool as
    /// requests attach (predictive preconnect is judged against all of a worker's connections, so
    /// this runs in an Envoy of its own). Steady traffic warms the pool; then 10 of a burst of 60
    /// are served and the other 50 are refused at once.
    @Test(
        "maxPendingRequests 0 with maxParallelRequests 10: 10 of 60 served, 50 refused at once, once preconnect keeps the pool warm"
    )
    func pendingZeroOnAWarmPool() async throws {
        let slow = try await UpstreamServer.start(name: "slow", behavior: .delay(.seconds(2)))
        defer { Task { await slow.stop() } }
        let port = try freePort()
        let yaml =
            TestManifests.gatewayWithBackend(listenerPort: port, upstreamPort: slow.port) + "\n" + """
                ---
                apiVersion: gateway.envoyproxy.io/v1alpha1
                kind: BackendTrafficPolicy
                metadata: {name: breaker}
                spec:
                  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: backend}]
                  circuitBreaker: {maxPendingRequests: 0, maxParallelRequests: 10}
                  loadBalancer: {type: RoundRobin}
                  connection: {preconnect: {predictivePercent: 300, perEndpointPercent: 300}}

                """
        try await withEnvoy(serving: yaml, mode: .delta, nodeID: "warm-pool") { envoy, _ in
            let url = "http://127.0.0.1:\(port)/"
            let cluster = "cluster.httproute/default/backend/rule/0"
            let ready = await eventually(timeout: .seconds(60)) {
                try await envoy.stat("\(cluster).membership_healthy") == 1
            }
            try #require(ready, "Envoy log:\n\(envoy.log().suffix(2000))")

            // Steady traffic, a request every 100 ms, until Envoy keeps 10 connections (the first
            // requests find none and are refused); then the pool is let go idle.
            var ramp: [Task<Int, Never>] = []
            var pooled = 0
            let deadline = ContinuousClock.now + .seconds(15)
            while pooled < 10 && ContinuousClock.now < deadline {
                ramp.append(Task { (try? await HTTP.get(url).status) ?? 0 })
                try await Task.sleep(for: .milliseconds(100))
                pooled = try await envoy.stat("\(cluster).upstream_cx_active") ?? 0
            }
            var answered: [Int] = []
            for request in ramp { answered.append(await request.value) }
            try #require(
                pooled >= 10, "connections kept ready after steady traffic: \(pooled) (ramp answered \(answered))")
            #expect(answered.contains(200), "steady traffic is served once connections are ready: \(answered)")

            let refusedBefore = try await envoy.stat("\(cluster).upstream_rq_active_overflow") ?? 0
            let burst = await HTTP.concurrentGets(url, count: 60)
            let served = burst.filter { $0 == 200 }.count
            #expect((8...12).contains(served), "\(served) of 60 served; want about 10 (\(burst))")
            #expect(burst.filter { $0 == 503 }.count >= 45, "\(burst)")
            let refused = (try await envoy.stat("\(cluster).upstream_rq_active_overflow") ?? 0) - refusedBefore
            #expect(refused >= 45, "refused for want of a parallel-request slot: \(refused)")
        }
    }
}
