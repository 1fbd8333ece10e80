import Foundation
import Testing
import XDSCache
import XDSServer
import XDSTesting

@Suite(
    "HTTP/2 frame size between a real Envoy and the ADS server",
    .enabled(if: envoyRequired, "no Envoy binary (set ENVOY_BIN or create .venv)"))
struct FrameSizeEndToEndTests {
    static let group = "default/frames"

    @Test(
        "an Envoy started from switchboard's bootstrap takes responses in frames larger than HTTP/2's 16 KiB",
        arguments: ADSServerConfiguration.Transport.allCases)
    func largeFrames(transport: ADSServerConfiguration.Transport) async throws {
        // Enough clusters that the CDS response is several times 16 KiB.
        let backend = [("127.0.0.1", try freePort())]
        let clusters = (0..<600).map { (name: "cluster-with-a-long-name-\($0)", endpoints: backend) }
        let cache = SnapshotCache()
        try cache.setSnapshot(
            try TestResources.snapshot(listenerPort: try freePort(), clusters: clusters), for: Self.group)
        let nodeID = "frames-\(transport)"
        let configuration = ADSServerConfiguration(host: "127.0.0.1", port: 0)
        try await withADSServer(transport: transport, watcher: cache, configuration: configuration) {
            _, registry, port in
            let tap = try await HTTP2FrameTap.start(targetPort: port)
            let envoy = try await EnvoyProcess.start(
                bootstrap: EnvoyProcess.bootstrap(
                    xdsPort: tap.port, mode: .sotw, nodeID: nodeID, nodeCluster: Self.group))
            defer {
                Task {
                    await envoy.stop()
                    await tap.stop()
                }
            }
            let synced = await eventually {
                let types = registry.streams.first { $0.nodeID == nodeID }?.types ?? [:]
                return types[.cluster]?.lastAckedVersion != nil && types[.endpoint]?.lastAckedVersion != nil
            }
            #expect(synced, "Envoy never acknowledged the clusters:\n\(envoy.log().suffix(3000))")
            #expect(try await envoy.stat("cluster_manager.active_clusters") == clusters.count + 1)
            let seen = tap.seen
            #expect(seen.clientMaxFrameSize == EnvoyBootstrap.maxFrameSize, "Envoy's SETTINGS: \(seen)")
            #expect(seen.largestServerData > 16384, "the server's DATA frames: \(seen)")
            #expect(seen.largestServerData <= EnvoyBootstrap.maxFrameSize)
            // One connection all along: Envoy took the large frames without a connection error.
            #expect(try await envoy.stat("cluster.xds_cluster.upstream_cx_total") == 1, "\(envoy.log().suffix(3000))")
        }
    }
}
