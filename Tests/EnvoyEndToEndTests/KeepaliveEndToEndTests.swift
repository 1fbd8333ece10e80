import Foundation
import Testing
import XDSCache
import XDSServer
import XDSTesting

@Suite(
    "HTTP/2 keepalive between a real Envoy and the ADS server",
    .enabled(if: envoyRequired, "no Envoy binary (set ENVOY_BIN or create .venv)"))
struct KeepaliveEndToEndTests {
    static let group = "default/keepalive"

    @Test(
        "an Envoy that pings at the accepted rate keeps its one connection while nothing changes",
        arguments: [EnvoyProcess.Mode.sotw, .delta])
    func pingsAccepted(mode: EnvoyProcess.Mode) async throws {
        let cache = SnapshotCache()
        try cache.setSnapshot(
            try TestResources.snapshot(
                listenerPort: try freePort(), clusters: [("backend", [("127.0.0.1", try freePort())])]),
            for: Self.group)
        // The bootstrap's 30 s and serve's 15 s, scaled down: Envoy pings every second, the server
        // accepts one every half second. The timeout is long so a busy machine cannot trip it.
        let configuration = ADSServerConfiguration(
            host: "127.0.0.1", port: 0,
            keepalive: ADSServerConfiguration.Keepalive(minClientPingInterval: .milliseconds(500)))
        let nodeID = "keepalive-\(mode)"
        try await withADSServer(watcher: cache, configuration: configuration) { server, port in
            let envoy = try await EnvoyProcess.start(
                bootstrap: EnvoyProcess.bootstrap(
                    xdsPort: port, mode: mode, nodeID: nodeID, nodeCluster: Self.group,
                    keepalive: EnvoyBootstrap.Keepalive(intervalSeconds: 1, timeoutSeconds: 30)))
            defer { Task { await envoy.stop() } }
            let synced = await eventually {
                let types = server.registry.streams.first { $0.nodeID == nodeID }?.types ?? [:]
                return [ResourceType.cluster, .endpoint, .listener, .route].allSatisfy {
                    types[$0]?.lastAckedVersion != nil
                }
            }
            #expect(synced, "Envoy never acknowledged the configuration:\n\(envoy.log().suffix(3000))")
            let stream = server.registry.streams.first { $0.nodeID == nodeID }?.id
            // With nothing sent to it, the connection carries only pings now. Under gRPC's default
            // policy (one ping per 5 minutes) the third early ping got GOAWAY ENHANCE_YOUR_CALM,
            // about four seconds in, and Envoy reconnected.
            try await Task.sleep(for: .seconds(8))
            #expect(try await envoy.stat("cluster.xds_cluster.upstream_cx_total") == 1, "\(envoy.log().suffix(3000))")
            #expect(try await envoy.stat("control_plane.connected_state") == 1)
            #expect(server.registry.streams.filter { $0.nodeID == nodeID }.map(\.id) == [stream].compactMap { $0 })
        }
    }
}
