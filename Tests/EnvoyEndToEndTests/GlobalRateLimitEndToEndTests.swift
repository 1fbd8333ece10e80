import Foundation
import Testing
import XDSTesting

/// Global rate limits end to end: two `switchboard serve` replicas, each serving its own Envoy and
/// running the rate limit service, counting in one real Redis.
@Suite(
    "global rate limits with real Envoys, two replicas and Redis",
    .enabled(if: envoyRequired, "no Envoy binary (set ENVOY_BIN or create .venv)"),
    .enabled(if: RedisServerProcess.required, "redis-server is not installed"))
struct GlobalRateLimitEndToEndTests {
    static let policy = TestManifests.appWithGlobalRateLimit(
        rules: """
            - clientSelectors: [{headers: [{name: x-limited, value: "yes"}]}]
              limit: {requests: 10, unit: Hour}
            - clientSelectors: [{headers: [{name: x-user, type: Distinct}]}]
              limit: {requests: 2, unit: Hour}
            - clientSelectors: [{headers: [{name: x-shadow, value: "yes"}]}]
              limit: {requests: 1, unit: Hour}
              shadowMode: true
            - clientSelectors: [{sourceCIDR: {value: 127.0.0.1/32}, headers: [{name: x-cidr, value: "yes"}]}]
              limit: {requests: 2, unit: Hour}
            """)

    struct Replica {
        var serve: Process
        var envoy: EnvoyProcess
        var listenerPort: Int
        var adminPort: Int
        var directory: URL
    }

    @Test(
        "10 an hour shared by two Envoys behind two replicas lets exactly 10 through; Distinct, sourceCIDR and shadow rules; Redis down lets traffic through, counts and times the errors and holds up no edit; Redis back enforces again"
    )
    func sharedLimit() async throws {
        let redis = try await RedisServerProcess.start()
        defer { redis.terminate() }
        let upstream = try await UpstreamServer.start(name: "app")
        defer { Task { await upstream.stop() } }
        var replicas: [Replica] = []
        defer {
            for replica in replicas where replica.serve.isRunning { replica.serve.terminate() }
        }
        for index in 0..<2 {
            let listenerPort = try freePort()
            let (xdsPort, adminPort, rateLimitPort) = (try freePort(), try freePort(), try freePort())
            let directory = try SwitchboardCommand.configDirectory(
                "global-rate-limit-\(index)",
                files: [
                    "gateway.yaml": TestManifests.gatewayAndApp(listenerPort: listenerPort, upstreamPort: upstream.port)
                        + "---\n" + Self.policy
                ])
            // A busy machine answers in more than Envoy's default 20 ms; fail-open would then hide
            // the limit, so Envoy waits for the decision.
            let serve = try SwitchboardCommand.serve(
                config: directory, xdsPort: xdsPort, adminPort: adminPort,
                extra: [
                    "--ratelimit-address", "127.0.0.1:\(rateLimitPort)", "--ratelimit-redis",
                    "127.0.0.1:\(redis.port)", "--ratelimit-timeout", "10s",
                ])
            let envoy = try await EnvoyProcess.start(
                bootstrap: try SwitchboardCommand.bootstrap(xdsPort: xdsPort, gateway: "default/eg", delta: index == 1))
            replicas.append(
                Replica(
                    serve: serve, envoy: envoy, listenerPort: listenerPort, adminPort: adminPort,
                    directory: directory))
        }
        for replica in replicas {
            let ready = await eventually(timeout: .seconds(90)) {
                try await HTTP.get("http://127.0.0.1:\(replica.listenerPort)/").status == 200
            }
            try #require(ready, "Envoy log:\n\(replica.envoy.log().suffix(2000))")
        }
        try await Self.awayFromTheHour()

        func send(_ headers: [String: String], to index: Int) async throws -> HTTP.Response {
            try await HTTP.get("http://127.0.0.1:\(replicas[index % 2].listenerPort)/", headers: headers)
        }
        // Exactly ten of fifteen, alternating Envoys: one counter in Redis.
        var statuses: [Int] = []
        var refused: HTTP.Response?
        for index in 0..<15 {
            let response = try await send(["x-limited": "yes"], to: index)
            statuses.append(response.status)
            if response.status == 429 { refused = refused ?? response }
        }
        #expect(statuses.filter { $0 == 200 }.count == 10, "\(statuses)")
        #expect(statuses.filter { $0 == 429 }.count == 5, "\(statuses)")
        #expect(refused?.headers["x-ratelimit-limit"] == "10, 10;w=3600")
        #expect(refused?.headers["x-ratelimit-remaining"] == "0")
        #expect(Int(refused?.headers["x-ratelimit-reset"] ?? "") ?? 0 > 0)
        // A request the rules do not select is not counted.
        #expect(try await send([:], to: 0).status == 200)

        // Distinct: each user on their own.
        let alice = [
            try await send(["x-user": "alice"], to: 0), try await send(["x-user": "alice"], to: 1),
            try await send(["x-user": "alice"], to: 0),
        ].map(\.status)
        #expect(alice == [200, 200, 429])
        #expect(try await send(["x-user": "bob"], to: 1).status == 200)
        // The client's address inside 127.0.0.1/32.
        let cidr = try await (0..<3).asyncMap { try await send(["x-cidr": "yes"], to: $0).status }
        #expect(cidr == [200, 200, 429])
        // Shadow mode: over its limit of 1, and let through.
        let shadow = try await (0..<3).asyncMap { try await send(["x-shadow": "yes"], to: $0).status }
        #expect(shadow == [200, 200, 200])

        // Redis gone: the service fails fast, Envoy lets traffic through (fail open, Envoy
        // Gateway's default) and the replica counts the errors.
        redis.terminate()
        let open = try await (0..<3).asyncMap { try await send(["x-limited": "yes"], to: $0).status }
        #expect(open == [200, 200, 200])
        let metrics = try await HTTP.get("http://127.0.0.1:\(replicas[0].adminPort)/metrics").body
        func counted(_ name: String, _ labels: [String]) -> Double {
            metrics.split(separator: "\n").filter { line in
                line.hasPrefix(name + "{") && labels.allSatisfy { line.contains($0) }
            }.compactMap { Double($0.split(separator: " ").last ?? "") }.reduce(0, +)
        }
        let domain = "domain=\"default/eg/http\""
        #expect(counted("ratelimit_decisions_total", [domain, "result=\"error\""]) > 0, "\(metrics)")
        // Every decision is timed, the failed ones too: a dead or slow Redis shows in the latency.
        let timed = metrics.split(separator: "\n").first { $0.hasPrefix("ratelimit_store_seconds_count") }
            .flatMap { Double($0.split(separator: " ").last ?? "") }
        #expect(timed ?? 0 >= counted("ratelimit_decisions_total", [domain]), "\(metrics)")
        // By descriptor, named by its route: the refusals and the shadowed ones seen on this replica.
        let route = "descriptor=\"httproute/default/app/rule/0/match/0/"
        #expect(counted("ratelimit_descriptor_decisions_total", [domain, route, "result=\"over_limit\""]) > 0)
        #expect(counted("ratelimit_descriptor_decisions_total", [domain, route, "result=\"shadow_mode\""]) > 0)

        // ADS does not wait for Redis: an edit made while it is down reaches Envoy. /moved goes to
        // the app (200) until a route of its own, to a Backend that does not exist, answers 500.
        #expect(try await HTTP.get("http://127.0.0.1:\(replicas[0].listenerPort)/moved").status == 200)
        try """
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: moved}
        spec:
          parentRefs: [{name: eg}]
          rules:
          - matches: [{path: {value: /moved}}]
            backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: missing}]
        """.write(to: replicas[0].directory.appendingPathComponent("moved.yaml"), atomically: true, encoding: .utf8)
        let edited = await eventually(timeout: .seconds(60)) {
            try await HTTP.get("http://127.0.0.1:\(replicas[0].listenerPort)/moved").status == 500
        }
        #expect(edited, "an edit made while Redis was down did not reach Envoy")

        // Redis back (empty): the limit holds again once the replicas have reconnected.
        let restarted = try await RedisServerProcess.start(port: redis.port)
        defer { restarted.terminate() }
        let enforced = await eventually(timeout: .seconds(60)) {
            try await send(["x-limited": "yes"], to: 0).status == 429
        }
        #expect(enforced)
        for replica in replicas { await replica.envoy.stop() }
    }

    /// Waits until the hour is at least a minute from its end: the limits count per clock hour, and
    /// a window ending mid-test would reset them.
    static func awayFromTheHour() async throws {
        let left = 3600 - Int(Date().timeIntervalSince1970) % 3600
        if left < 60 { try await Task.sleep(for: .seconds(left + 1)) }
    }
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
