import ControlPlane
import Foundation
import Testing
import XDSTesting

/// deploy/ without Docker: the compose setup's pieces run as processes, and replicas hand an
/// Envoy over without changing its configuration.
@Suite("deploy/ with a real Envoy", .enabled(if: envoyRequired, "no Envoy binary (set ENVOY_BIN or create .venv)"))
struct DeployEndToEndTests {
    static let deploy = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../deploy").standardizedFileURL

    /// A deploy/envoy bootstrap with only its addresses changed: the compose service name becomes
    /// loopback, and the fixed ports become free ones.
    static func bootstrap(_ file: String, xdsPort: Int) throws -> String {
        let text = try String(contentsOf: deploy.appendingPathComponent("envoy/\(file)"), encoding: .utf8)
        let xds = #"{address: "switchboard", port_value: 18000}"#
        let admin = #"{address: "0.0.0.0", port_value: 19901}"#
        #expect(
            text.components(separatedBy: xds).count == 2 && text.components(separatedBy: admin).count == 2,
            "\(file):\n\(text)")
        return text.replacingOccurrences(of: xds, with: #"{address: "127.0.0.1", port_value: \#(xdsPort)}"#)
            .replacingOccurrences(of: admin, with: #"{address: "127.0.0.1", port_value: 0}"#)
    }

    @Test(
        "deploy/envoy bootstraps, used as docker-compose uses them, get the quickstart from `switchboard serve`",
        arguments: ["bootstrap-ads.yaml", "bootstrap-delta-ads.yaml"])
    func composeBootstrap(file: String) async throws {
        let blue = try await UpstreamServer.start(name: "blue")
        let green = try await UpstreamServer.start(name: "green")
        defer {
            Task {
                await blue.stop()
                await green.stop()
            }
        }
        let listenerPort = try freePort()
        let xdsPort = try freePort()
        let directory = try QuickstartEndToEndTests.copy(blue: blue.port, green: green.port, listener: listenerPort)
        let serve = try SwitchboardCommand.serve(config: directory, xdsPort: xdsPort)
        defer { if serve.isRunning { serve.terminate() } }
        let envoy = try await EnvoyProcess.start(bootstrap: try Self.bootstrap(file, xdsPort: xdsPort))
        let url = "http://127.0.0.1:\(listenerPort)/"
        let ready = await eventually(timeout: .seconds(60)) {
            try await HTTP.get(url, headers: ["Host": "www.example.com", "x-canary": "true"]).body == "green"
        }
        #expect(ready, "Envoy log:\n\(envoy.log().suffix(2000))")
        #expect(try await envoy.configDump().listeners.count == 1)
        await envoy.stop()
    }

    /// Connected Envoys' node IDs, from a replica's /status.
    static func connected(adminPort: Int) async -> [String] {
        let envoys = (try? await switchboardStatus(adminPort: adminPort))?.envoys ?? []
        return envoys.filter {
            !$0.types.isEmpty && $0.types.values.allSatisfy { $0.acked != nil && $0.acked == $0.sent }
        }.map(\.nodeID)
    }

    @Test(
        "replicas are deterministic: an Envoy moved from replica A to B (A killed) gets no changed resource",
        arguments: [EnvoyProcess.Mode.sotw, .delta])
    func replicaHandOver(mode: EnvoyProcess.Mode) async throws {
        let blue = try await UpstreamServer.start(name: "blue")
        let green = try await UpstreamServer.start(name: "green")
        defer {
            Task {
                await blue.stop()
                await green.stop()
            }
        }
        let listenerPort = try freePort()
        let directory = try QuickstartEndToEndTests.copy(blue: blue.port, green: green.port, listener: listenerPort)
        // Two processes on the same files, as two Deployment replicas behind a Service.
        let ports = [try freePort(), try freePort()]
        let admins = [try freePort(), try freePort()]
        let replicas = try (0..<2).map {
            try SwitchboardCommand.serve(config: directory, xdsPort: ports[$0], adminPort: admins[$0])
        }
        defer { for replica in replicas where replica.isRunning { replica.terminate() } }

        // Both replicas are endpoints of Envoy's xDS cluster; it streams from one at a time.
        let bootstrap = try SwitchboardCommand.bootstrap(
            xdsPort: ports[0], gateway: "default/eg", delta: mode == .delta,
            extra: ["--xds-address", "127.0.0.1:\(ports[1])", "--node-id", "moved-\(mode)"])
        let envoy = try await EnvoyProcess.start(bootstrap: bootstrap)
        let url = "http://127.0.0.1:\(listenerPort)/"
        let host = ["Host": "www.example.com", "x-canary": "true"]
        let ready = await eventually(timeout: .seconds(60)) { try await HTTP.get(url, headers: host).body == "green" }
        try #require(ready, "Envoy log:\n\(envoy.log().suffix(2000))")

        var first = -1
        let settled = await eventually(timeout: .seconds(60)) {
            let lists = await [Self.connected(adminPort: admins[0]), Self.connected(adminPort: admins[1])]
            first = lists.firstIndex { $0.contains("moved-\(mode)") } ?? -1
            return first >= 0
        }
        try #require(settled, "no replica reports the Envoy connected and ACKed")
        let other = 1 - first

        let before = try await envoy.configDump()
        let counters = [
            "cluster_manager.cluster_added", "cluster_manager.cluster_modified", "cluster_manager.cluster_removed",
            "listener_manager.listener_added", "listener_manager.listener_modified",
            "listener_manager.listener_removed",
            "cluster_manager.cds.update_rejected", "listener_manager.lds.update_rejected",
            // Nothing is even sent again: the new replica sees the versions Envoy holds.
            "cluster_manager.cds.update_success", "listener_manager.lds.update_success",
        ]
        var countersBefore: [String: Int] = [:]
        for counter in counters { countersBefore[counter] = try await envoy.stat(counter) ?? 0 }

        // Replica A goes away; Envoy reconnects to B, which ends up with every type ACKed.
        replicas[first].terminate()
        try #require(await ChildProcesses.exited(replicas[first]), "replica A did not stop on SIGTERM")
        let moved = await eventually(timeout: .seconds(60)) {
            await Self.connected(adminPort: admins[other]).contains("moved-\(mode)")
        }
        try #require(moved, "the Envoy did not reach replica B. Envoy log:\n\(envoy.log().suffix(3000))")
        try await Task.sleep(for: .milliseconds(500))

        let after = try await envoy.configDump()
        #expect(after.clusters == before.clusters, "cluster versions changed")
        #expect(after.listeners == before.listeners, "listener versions changed")
        #expect(after.routes == before.routes, "route versions changed")
        #expect(after.endpoints == before.endpoints)
        #expect(after.clusterConfigs == before.clusterConfigs && after.routeConfigs == before.routeConfigs)
        for counter in counters {
            #expect(
                try await envoy.stat(counter) ?? 0 == countersBefore[counter],
                "\(counter) changed: Envoy applied something")
        }
        #expect(try await HTTP.get(url, headers: host).body == "green")
        await envoy.stop()
    }

    @Test(
        "an Envoy moved from a replica with older files to one with newer files takes the change at once",
        arguments: [EnvoyProcess.Mode.sotw, .delta])
    func handOverToNewerReplica(mode: EnvoyProcess.Mode) async throws {
        let blue = try await UpstreamServer.start(name: "blue")
        let green = try await UpstreamServer.start(name: "green")
        defer {
            Task {
                await blue.stop()
                await green.stop()
            }
        }
        let listenerPort = try freePort()
        // During a ConfigMap update one replica can still have the old files: B's differ from
        // A's by a policy that changes one cluster (not its endpoints).
        let older = try QuickstartEndToEndTests.copy(blue: blue.port, green: green.port, listener: listenerPort)
        let newer = try QuickstartEndToEndTests.copy(blue: blue.port, green: green.port, listener: listenerPort)
        try """
        apiVersion: gateway.envoyproxy.io/v1alpha1
        kind: BackendTrafficPolicy
        metadata: {name: api, namespace: default}
        spec:
          targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: api}]
          timeout: {tcp: {connectTimeout: 7s}}

        """.write(to: newer.appendingPathComponent("policy.yaml"), atomically: true, encoding: .utf8)
        let ports = [try freePort(), try freePort()]
        let admins = [try freePort(), try freePort()]
        let a = try SwitchboardCommand.serve(config: older, xdsPort: ports[0], adminPort: admins[0])
        defer { if a.isRunning { a.terminate() } }
        let bootstrap = try SwitchboardCommand.bootstrap(
            xdsPort: ports[0], gateway: "default/eg", delta: mode == .delta,
            extra: ["--xds-address", "127.0.0.1:\(ports[1])", "--node-id", "newer-\(mode)"])
        let envoy = try await EnvoyProcess.start(bootstrap: bootstrap)
        let host = ["Host": "www.example.com", "x-canary": "true"]
        let url = "http://127.0.0.1:\(listenerPort)/"
        let ready = await eventually(timeout: .seconds(60)) { try await HTTP.get(url, headers: host).body == "green" }
        try #require(ready, "Envoy log:\n\(envoy.log().suffix(2000))")
        let onA = await eventually(timeout: .seconds(60)) {
            await Self.connected(adminPort: admins[0]).contains("newer-\(mode)")
        }
        try #require(onA)

        // B starts only now, so the Envoy cannot have been on it; then A goes away.
        let b = try SwitchboardCommand.serve(config: newer, xdsPort: ports[1], adminPort: admins[1])
        defer { if b.isRunning { b.terminate() } }
        let bUp = await eventually(timeout: .seconds(60)) {
            (try? await HTTP.get("http://127.0.0.1:\(admins[1])/readyz").status) == 200
        }
        try #require(bUp)
        a.terminate()
        try #require(await ChildProcesses.exited(a), "replica A did not stop on SIGTERM")
        // Envoy Gateway's api clusters are httproute/default/api/rule/<i>; every one of them now
        // has the 7 s connect timeout, and none is left warming for want of its endpoints.
        let updated = await eventually(timeout: .seconds(60)) {
            let dump = try await envoy.configDump()
            let api = dump.clusterConfigs.filter { $0.key.hasPrefix("httproute/default/api/") }
            let acked = await Self.connected(adminPort: admins[1]).contains("newer-\(mode)")
            return acked && !api.isEmpty && api.values.allSatisfy { $0.contains(#""connect_timeout":"7s""#) }
                && dump.warmingClusters.isEmpty
        }
        #expect(updated, "no update after the move. Envoy log:\n\(envoy.log().suffix(3000))")
        // At once: no subscription waited out Envoy's initial fetch timeout (a cluster left warming
        // for want of its endpoints would), which a deadline on the clock could not tell apart
        // from a busy machine.
        let timeouts = try await envoy.admin("/stats?filter=init_fetch_timeout").split(separator: "\n").filter {
            !$0.hasSuffix(": 0")
        }
        #expect(timeouts.isEmpty, "\(timeouts)")
        #expect(try await HTTP.get(url, headers: host).body == "green")
        await envoy.stop()
    }
}

@Suite(
    "examples/circuit-breaker with a real Envoy",
    .enabled(if: envoyRequired, "no Envoy binary (set ENVOY_BIN or create .venv)"))
struct CircuitBreakerExampleTests {
    @Test("as its README says: a 2 s upstream, 10 requests in flight, the other 50 of 60 refused at once with 503")
    func failFast() async throws {
        let slow = try await UpstreamServer.start(name: "slow", behavior: .delay(.seconds(2)))
        defer { Task { await slow.stop() } }
        let listenerPort = try freePort()
        let xdsPort = try freePort()
        let directory = try exampleCopy("circuit-breaker", ports: [9091: slow.port, 80: listenerPort])
        let serve = try SwitchboardCommand.serve(config: directory, xdsPort: xdsPort)
        defer { if serve.isRunning { serve.terminate() } }
        let envoy = try await EnvoyProcess.start(
            bootstrap: try SwitchboardCommand.bootstrap(xdsPort: xdsPort, gateway: "default/eg", delta: true))
        let cluster = "cluster.httproute/default/slow/rule/0"
        let ready = await eventually(timeout: .seconds(60)) {
            try await envoy.stat("\(cluster).membership_healthy") == 1
        }
        try #require(ready, "Envoy log:\n\(envoy.log().suffix(2000))")
        let threshold = try await envoy.configDump().clusterConfigs["httproute/default/slow/rule/0"] ?? ""
        #expect(threshold.contains(#""max_requests":10"#), "\(threshold)")

        let statuses = await HTTP.concurrentGets("http://127.0.0.1:\(listenerPort)/", count: 60)
        let served = statuses.filter { $0 == 200 }.count
        #expect((8...12).contains(served), "\(served) of 60 served; want about 10 (\(statuses))")
        #expect(statuses.filter { $0 == 503 }.count >= 45, "\(statuses)")
        // At once: refused by the circuit breaker (its overflow counter), not queued behind the 10.
        #expect(try await envoy.stat("\(cluster).upstream_rq_active_overflow") ?? 0 >= 45)
        await envoy.stop()
    }
}
