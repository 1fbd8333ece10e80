import Foundation
import Testing
import XDSCache
import XDSServer
import XDSTesting

@Suite(
    "Envoy reconnecting to another server instance",
    .enabled(if: envoyRequired, "no Envoy binary (set ENVOY_BIN or create .venv)"))
struct ReconnectEndToEndTests {
    static let group = "default/reconnect"

    /// Update counters Envoy bumps each time it accepts a response for a type.
    static func updateCounters(listenerPort: Int) -> [String] {
        [
            "cluster_manager.cds.update_success", "listener_manager.lds.update_success",
            "cluster.backend.update_success", "http.listener_\(listenerPort).rds.routes.update_success",
        ]
    }

    @Test(
        "a replica with the same content hands a reconnecting Envoy nothing new",
        arguments: [EnvoyProcess.Mode.sotw, .delta])
    func reconnectGetsNothingNew(mode: EnvoyProcess.Mode) async throws {
        let upstream = try await UpstreamServer.start(name: "upstream")
        defer { Task { await upstream.stop() } }
        let listenerPort = try freePort()
        let xdsPort = try freePort()
        // Each server gets a snapshot built anew from the same input, as a restarted process or
        // another replica would build it.
        func build() throws -> SnapshotCache {
            let cache = SnapshotCache()
            try cache.setSnapshot(
                try TestResources.snapshot(
                    listenerPort: listenerPort, clusters: [("backend", [("127.0.0.1", upstream.port)])]),
                for: Self.group)
            return cache
        }
        let configuration = ADSServerConfiguration(host: "127.0.0.1", port: xdsPort)
        let url = "http://127.0.0.1:\(listenerPort)/"

        let firstCache = try build()
        let envoy: EnvoyProcess = try await withADSServer(watcher: firstCache, configuration: configuration) {
            _, port in
            let envoy = try await EnvoyProcess.start(
                bootstrap: EnvoyProcess.bootstrap(
                    xdsPort: port, mode: mode, nodeID: "reconnect-\(mode)", nodeCluster: Self.group))
            let serving = await eventually { try await HTTP.get(url).body == "upstream" }
            if !serving { Issue.record("Envoy never served through the first server:\n\(envoy.log().suffix(3000))") }
            return envoy
        }
        do {
            let before = try await counters(envoy, listenerPort)
            #expect(before.values.allSatisfy { $0 >= 1 }, "every type was accepted once: \(before)")

            try await withADSServer(watcher: try build(), configuration: configuration) { server, _ in
                let reconnected = await eventually(timeout: .seconds(60)) {
                    server.registry.streams.contains { $0.nodeID == "reconnect-\(mode)" }
                }
                #expect(reconnected, "Envoy did not reconnect to the second server")
                // Let any (wrong) re-push arrive before looking.
                try await Task.sleep(for: .seconds(1))
                let after = try await counters(envoy, listenerPort)
                #expect(after == before, "a reconnect to identical content changed Envoy's config")
                let status = server.registry.streams.first { $0.nodeID == "reconnect-\(mode)" }?.types
                for type in [ResourceType.cluster, .endpoint, .listener, .route] {
                    #expect(status?[type]?.awaitingReply == false, "\(type) was sent again")
                }
                #expect(status?[.secret] == nil, "an Envoy without TLS never asks for secrets")
                #expect(try await HTTP.get(url).body == "upstream")
            }
        } catch {
            Issue.record("Envoy log:\n\(envoy.log().suffix(3000))")
            await envoy.stop()
            throw error
        }
        await envoy.stop()
    }

    private func counters(_ envoy: EnvoyProcess, _ listenerPort: Int) async throws -> [String: Int] {
        var values: [String: Int] = [:]
        for name in Self.updateCounters(listenerPort: listenerPort) {
            values[name] = try await envoy.stat(name) ?? -1
        }
        return values
    }
}
