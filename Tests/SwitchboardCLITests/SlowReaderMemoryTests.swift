import EnvoyAPI
import Foundation
import SwiftProtobuf
import Testing
import XDSTesting

/// Memory that ADS streams which never read hold comes back when they go: nothing of it stays
/// in use, and the heap pages return to the kernel rather than staying with the allocator.
@Suite("serve: memory after slow readers")
struct SlowReaderMemoryTests {
    /// A Gateway with `count` routes, each to its own Backend: a CDS response of ~0.3 MB.
    static func config(routes count: Int) throws -> URL {
        var yaml = TestManifests.gateway(port: 8080)
        for index in 0..<count {
            yaml += """
                ---
                apiVersion: gateway.envoyproxy.io/v1alpha1
                kind: Backend
                metadata: {name: b\(index), namespace: default}
                spec:
                  endpoints: [{ip: {address: 10.0.\(index / 250).\(index % 250), port: 8080}}]
                ---
                apiVersion: gateway.networking.k8s.io/v1
                kind: HTTPRoute
                metadata: {name: r\(index), namespace: default}
                spec:
                  parentRefs: [{name: eg}]
                  hostnames: [h\(index).example.com]
                  rules: [{backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: b\(index)}]}]

                """
        }
        return try SwitchboardCommand.configDirectory("slow-readers", files: ["config.yaml": yaml])
    }

    /// The value of the sample `name` (with its labels, if any) in Prometheus text.
    static func sample(_ name: String, in metrics: String) -> Double? {
        for line in metrics.split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.dropFirst(name.count + 1))
        }
        return nil
    }

    static func sotwRequest(_ typeURL: String, node: Int) throws -> [UInt8] {
        var request = Envoy_Service_Discovery_V3_DiscoveryRequest()
        request.typeURL = typeURL
        request.node.id = "slow-\(node)"
        request.node.cluster = "default/eg"
        return try request.serializedBytes()
    }

    /// serve on `config` (by default 1500 routes), ready, with its metrics at hand.
    struct Server {
        let process: Process
        let xdsPort: Int
        let adminURL: String

        init(config: URL? = nil, extra: [String]) async throws {
            let config = try config ?? SlowReaderMemoryTests.config(routes: 1500)
            xdsPort = try freePort()
            let adminPort = try freePort()
            process = try SwitchboardCommand.serve(config: config, xdsPort: xdsPort, adminPort: adminPort, extra: extra)
            adminURL = "http://127.0.0.1:\(adminPort)"
            #expect(
                await eventually(timeout: .seconds(60)) {
                    try await HTTP.get("http://127.0.0.1:\(adminPort)/readyz").status == 200
                })
        }

        func stop() { if process.isRunning { process.terminate() } }

        /// The value of the sample `name` in serve's metrics now.
        func metric(_ name: String) async throws -> Double? {
            SlowReaderMemoryTests.sample(name, in: try await HTTP.get(adminURL + "/metrics").body)
        }

        /// How many Envoys `/status` lists: streams whose node is known, and so watching its Gateway.
        func envoys() async throws -> Int {
            let status = try JSONSerialization.jsonObject(
                with: Data(try await HTTP.get(adminURL + "/status").body.utf8))
            return ((status as? [String: Any])?["envoys"] as? [Any])?.count ?? 0
        }
    }

    /// `connections` connections of `streams` streams (at most 100, the per-connection limit),
    /// each asking for clusters and listeners with a flow-control window of 0, so nothing sent is
    /// read.
    static func stalledStreams(
        connections count: Int, streams: Int = 100, port: Int
    ) async throws -> [RawHTTP2Connection] {
        var connections: [RawHTTP2Connection] = []
        for connectionIndex in 0..<count {
            let connection = try await RawHTTP2Connection.connect(port: port, initialWindowSize: 0)
            connections.append(connection)
            for streamIndex in 0..<streams {
                let stream = try await connection.openStream()
                try await stream.sendRequestHeaders(
                    path: "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources")
                let node = connectionIndex * streams + streamIndex
                try await stream.sendMessage(
                    try Self.sotwRequest("type.googleapis.com/envoy.config.cluster.v3.Cluster", node: node))
                try await stream.sendMessage(
                    try Self.sotwRequest("type.googleapis.com/envoy.config.listener.v3.Listener", node: node))
            }
        }
        return connections
    }

    @Test("paced by default: streams beyond 64 wait, and stalled clients lose their permits at the deadline")
    func pacedStalledStreams() async throws {
        // Nothing to send at first: the streams are all watching before their Gateway appears,
        // so how fast they open under load does not matter.
        let directory = try SwitchboardCommand.configDirectory("paced", files: [:])
        let server = try await Server(config: directory, extra: [])
        defer { server.stop() }
        let metric = server.metric
        let connections = try await Self.stalledStreams(connections: 2, port: server.xdsPort)
        var envoys = 0
        let watching = await eventually(timeout: .seconds(120), every: .milliseconds(500)) {
            envoys = try await server.envoys()
            return envoys == 200
        }
        #expect(watching, "\(envoys) of 200 streams watching")
        let gateway = try String(
            contentsOf: Self.config(routes: 1500).appendingPathComponent("config.yaml"), encoding: .utf8)
        try gateway.write(to: directory.appendingPathComponent("config.yaml"), atomically: true, encoding: .utf8)
        // 200 streams owe a large CDS at once, for 64 permits: 136 wait. The 64 holders never
        // answer, so at the deadline (10 s) each loses its permit to a waiting stream.
        var waits = 0.0
        var timeouts = 0.0
        let paced = await eventually(timeout: .seconds(120), every: .milliseconds(500)) {
            waits = try await metric("xds_push_pacing_waits_total") ?? 0
            timeouts = try await metric("xds_push_pacing_timeouts_total") ?? 0
            return waits >= 136 && timeouts >= 64
        }
        #expect(paced, "waits \(waits), deadline releases \(timeouts)")
        for connection in connections { await connection.close() }
    }

    /// What 1000 stalled streams on 100 connections hold at least, per transport, and what may
    /// stay in use after them: on gRPC each stream holds its own copy of its responses (~0.3 MB);
    /// on NIO they all hold the one shared response, and their own connection and stream state.
    @Test(
        "1000 streams that never read: after they disconnect, heap in use and resident memory return to where they were",
        arguments: [("grpc", 150_000_000.0, 16_000_000.0), ("nio", 8_000_000.0, 4_000_000.0)])
    func memoryReturns(transport: String, held: Double, left: Double) async throws {
        // Unpaced, so that every stream holds its responses: the most memory stalled streams can hold.
        let server = try await Server(extra: ["--push-concurrency", "0", "--ads-transport", transport])
        defer { server.stop() }
        let metric = server.metric
        let xdsPort = server.xdsPort
        let baselineResident = try #require(try await metric("process_resident_memory_bytes"))
        let baselineHeap = try #require(try await metric("process_heap_in_use_bytes"))

        // 100 connections of 10 streams, each asking for clusters and listeners with a
        // flow-control window of 0: every response stays in the server.
        let connections = try await Self.stalledStreams(connections: 100, streams: 10, port: xdsPort)
        var loadedHeap = 0.0
        let loaded = await eventually(timeout: .seconds(120), every: .milliseconds(500)) {
            let streams = try await metric(#"xds_connected_streams{kind="sotw"}"#)
            let heap = try await metric("process_heap_in_use_bytes") ?? 0
            loadedHeap = heap
            return streams == 1000 && heap > baselineHeap + held
        }
        #expect(
            loaded,
            "1000 stalled streams did not hold their responses: heap in use \(loadedHeap), \(baselineHeap) before")
        let peak = try await metric("process_resident_memory_bytes") ?? 0
        for connection in connections { await connection.close() }

        // The gauge is the count the last closing stream recorded: with streams closing at once, a
        // count recorded out of order once left it at 1 for good.
        var streams: Double?
        let closed = await eventually(timeout: .seconds(120), every: .milliseconds(500)) {
            streams = try await metric(#"xds_connected_streams{kind="sotw"}"#)
            return streams == 0
        }
        #expect(closed, "xds_connected_streams is \(streams.map { "\($0)" } ?? "missing") after every client went")
        var heap = 0.0
        var resident = 0.0
        let returned = await eventually(timeout: .seconds(120), every: .milliseconds(500)) {
            heap = try await metric("process_heap_in_use_bytes") ?? .infinity
            resident = try await metric("process_resident_memory_bytes") ?? .infinity
            return heap < baselineHeap + left && resident < baselineResident + 64_000_000
        }
        let megabytes = { (bytes: Double) in String(format: "%.0f MB", bytes / 1_000_000) }
        #expect(
            returned,
            """
            after the streams went: heap in use \(megabytes(heap)) (before: \(megabytes(baselineHeap))), resident \
            \(megabytes(resident)) (before: \(megabytes(baselineResident)), peak: \(megabytes(peak)))
            """)
        #expect((try await metric("process_heap_trims_total") ?? 0) >= 1)
    }
}
