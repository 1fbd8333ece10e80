import Foundation
import GatewayIR
import Testing
import XDSCache
import XDSServer
import XDSTesting
import XDSTranslator

@Suite(
    "Translated clusters in a real Envoy",
    .enabled(if: envoyRequired, "no Envoy binary (set ENVOY_BIN or create .venv)"))
struct TranslatedClusterEndToEndTests {
    @Test("Envoy accepts clusters with Envoy Gateway's defaults and routes through them")
    func translatedClustersServe() async throws {
        let upstream = try await UpstreamServer.start(name: "translated")
        defer { Task { await upstream.stop() } }
        let eds = BackendCluster(
            name: "httproute/default/backend/rule/0", discovery: .endpoints,
            groups: [EndpointGroup(weight: 1, endpoints: [Endpoint(host: "127.0.0.1", port: upstream.port)])])
        let dns = BackendCluster(
            name: "httproute/default/named/rule/0", discovery: .dns, upstreamProtocol: .http2,
            groups: [EndpointGroup(weight: 1, endpoints: [Endpoint(host: "localhost", port: upstream.port)])])
        let listenerPort = try freePort()
        let snapshot = try Snapshot([
            try Resource(try ClusterTranslator.cluster(eds)), try Resource(try ClusterTranslator.loadAssignment(eds)),
            try Resource(try ClusterTranslator.cluster(dns)),
            try Resource(TestResources.httpListener("listener", port: listenerPort, routeConfigName: "routes")),
            try Resource(TestResources.routeConfiguration("routes", routes: [("/", eds.name)])),
        ])
        let cache = SnapshotCache()
        try cache.setSnapshot(snapshot, for: "default/translated")

        try await withADSServer(watcher: cache) { server, port in
            let envoy = try await EnvoyProcess.start(
                bootstrap: EnvoyProcess.bootstrap(
                    xdsPort: port, mode: .delta, nodeID: "translated", nodeCluster: "default/translated"))
            let served = await eventually {
                try await HTTP.get("http://127.0.0.1:\(listenerPort)/").body == "translated"
            }
            #expect(served, "Envoy log:\n\(envoy.log().suffix(2000))")
            let dump = try? await envoy.configDump()
            #expect(Set(dump?.clusters.keys.map { $0 } ?? []) == [eds.name, dns.name])
            #expect(
                server.registry.streams.first?.types[.cluster]?.lastNack == nil, "Envoy rejected a translated cluster")
            await envoy.stop()
        }
    }
}
