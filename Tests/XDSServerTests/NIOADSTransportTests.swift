import EnvoyAPI
import GRPCCore
import NIOCore
import Testing
import XDSCache
import XDSTesting

@testable import XDSServer

/// The ADS service on the NIO transport (`NIOADSServer`), spoken to by grpc-swift's client over a
/// real socket: the gRPC framing, statuses and trailers are checked by a client that is not ours.
@Suite("ADS on the NIO transport")
struct NIOADSTransportTests {
    static let group = AggregatedDiscoveryServiceTests.group
    let requests = AggregatedDiscoveryServiceTests()

    @Test("a state-of-the-world stream gets the snapshot, is recorded, and releases both when it goes away")
    func sotwStream() async throws {
        let cache = SnapshotCache()
        try cache.setSnapshot(try Fixtures.snapshot(clusters: ["a": 1]), for: Self.group)
        try await withNIOADS(watcher: cache) { client, registry in
            try await ADSTestClient.withSotWStream(client) { stream in
                stream.send(requests.sotwRequest(.cluster))
                var responses = stream.responses.makeAsyncIterator()
                let response = try #require(try await responses.next())
                #expect(response.resources.count == 1)
                #expect(cache.watchCount(nodeGroup: Self.group) == 1)
                #expect(registry.streams.map(\.nodeID) == ["envoy-1"])
                #expect(registry.streams.first?.kind == .sotw)
                #expect(registry.streams.first?.types[.cluster]?.lastSentNonce == response.nonce)
            }
            let released = await eventually { cache.watchCount(nodeGroup: Self.group) == 0 && registry.streams.isEmpty }
            #expect(released, "the closed stream still holds its watch or record")
        }
    }

    @Test("a delta stream gets the snapshot and releases its watch and record when it goes away")
    func deltaStream() async throws {
        let cache = SnapshotCache()
        try cache.setSnapshot(try Fixtures.snapshot(clusters: ["a": 1]), for: Self.group)
        try await withNIOADS(watcher: cache) { client, registry in
            try await ADSTestClient.withDeltaStream(client) { stream in
                stream.send(requests.deltaRequest(.cluster))
                var responses = stream.responses.makeAsyncIterator()
                let response = try #require(try await responses.next())
                #expect(response.resources.map(\.name) == ["a"])
                #expect(registry.streams.first?.kind == .delta)
                // A cluster added is sent alone.
                try cache.setSnapshot(try Fixtures.snapshot(clusters: ["a": 1, "b": 2]), for: Self.group)
                var ack = requests.deltaRequest(.cluster)
                ack.responseNonce = response.nonce
                stream.send(ack)
                let update = try #require(try await responses.next())
                #expect(update.resources.map(\.name) == ["b"])
                #expect(update.nonce != response.nonce)
            }
            let released = await eventually { cache.watchCount(nodeGroup: Self.group) == 0 && registry.streams.isEmpty }
            #expect(released, "the closed stream still holds its watch or record")
        }
    }

    @Test("a new snapshot reaches an open stream; a NACK is recorded in the registry")
    func snapshotUpdateAndNack() async throws {
        let cache = SnapshotCache()
        try cache.setSnapshot(try Fixtures.snapshot(clusters: ["a": 1]), for: Self.group)
        try await withNIOADS(watcher: cache) { client, registry in
            try await ADSTestClient.withSotWStream(client) { stream in
                stream.send(requests.sotwRequest(.cluster))
                var responses = stream.responses.makeAsyncIterator()
                let first = try #require(try await responses.next())
                try cache.setSnapshot(try Fixtures.snapshot(clusters: ["a": 1, "b": 2]), for: Self.group)
                var nack = requests.sotwRequest(.cluster, node: false)
                nack.responseNonce = first.nonce
                nack.errorDetail.code = 3
                nack.errorDetail.message = "cluster a: invalid"
                stream.send(nack)
                let second = try #require(try await responses.next())
                #expect(second.resources.count == 2)
                #expect(second.nonce != first.nonce)
                let status = registry.streams.first?.types[.cluster]
                #expect(status?.lastNack?.error.message == "cluster a: invalid")
            }
        }
    }

    @Test("refusals end the stream with the gRPC status and a message that says what to do")
    func refusals() async throws {
        let cache = SnapshotCache()
        try cache.setSnapshot(try Fixtures.snapshot(clusters: ["a": 1]), for: Self.group)
        try await withNIOADS(watcher: cache) { client, _ in
            let error = await #expect(throws: RPCError.self) {
                try await ADSTestClient.withSotWStream(client) { stream in
                    stream.send(requests.sotwRequest(.cluster, cluster: ""))
                    for try await _ in stream.responses {}
                }
            }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message.contains("node.cluster") == true)
        }
        try await withNIOADS(watcher: cache, maxStreams: 1) { client, registry in
            try await ADSTestClient.withSotWStream(client) { first in
                first.send(requests.sotwRequest(.cluster))
                var responses = first.responses.makeAsyncIterator()
                _ = try await responses.next()
                let error = await #expect(throws: RPCError.self) {
                    try await ADSTestClient.withSotWStream(client) { second in
                        second.send(requests.sotwRequest(.cluster))
                        for try await _ in second.responses {}
                    }
                }
                #expect(error?.code == .resourceExhausted)
                #expect(error?.message.contains("--max-streams") == true)
                #expect(registry.streams.count == 1)
            }
        }
    }

    @Test("gRPC messages are read across DATA frames, several to a frame, and bounded")
    func messageReader() throws {
        func framed(_ body: [UInt8], flag: UInt8 = 0) -> [UInt8] {
            [flag] + withUnsafeBytes(of: UInt32(body.count).bigEndian, Array.init) + body
        }
        var reader = GRPCMessageReader(maxMessageBytes: 8)
        let bytes = framed([1, 2, 3]) + framed([4]) + framed([5, 6])
        // Split mid-prefix and mid-body.
        reader.append(ByteBuffer(bytes: bytes[..<3]))
        #expect(try reader.next() == nil)
        reader.append(ByteBuffer(bytes: bytes[3..<10]))
        #expect(try reader.next() == ByteBuffer(bytes: [1, 2, 3]))
        #expect(try reader.next() == nil)
        reader.append(ByteBuffer(bytes: bytes[10...]))
        #expect(try reader.next() == ByteBuffer(bytes: [4]))
        #expect(try reader.next() == ByteBuffer(bytes: [5, 6]))
        #expect(try reader.next() == nil)
        // An empty message is a message.
        reader.append(ByteBuffer(bytes: framed([])))
        #expect(try reader.next() == ByteBuffer())

        var compressed = GRPCMessageReader(maxMessageBytes: 8)
        compressed.append(ByteBuffer(bytes: framed([1], flag: 1)))
        #expect(throws: GRPCMessageReader.Failure.compressed) { try compressed.next() }

        // Refused on its prefix, before its body arrives.
        var large = GRPCMessageReader(maxMessageBytes: 8)
        large.append(ByteBuffer(bytes: framed(Array(repeating: 0, count: 9)).prefix(5)))
        #expect(throws: GRPCMessageReader.Failure.tooLarge(announced: 9)) { try large.next() }
    }
}
