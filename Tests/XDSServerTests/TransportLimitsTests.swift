import EnvoyAPI
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import NIOCore
import NIOHTTP2
import NIOPosix
import SwiftProtobuf
import Testing
import XDSCache
import XDSServer
import XDSTesting

/// Limits the ADS server's transport enforces against clients that do not behave like Envoy,
/// checked with real sockets and a hand-driven HTTP/2 client.
@Suite("ADS transport limits")
struct TransportLimitsTests {
    static let group = "default/gw"
    static let deltaPath = "/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources"

    static func cache() throws -> SnapshotCache {
        let cache = SnapshotCache()
        try cache.setSnapshot(try Fixtures.snapshot(clusters: ["a": 1]), for: group)
        return cache
    }

    /// A delta CDS request from an Envoy of `group`, padded to at least `size` bytes, serialized.
    static func deltaRequest(size: Int = 0) throws -> [UInt8] {
        var request = Envoy_Service_Discovery_V3_DeltaDiscoveryRequest()
        request.typeURL = ResourceType.cluster.typeURL
        request.node = ADSTestClient.node(id: "envoy-1", cluster: group)
        // Padded with bytes, which decode as one copy: only the message's size is tested here, and
        // strings of that size (or a map of a few hundred thousand entries) take a debug build
        // under ThreadSanitizer a minute to decode. No nonce, so the detail is not a NACK.
        if size > 0 {
            var padding = Google_Protobuf_Any()
            padding.typeURL = "type.googleapis.com/padding"
            padding.value = Data(count: size)
            request.errorDetail.details = [padding]
        }
        return try request.serializedBytes()
    }

    /// Sends a whole delta request on a new stream and returns the first response's resource names,
    /// or how the server ended the stream.
    static func exchange(on connection: RawHTTP2Connection, request: [UInt8]) async throws -> Exchange {
        let stream = try await connection.openStream()
        try await stream.sendRequestHeaders(path: deltaPath)
        try await stream.sendMessage(request)
        guard let message = await stream.nextMessage() else { return .failure(StreamEnded(end: await stream.ended())) }
        let response = try Envoy_Service_Discovery_V3_DeltaDiscoveryResponse(serializedBytes: message)
        try await stream.reset()
        return .success(response.resources.map(\.name))
    }

    typealias Exchange = Result<[String], StreamEnded>

    struct StreamEnded: Error {
        var end: RawHTTP2Stream.End
    }

    /// Runs a server of `transport` with the given request limits while `body` runs.
    /// A message waits for request memory at most the keepalive `timeout`.
    static func withLimitedServer(
        _ transport: ADSServerConfiguration.Transport, maxRequestBytes: Int, maxRequestMemory: Int,
        timeout: Duration = .seconds(3600), _ body: @Sendable (ServedADS) async throws -> Void
    ) async throws {
        // A connection that waits for request memory reads nothing, pings' answers included: under
        // ThreadSanitizer on a busy machine, a 12 MiB request ahead of it has taken more than the
        // default timeout (20 s) and its pings' window (80 s). Pings after an hour, then.
        let configuration = ADSServerConfiguration(
            host: "127.0.0.1", port: 0, maxRequestBytes: maxRequestBytes, maxRequestMemory: maxRequestMemory,
            keepalive: .init(interval: .seconds(3600), timeout: timeout))
        try await withADSServer(transport: transport, watcher: try cache(), configuration: configuration, body)
    }

    @Test(
        "request messages that do not fit in the shared request memory refuse their streams alone",
        arguments: ADSServerConfiguration.Transport.allCases)
    func requestMemoryBudget(transport: ADSServerConfiguration.Transport) async throws {
        try await Self.withLimitedServer(transport, maxRequestBytes: 16 << 20, maxRequestMemory: 20 << 20) { server in
            let port = server.port
            let connection = try await RawHTTP2Connection.connect(port: port)
            // A client announces a 12 MiB message and sends 1 MiB of it: 12 of the 20 MiB are held.
            let stalled = try await connection.openStream()
            try await stalled.sendRequestHeaders(path: Self.deltaPath)
            try await stalled.sendPartialMessage(announcing: 12 << 20, body: 1 << 20)

            // Three more such messages at once: none fits beside the first.
            let ends = try await withThrowingTaskGroup(of: RawHTTP2Stream.End.self) { group in
                for _ in 0..<3 {
                    group.addTask {
                        let stream = try await connection.openStream()
                        try await stream.sendRequestHeaders(path: Self.deltaPath)
                        // The server may refuse the stream before the client has sent it all.
                        try? await stream.sendPartialMessage(announcing: 12 << 20, body: 64 << 10)
                        return await stream.ended()
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            for end in ends {
                #expect(end.grpcStatus == 8, "\(end)")
                #expect(end.grpcMessage?.contains("--max-request-memory") == true, "\(end)")
            }
            // A message over the per-message limit is refused as soon as it is announced.
            let oversized = try await connection.openStream()
            try await oversized.sendRequestHeaders(path: Self.deltaPath)
            try? await oversized.sendPartialMessage(announcing: 17 << 20, body: 0)
            let end = await oversized.ended()
            #expect(end.grpcStatus == 8, "\(end)")
            #expect(end.grpcMessage?.contains("--max-request-size") == true, "\(end)")

            // The connection and its stalled stream are untouched, and a small request is served.
            #expect(connection.goAway == nil)
            let served = try await Self.exchange(on: connection, request: try Self.deltaRequest())
            #expect(try served.get() == ["a"])

            // Once the stalled stream goes, its reservation is released: a whole 12 MiB request fits.
            try await stalled.reset()
            let large = try Self.deltaRequest(size: 12 << 20)
            #expect(large.count > 12 << 20)
            var outcome: Exchange?
            let fits = await eventually(timeout: .seconds(60)) {
                outcome = try await Self.exchange(on: connection, request: large)
                return (try? outcome?.get()) == ["a"]
            }
            #expect(fits, "\(String(describing: outcome))")
        }
    }

    /// A client that announces a 12 MiB message and sends 1 MiB of it: the server holds 12 MiB
    /// until the stream ends. The stream and its connection.
    static func holdRequestMemory(on server: ServedADS) async throws -> (RawHTTP2Connection, RawHTTP2Stream) {
        let holder = try await RawHTTP2Connection.connect(port: server.port)
        let stalled = try await holder.openStream()
        try await stalled.sendRequestHeaders(path: Self.deltaPath)
        try await stalled.sendPartialMessage(announcing: 12 << 20, body: 1 << 20)
        #expect(await eventually { server.requestMemory.inUse == 12 << 20 })
        return (holder, stalled)
    }

    @Test(
        "a request message that does not fit in the shared request memory waits, its connection reading nothing, until there is room",
        arguments: ADSServerConfiguration.Transport.allCases)
    func requestMemoryWait(transport: ADSServerConfiguration.Transport) async throws {
        try await Self.withLimitedServer(transport, maxRequestBytes: 16 << 20, maxRequestMemory: 20 << 20) { server in
            // 12 of the 20 MiB held by a message whose rest does not come yet.
            let (holder, stalled) = try await Self.holdRequestMemory(on: server)

            // Another client's 12 MiB request waits for them, and so does a second one behind it.
            let first = try await RawHTTP2Connection.connect(port: server.port)
            let second = try await RawHTTP2Connection.connect(port: server.port)
            let large = try Self.deltaRequest(size: 12 << 20)
            async let firstOutcome = Self.exchange(on: first, request: large)
            #expect(await eventually { server.requestMemory.waitingCount == 1 })
            async let secondOutcome = Self.exchange(on: second, request: large)
            #expect(await eventually { server.requestMemory.waitingCount == 2 })

            // The held message goes: the first is served, then the second (two do not fit at once).
            try await stalled.reset()
            #expect(try await firstOutcome.get() == ["a"])
            #expect(try await secondOutcome.get() == ["a"])
            #expect(first.goAway == nil && second.goAway == nil)
            #expect(await eventually { server.requestMemory.inUse == 0 && server.requestMemory.waitingCount == 0 })
            for connection in [holder, first, second] { await connection.close() }
        }
    }

    @Test(
        "a request message that waits for request memory longer than the keepalive timeout is refused, and its connection goes on",
        arguments: ADSServerConfiguration.Transport.allCases)
    func requestMemoryWaitEnds(transport: ADSServerConfiguration.Transport) async throws {
        try await Self.withLimitedServer(
            transport, maxRequestBytes: 16 << 20, maxRequestMemory: 20 << 20, timeout: .seconds(3)
        ) { server in
            // 12 of the 20 MiB held by a message whose rest never comes.
            let (holder, stalled) = try await Self.holdRequestMemory(on: server)

            let waiter = try await RawHTTP2Connection.connect(port: server.port)
            let stream = try await waiter.openStream()
            try await stream.sendRequestHeaders(path: Self.deltaPath)
            // The server refuses it before reading it all.
            try? await stream.sendMessage(try Self.deltaRequest(size: 12 << 20))
            let end = await stream.ended()
            #expect(end.grpcStatus == 8, "\(end)")
            #expect(end.grpcMessage?.contains("waited 3.0 seconds") == true, "\(end)")
            #expect(end.grpcMessage?.contains("--max-request-memory") == true, "\(end)")
            #expect(server.requestMemory.waitingCount == 0 && server.requestMemory.inUse == 12 << 20)
            // Its connection reads again and serves a request that needs no wait.
            let served = try await Self.exchange(on: waiter, request: try Self.deltaRequest())
            #expect(try served.get() == ["a"])
            #expect(waiter.goAway == nil && !waiter.isClosed)
            try await stalled.reset()
            #expect(await eventually { server.requestMemory.inUse == 0 })
            for connection in [holder, waiter] { await connection.close() }
        }
    }

    @Test(
        "requests arriving at once with more bytes than the shared request memory holds are all served in turn",
        arguments: ADSServerConfiguration.Transport.allCases)
    func requestMemoryStorm(transport: ADSServerConfiguration.Transport) async throws {
        // Room for one such request at a time, as ten thousand Envoys reconnecting at once have
        // room for a few thousand of their EDS requests.
        try await Self.withLimitedServer(transport, maxRequestBytes: 1 << 20, maxRequestMemory: 1 << 20) { server in
            let request = try Self.deltaRequest(size: 600 << 10)
            let outcomes = try await withThrowingTaskGroup(of: Exchange.self) { group in
                for _ in 0..<16 {
                    group.addTask {
                        let connection = try await RawHTTP2Connection.connect(port: server.port)
                        do {
                            let outcome = try await Self.exchange(on: connection, request: request)
                            await connection.close()
                            return outcome
                        } catch {
                            await connection.close()
                            throw error
                        }
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes.count == 16)
            for outcome in outcomes { #expect((try? outcome.get()) == ["a"], "\(outcome)") }
            #expect(await eventually { server.requestMemory.inUse == 0 && server.requestMemory.waitingCount == 0 })
        }
    }

    @Test(
        "a stream that waits for a push permit reads a request message it has begun to its end, one that waited for memory or began behind another too",
        arguments: zip([false, true, false], [false, false, true]))
    func partialMessageIsReadWhileWaitingForAPermit(waitsForMemory: Bool, behindAnother: Bool) async throws {
        // One permit, and every response is large: a client that does not answer keeps it. (The
        // gRPC transport reads requests in a task of their own, whatever the responses do.)
        var configuration = ADSServerConfiguration(
            host: "127.0.0.1", port: 0, maxRequestBytes: 4 << 20, maxRequestMemory: 4 << 20)
        configuration.pacing = PushPacing(permits: 1, threshold: 1, timeout: .seconds(600))
        try await withADSServer(transport: .nio, watcher: try Self.cache(), configuration: configuration) { server in
            let holder = try await RawHTTP2Connection.connect(port: server.port)
            let held = try await holder.openStream()
            try await held.sendRequestHeaders(path: Self.deltaPath)
            try await held.sendMessage(try Self.deltaRequest())
            #expect(await held.nextMessage() != nil)
            // This stream's response waits for the permit, so it reads no new message; but the
            // one it has begun is read to its end, and its request memory goes back.
            let waiting = try await RawHTTP2Connection.connect(port: server.port)
            let stream = try await waiting.openStream()
            try await stream.sendRequestHeaders(path: Self.deltaPath)
            try await stream.sendMessage(try Self.deltaRequest())
            #expect(await eventually { server.pacer?.waitingCount == 1 })
            let length = 1 << 20
            // Another client's message leaves too little for it, until that client goes.
            let other = try await RawHTTP2Connection.connect(port: server.port)
            let stalled = try await other.openStream()
            if waitsForMemory {
                try await stalled.sendRequestHeaders(path: Self.deltaPath)
                try await stalled.sendPartialMessage(announcing: (4 << 20) - 1000, body: 1000)
                #expect(await eventually { server.requestMemory.inUse == (4 << 20) - 1000 })
            }
            if behindAnother {
                // A whole request in two frames, the second carrying the large message's start.
                let first = try Self.deltaRequest(size: 2000)
                var head = RawHTTP2Stream.prefix(length: first.count)
                head.writeBytes(first[..<1000])
                try await stream.sendData(head)
                var tail = ByteBuffer(bytes: first[1000...])
                tail.writeImmutableBuffer(RawHTTP2Stream.prefix(length: length))
                tail.writeRepeatingByte(0, count: 1000)
                try await stream.sendData(tail)
            } else {
                try await stream.sendPartialMessage(announcing: length, body: 1000)
            }
            if waitsForMemory {
                #expect(await eventually { server.requestMemory.waitingCount == 1 })
                try await stalled.reset()
            }
            #expect(await eventually { server.requestMemory.inUse == length })
            // More than a stream's flow-control window: it arrives only if the stream reads.
            let rest = Task { try await stream.sendData(ByteBuffer(repeating: 0, count: length - 1000)) }
            #expect(await eventually { server.requestMemory.inUse == 0 })
            rest.cancel()
            for connection in [waiting, other, holder] { await connection.close() }
        }
    }

    /// A TCP connection that sends `bytes` and then nothing.
    static func stalledConnection(port: Int, sending bytes: String) async throws -> any Channel {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port).get()
        // The server may have closed it already, if this task was slow to run.
        if !bytes.isEmpty { try? await channel.writeAndFlush(ByteBuffer(string: bytes)) }
        return channel
    }

    @Test(
        "a connection that stalls before completing the HTTP/2 handshake is closed after the handshake timeout",
        arguments: ["", "PRI * HTTP/2.0\r\n"], ADSServerConfiguration.Transport.allCases)
    func handshakeTimeout(sending bytes: String, transport: ADSServerConfiguration.Transport) async throws {
        let configuration = ADSServerConfiguration(host: "127.0.0.1", port: 0, handshakeTimeout: .milliseconds(500))
        try await withADSServer(transport: transport, watcher: try Self.cache(), configuration: configuration) {
            _, _, port in
            // A connection whose handshake the server has finished (it acknowledged the client's
            // SETTINGS); retried in case a loaded machine is slower than the short timeout.
            var connection: RawHTTP2Connection?
            let established = await eventually(timeout: .seconds(60)) {
                let candidate = try await RawHTTP2Connection.connect(port: port)
                try await candidate.settingsAcknowledged()
                connection = candidate
                return true
            }
            let good = try #require(connection, "no connection completed its handshake (\(established))")
            let stalled = try await Self.stalledConnection(port: port, sending: bytes)
            let closed = await eventually(timeout: .seconds(60)) { !stalled.isActive }
            #expect(closed, "the stalled connection is still open")
            // The connection that completed its handshake earlier is not subject to the timeout.
            let served = try await Self.exchange(on: good, request: try Self.deltaRequest())
            #expect(try served.get() == ["a"])
            try? await stalled.close()
        }
    }

    @Test(
        "connections beyond --max-connections are closed on arrival; the open ones keep working",
        arguments: ADSServerConfiguration.Transport.allCases)
    func connectionLimit(transport: ADSServerConfiguration.Transport) async throws {
        let cache = try Self.cache()
        // A long handshake timeout, so only the limit can close a connection here.
        let configuration = ADSServerConfiguration(
            host: "127.0.0.1", port: 0, handshakeTimeout: .seconds(600), maxConnections: 2)
        try await withADSServer(transport: transport, watcher: cache, configuration: configuration) { _, _, port in
            let transport = try HTTP2ClientTransport.Posix(
                target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext)
            try await withGRPCClient(transport: transport) { grpc in
                try await ADSTestClient.withDeltaStream(ADSTestClient.Client(wrapping: grpc)) { stream in
                    var request = Envoy_Service_Discovery_V3_DeltaDiscoveryRequest()
                    request.typeURL = ResourceType.cluster.typeURL
                    request.node = ADSTestClient.node(id: "envoy-1", cluster: Self.group)
                    stream.send(request)
                    var responses = stream.responses.makeAsyncIterator()
                    let first = try #require(try await responses.next())
                    #expect(first.resources.map(\.name) == ["a"])

                    // The second connection fills the limit; the third is closed.
                    let second = try await Self.stalledConnection(port: port, sending: "")
                    let third = try await Self.stalledConnection(port: port, sending: "")
                    let refused = await eventually(timeout: .seconds(60)) { !third.isActive }
                    #expect(refused, "the connection beyond the limit is still open")
                    #expect(second.isActive)

                    // The established stream still gets updates.
                    var ack = request
                    ack.responseNonce = first.nonce
                    stream.send(ack)
                    try cache.setSnapshot(try Fixtures.snapshot(clusters: ["a": 1, "b": 2]), for: Self.group)
                    let update = try #require(try await responses.next())
                    #expect(update.resources.map(\.name) == ["b"])

                    // A closed connection frees its place.
                    try await second.close()
                    let accepted = await eventually(timeout: .seconds(60)) {
                        let connection = try await RawHTTP2Connection.connect(port: port)
                        defer { Task { await connection.close() } }
                        _ = try await connection.serverSettings
                        return true
                    }
                    #expect(accepted, "no connection was accepted after one closed")
                }
            }
        }
    }
}

extension TransportLimitsTests {
    /// A delta stream on `connection` that has received its first response; returns the stream
    /// and that response's nonce.
    static func servedStream(on connection: RawHTTP2Connection) async throws -> (RawHTTP2Stream, String) {
        let stream = try await connection.openStream()
        try await stream.sendRequestHeaders(path: deltaPath)
        try await stream.sendMessage(try deltaRequest())
        guard let message = await stream.nextMessage() else {
            throw StreamEnded(end: await stream.ended())
        }
        return (stream, try Envoy_Service_Discovery_V3_DeltaDiscoveryResponse(serializedBytes: message).nonce)
    }

    @Test(
        "streams beyond the advertised per-connection limit are refused alone; the connection's other streams go on",
        arguments: [3, 100], ADSServerConfiguration.Transport.allCases)
    func streamsPerConnection(limit: Int, transport: ADSServerConfiguration.Transport) async throws {
        let cache = try Self.cache()
        let configuration = ADSServerConfiguration(host: "127.0.0.1", port: 0, maxStreamsPerConnection: limit)
        try await withADSServer(transport: transport, watcher: cache, configuration: configuration) { _, _, port in
            // A client that ignores the limit, as the review's did.
            let connection = try await RawHTTP2Connection.connect(port: port, ignoringStreamLimit: true)
            let settings = try await connection.serverSettings
            #expect(settings.first { $0.parameter == .maxConcurrentStreams }?.value == limit, "\(settings)")

            var served: [(stream: RawHTTP2Stream, nonce: String)] = []
            for _ in 0..<limit { served.append(try await Self.servedStream(on: connection)) }
            let request = try Self.deltaRequest()
            let extras = await withTaskGroup(of: RawHTTP2Stream.End.self) { group in
                for _ in 0..<3 {
                    group.addTask {
                        guard let extra = try? await connection.openStream() else { return RawHTTP2Stream.End() }
                        try? await extra.sendRequestHeaders(path: Self.deltaPath)
                        try? await extra.sendMessage(request)
                        return await extra.ended()
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            for end in extras { #expect(end.reset == .refusedStream, "\(end)") }
            try #require(connection.goAway == nil, "the server ended the connection")
            try #require(!connection.isClosed)

            // Every stream opened within the limit still gets updates.
            for (stream, nonce) in served {
                var ack = Envoy_Service_Discovery_V3_DeltaDiscoveryRequest()
                ack.typeURL = ResourceType.cluster.typeURL
                ack.responseNonce = nonce
                try await stream.sendMessage(try ack.serializedBytes())
            }
            try cache.setSnapshot(try Fixtures.snapshot(clusters: ["a": 1, "b": 2]), for: Self.group)
            for (stream, _) in served {
                guard let message = await stream.nextMessage() else {
                    Issue.record("no update: \(await stream.ended())")
                    continue
                }
                let update = try Envoy_Service_Discovery_V3_DeltaDiscoveryResponse(serializedBytes: message)
                #expect(update.resources.map(\.name) == ["b"])
            }

            // A stream that ends frees its place.
            try await served[0].stream.reset()
            let replaced = await eventually(timeout: .seconds(60)) {
                (try? await Self.servedStream(on: connection)) != nil
            }
            #expect(replaced, "no new stream was served after one ended")
        }
    }
}

extension TransportLimitsTests {
    @Test(
        "a client that pings more often than it may is told ENHANCE_YOUR_CALM and closed; one within the limit is not",
        arguments: ADSServerConfiguration.Transport.allCases)
    func pingPolicing(transport: ADSServerConfiguration.Transport) async throws {
        for (minInterval, policed) in [(Duration.seconds(3600), true), (.zero, false)] {
            var configuration = ADSServerConfiguration(host: "127.0.0.1", port: 0)
            configuration.keepalive = .init(minClientPingInterval: minInterval)
            try await withADSServer(transport: transport, watcher: try Self.cache(), configuration: configuration) {
                _, _, port in
                let connection = try await RawHTTP2Connection.connect(port: port)
                _ = try await Self.servedStream(on: connection)
                // The first ping is acceptable; with an hour between pings, the next three are
                // strikes, and the third is one too many.
                for _ in 0..<4 { try? await connection.ping() }
                if policed {
                    let closed = await eventually(timeout: .seconds(60)) {
                        connection.goAway == .enhanceYourCalm && connection.isClosed
                    }
                    #expect(
                        closed, "GOAWAY \(connection.goAway.map { "\($0)" } ?? "none"), closed: \(connection.isClosed)")
                } else {
                    // Pings the server answered; then a new stream is still served.
                    for _ in 0..<6 { try await connection.ping() }
                    _ = try await Self.servedStream(on: connection)
                    #expect(connection.goAway == nil && !connection.isClosed)
                }
                await connection.close()
            }
        }
    }

    @Test("a client that sends control frames faster than NIO's rate is closed, at a tenth of NIO's count")
    func controlFrameFlood() async throws {
        try await withADSServer(transport: .nio, watcher: try Self.cache()) { server in
            let connection = try await RawHTTP2Connection.connect(port: server.port)
            _ = try await Self.servedStream(on: connection)
            // 30 at once (one flush: sent one by one, ThreadSanitizer spread them over more than 3 s):
            // over the 20 in 3 s the server allows (NIO's own limit is 200 in 30 s).
            try await connection.sendEmptySettings(count: 30)
            let closed = await eventually(timeout: .seconds(60)) {
                connection.goAway == .enhanceYourCalm && connection.isClosed
            }
            #expect(closed, "GOAWAY \(connection.goAway.map { "\($0)" } ?? "none"), closed: \(connection.isClosed)")
            await connection.close()
        }
    }

    @Test(
        "a request that is not a plain gRPC call is refused as gRPC servers refuse it, on either transport",
        arguments: ADSServerConfiguration.Transport.allCases)
    func notGRPC(transport: ADSServerConfiguration.Transport) async throws {
        let cache = try Self.cache()
        let configuration = ADSServerConfiguration(host: "127.0.0.1", port: 0)
        try await withADSServer(transport: transport, watcher: cache, configuration: configuration) { _, _, port in
            let connection = try await RawHTTP2Connection.connect(port: port)
            // What each request changes, and how it ends: HTTP status, else gRPC status.
            let cases: [(KeyValuePairs<String, String?>, http: Int?, grpc: Int?)] = [
                (["content-type": "application/json"], 415, nil),
                (["content-type": nil], 415, nil),
                (["content-type": "application/grpc+json"], 415, nil),
                ([":method": "GET"], 200, RPCError.Code.invalidArgument.rawValue),
                ([":scheme": "ftp"], 200, RPCError.Code.invalidArgument.rawValue),
                (["grpc-encoding": "gzip"], 200, RPCError.Code.unimplemented.rawValue),
                (
                    [":path": "/envoy.service.discovery.v3.AggregatedDiscoveryService/Nothing"], 200,
                    RPCError.Code.unimplemented.rawValue
                ),
            ]
            for (changing, http, grpc) in cases {
                let stream = try await connection.openStream()
                try await stream.sendRequestHeaders(path: Self.deltaPath, changing: changing)
                let end = await stream.ended()
                #expect(end.httpStatus == http && end.grpcStatus == grpc, "\(changing): \(end)")
            }
            // gRPC's other protobuf content type is served.
            let stream = try await connection.openStream()
            try await stream.sendRequestHeaders(
                path: Self.deltaPath, changing: ["content-type": "application/grpc+proto"])
            try await stream.sendMessage(try Self.deltaRequest())
            let response = await stream.nextMessage()
            #expect(response != nil, "no response to application/grpc+proto")
            await connection.close()
        }
    }
}
