import Foundation
import Testing
import XDSCache
import XDSServer
import XDSTesting

/// On CI an Envoy must be there: these tests fail rather than skip without one.
let envoyRequired = EnvoyProcess.binary() != nil || ProcessInfo.processInfo.environment["CI"] == "true"

@Suite("ADS against a real Envoy", .enabled(if: envoyRequired, "no Envoy binary (set ENVOY_BIN or create .venv)"))
struct ADSEndToEndTests {
    static let group = "default/e2e"

    @Test(
        "Envoy routes traffic from a served snapshot, takes a replacement, and survives a NACK",
        arguments: [EnvoyProcess.Mode.sotw, .delta])
    func serveReplaceAndReject(mode: EnvoyProcess.Mode) async throws {
        let upstreamA = try await UpstreamServer.start(name: "upstream-a")
        let upstreamB = try await UpstreamServer.start(name: "upstream-b")
        defer {
            Task {
                await upstreamA.stop()
                await upstreamB.stop()
            }
        }

        let listenerPort = try freePort()
        let first = try TestResources.snapshot(
            listenerPort: listenerPort, clusters: [("backend_a", [("127.0.0.1", upstreamA.port)])])
        let cache = SnapshotCache()
        try cache.setSnapshot(first, for: Self.group)

        try await withADSServer(watcher: cache) { server, xdsPort in
            let envoy = try await EnvoyProcess.start(
                bootstrap: EnvoyProcess.bootstrap(
                    xdsPort: xdsPort, mode: mode, nodeID: "e2e-\(mode)", nodeCluster: Self.group))
            do {
                try await check(
                    envoy: envoy, server: server, cache: cache, mode: mode, listenerPort: listenerPort,
                    first: first, upstreamB: upstreamB)
            } catch {
                Issue.record("Envoy log:\n\(envoy.log().suffix(3000))")
                await envoy.stop()
                throw error
            }
            await envoy.stop()
        }
    }

    private func check(
        envoy: EnvoyProcess, server: ADSServer, cache: SnapshotCache, mode: EnvoyProcess.Mode, listenerPort: Int,
        first: Snapshot, upstreamB: UpstreamServer
    ) async throws {
        let url = "http://127.0.0.1:\(listenerPort)/hello"

        // 1. The first snapshot: a request through Envoy's listener reaches upstream A.
        let reachedA = await eventually { try await HTTP.get(url).body == "upstream-a" }
        #expect(reachedA, "a request through Envoy did not reach upstream A")
        var dump = try await envoy.configDump()
        #expect(dump.clusters.keys.sorted() == ["backend_a"])
        #expect(dump.listeners.keys.sorted() == ["listener_\(listenerPort)"])
        #expect(dump.endpoints["backend_a"] == ["127.0.0.1:\(try upstreamPort(first, "backend_a"))"])

        // 2. A second snapshot replaces the first: cluster A goes, cluster B comes, the route moves.
        var resources = [
            try Resource(TestResources.edsCluster("backend_b")),
            try Resource(TestResources.loadAssignment("backend_b", endpoints: [("127.0.0.1", upstreamB.port)])),
        ]
        resources += first[.listener].byName.values
        resources.append(try Resource(TestResources.routeConfiguration("routes", routes: [("/", "backend_b")])))
        let second = try Snapshot(resources)
        try cache.setSnapshot(second, for: Self.group)

        let reachedB = await eventually { try await HTTP.get(url).body == "upstream-b" }
        #expect(reachedB, "after the second snapshot, requests did not reach upstream B")
        let replaced = await eventually {
            let dump = try await envoy.configDump()
            return dump.clusters.keys.sorted() == ["backend_b"] && dump.routeClusters["routes"] == ["backend_b"]
        }
        #expect(replaced, "config_dump does not show the second snapshot")
        let hosts = try await envoy.clusters().hosts
        #expect(hosts["backend_b"] == ["127.0.0.1:\(upstreamB.port)"], "/clusters: \(hosts)")
        #expect(hosts["backend_a"] == nil)
        dump = try await envoy.configDump()
        // SotW versions are per type; delta versions are per resource. Both are content hashes.
        let acked = server.registry.streams.first { $0.nodeID == "e2e-\(mode)" }?.types
        #expect(acked?[.route]?.lastAckedVersion == second.version(of: .route))
        switch mode {
        case .sotw:
            // Envoy shows, per cluster, the version of the response that last changed it.
            #expect(acked?[.cluster]?.lastAckedVersion == second.version(of: .cluster))
            #expect(dump.routes["routes"] == second.version(of: .route))
        case .delta:
            #expect(dump.clusters["backend_b"] == second[.cluster]["backend_b"]?.version)
            #expect(dump.routes["routes"] == second[.route]["routes"]?.version)
        }

        // 3. A cluster Envoy rejects: NACKed, recorded, not sent again, and the old config keeps serving.
        let rejectedBefore = try await envoy.stat("cluster_manager.cds.update_rejected") ?? 0
        var bad = TestResources.edsCluster("backend_bad")
        bad.connectTimeout = .init(seconds: -1)  // Envoy requires connect_timeout > 0
        let third = try Snapshot(
            Array(second[.cluster].byName.values) + second[.endpoint].byName.values + second[.listener].byName.values
                + second[.route].byName.values
                + [try Resource(bad), try Resource(TestResources.loadAssignment("backend_bad", endpoints: []))])
        try cache.setSnapshot(third, for: Self.group)

        let nacked = await eventually {
            server.registry.streams.first { $0.nodeID == "e2e-\(mode)" }?.types[.cluster]?.lastNack != nil
        }
        #expect(nacked, "the server did not record Envoy's NACK")
        let nack = try #require(server.registry.streams.first { $0.nodeID == "e2e-\(mode)" }?.types[.cluster]?.lastNack)
        #expect(nack.error.message.contains("Expected positive duration"), "NACK message: \(nack.error.message)")
        #expect(try await envoy.stat("cluster_manager.cds.update_rejected") == rejectedBefore + 1)

        // Give a resend loop time to show itself; there must be none.
        try await Task.sleep(for: .seconds(1.5))
        #expect(
            try await envoy.stat("cluster_manager.cds.update_rejected") == rejectedBefore + 1,
            "the NACKed configuration was sent again")
        #expect(try await HTTP.get(url).body == "upstream-b", "traffic stopped after the NACK")
        #expect(server.registry.streams.count == 1)
        #expect(server.registry.streams.first { $0.nodeID == "e2e-\(mode)" }?.nodeGroup == Self.group)
    }

    private func upstreamPort(_ snapshot: Snapshot, _ cluster: String) throws -> Int {
        let assignment = try TestResources.LoadAssignment(
            serializedBytes: try #require(snapshot[.endpoint][cluster]).packed.value)
        return Int(assignment.endpoints[0].lbEndpoints[0].endpoint.address.socketAddress.portValue)
    }
}
