import EnvoyAPI
import NIOCore
import NIOPosix
import SwiftProtobuf
import Testing
import XDSCache
import XDSServer
import XDSTesting

/// Streams of clients that stop reading: a response write waits on flow control, and must end
/// when the client goes, however it goes.
@Suite("ADS streams of clients that never read")
struct SlowReaderTests {
    static let group = "default/gw"
    static let sotwPath = "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources"

    static func request(_ type: ResourceType, node: Int) throws -> [UInt8] {
        var request = Envoy_Service_Discovery_V3_DiscoveryRequest()
        request.typeURL = type.typeURL
        request.node = ADSTestClient.node(id: "slow-\(node)", cluster: group)
        return try request.serializedBytes()
    }

    @Test(
        "a stream whose writes wait on a client that reads nothing ends when the client resets it or drops the connection"
    )
    func blockedWritesEnd() async throws {
        let cache = SnapshotCache()
        // ~150 KB of clusters: more than a stream buffers before its writes wait.
        let clusters = Dictionary(
            uniqueKeysWithValues: (0..<2000).map { ("httproute/default/route-\($0)/rule/0", 8000) })
        try cache.setSnapshot(try Fixtures.snapshot(clusters: clusters), for: Self.group)
        try await withADSServer(watcher: cache) { server, port in
            for round in 0..<4 {
                let connection = try await RawHTTP2Connection.connect(port: port, initialWindowSize: 0)
                var streams: [RawHTTP2Stream] = []
                for index in 0..<100 {
                    let stream = try await connection.openStream()
                    try await stream.sendRequestHeaders(path: Self.sotwPath)
                    for type in [ResourceType.cluster, .listener, .endpoint, .route] {
                        try await stream.sendMessage(try Self.request(type, node: index))
                    }
                    streams.append(stream)
                }
                let open = await eventually(timeout: .seconds(60)) { server.registry.count(kind: .sotw) == 100 }
                #expect(open, "round \(round): \(server.registry.count(kind: .sotw)) streams open")
                // Odd rounds reset every stream; even rounds drop the connection.
                if round % 2 == 1 {
                    for stream in streams { try await stream.reset() }
                } else {
                    await connection.close()
                }
                let ended = await eventually(timeout: .seconds(60)) { server.registry.count(kind: .sotw) == 0 }
                #expect(
                    ended,
                    "round \(round): \(server.registry.count(kind: .sotw)) streams still open after their client went")
                await connection.close()
            }
        }
    }

    @Test(
        "a connection that stops answering the server's pings is closed, and one that answers them stays",
        arguments: ADSServerConfiguration.Transport.allCases)
    func unansweredPingsClose(transport: ADSServerConfiguration.Transport) async throws {
        let cache = SnapshotCache()
        try cache.setSnapshot(try Fixtures.snapshot(clusters: ["a": 1]), for: Self.group)
        let configuration = ADSServerConfiguration(
            host: "127.0.0.1", port: 0,
            // A long timeout, so a busy machine's late answer is not taken for none: under
            // ThreadSanitizer, with the other suites running beside it on two cores, a client's
            // event loop has stalled for more than 10 s, and the whole suite beside two builds for more than 30.
            keepalive: ADSServerConfiguration.Keepalive(interval: .seconds(2), timeout: .seconds(60)))
        // The server and its clients on threads of their own: on NIO's shared loops, another
        // suite's work held a loop for over a minute (ThreadSanitizer in CI), and a ping answered
        // in time was read after the keepalive timeout had fired, or answered late.
        let serverLoop = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let clientLoop = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer {
            // After the server and its connections have closed (`withADSServer` waits for them).
            serverLoop.shutdownGracefully { _ in }
            clientLoop.shutdownGracefully { _ in }
        }
        try await withADSServer(
            transport: transport, watcher: cache, configuration: configuration, eventLoopGroup: serverLoop
        ) { (server: ServedADS) in
            let port = server.port
            var connections: [RawHTTP2Connection] = []
            for index in 0..<2 {
                let connection = try await RawHTTP2Connection.connect(port: port, eventLoopGroup: clientLoop)
                let stream = try await connection.openStream()
                try await stream.sendRequestHeaders(path: Self.sotwPath)
                try await stream.sendMessage(try Self.request(.cluster, node: index))
                #expect(await stream.nextMessage() != nil, "client \(index) got no response")
                connections.append(connection)
            }
            // The first client reads nothing more, as a host that vanished without closing its
            // connection: the server's pings go unanswered. The second answers them (NIOHTTP2 does).
            let stopped: EventLoopFuture<Void> = connections[0].channel.setOption(ChannelOptions.autoRead, value: false)
            try await stopped.get()
            let dropped = await eventually(timeout: .seconds(180)) {
                server.registry.streams.map(\.nodeID) == ["slow-1"]
            }
            #expect(dropped, "streams open: \(server.registry.streams.map(\.nodeID))")
            // By now the second connection has been pinged too, and answered.
            #expect(server.registry.streams.map(\.nodeID) == ["slow-1"])
            for connection in connections { await connection.close() }
        }
    }
}
