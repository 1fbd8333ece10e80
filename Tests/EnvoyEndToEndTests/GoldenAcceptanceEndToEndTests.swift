import Foundation
import GatewayAPI
import GatewayTranslator
import Testing
import XDSCache
import XDSServer
import XDSTesting
import XDSTranslator

/// The golden outputs say what we write; this says Envoy takes it: every Gateway of every golden
/// case is served to a real Envoy, which must ACK each resource type without a NACK.
@Suite("Golden configs in a real Envoy", .enabled(if: envoyRequired, "no Envoy binary (set ENVOY_BIN or create .venv)"))
struct GoldenAcceptanceEndToEndTests {
    @Test("Envoy ACKs every golden case's listeners, routes, clusters and endpoints")
    func envoyAcceptsGoldens() async throws {
        let cases = GoldenCase.all
        try #require(!cases.isEmpty)
        let cache = SnapshotCache()
        var served: [(key: String, snapshot: Snapshot)] = []
        for golden in cases {
            let configs = GatewayTranslator.translate(
                ResourceSet.load(try golden.inputs()), options: .init(rateLimitService: try golden.rateLimitService()))
            for config in configs.configs {
                let key = "\(golden.name)/\(config.key)"
                let snapshot = try SnapshotTranslator.snapshot(config)
                try cache.setSnapshot(snapshot, for: key)
                served.append((key, snapshot))
            }
        }
        let toServe = served
        try await withADSServer(watcher: cache) { server, xdsPort in
            // One Envoy at a time: several cases bind the same listener ports.
            for (index, (key, snapshot)) in toServe.enumerated() {
                let nodeID = "golden-\(index)"
                let envoy = try await EnvoyProcess.start(
                    bootstrap: EnvoyProcess.bootstrap(
                        xdsPort: xdsPort, mode: index % 2 == 0 ? .sotw : .delta, nodeID: nodeID, nodeCluster: key))
                let types = ResourceType.allCases.filter { snapshot[$0].count > 0 }
                func status() -> [ResourceType: TypeStatus] {
                    server.registry.streams.first { $0.nodeID == nodeID }?.types ?? [:]
                }
                let settled = await eventually(timeout: .seconds(60)) {
                    let current = status()
                    return types.allSatisfy { current[$0]?.lastAckedVersion == snapshot.version(of: $0) }
                        || current.values.contains { $0.lastNack != nil }
                }
                let nacks = status().compactMap { type, status in status.lastNack.map { "\(type): \($0.error.message)" }
                }
                #expect(nacks.isEmpty, "\(key): Envoy rejected: \(nacks)")
                #expect(
                    settled && nacks.isEmpty,
                    "\(key): not all of \(types) ACKed; Envoy log:\n\(envoy.log().suffix(1500))")
                await envoy.stop()
            }
        }
    }
}
