import Foundation
import NIOCore
import NIOPosix
import Testing
import XDSTesting

@testable import RedisClient

/// Against a real redis-server: what the rate limit service's counters rely on.
@Suite(.enabled(if: RedisServerProcess.required, "redis-server is not installed"))
struct RedisConnectionTests {
    /// A fixed window's count: INCRBY and EXPIRE in one pipeline, as the rate limit service sends
    /// them. A refused command is a reply, and the connection carries on.
    @Test func pipelinedCounter() async throws {
        let server = try await RedisServerProcess.start()
        defer { server.terminate() }
        let redis = try await RedisConnection.connect(
            host: "127.0.0.1", port: server.port, connectTimeout: .seconds(60))
        let window = [["INCRBY", "domain_key_value_60", "3"], ["EXPIRE", "domain_key_value_60", "60"]]
        #expect(try await redis.send(window, timeout: .seconds(60)) == [.integer(3), .integer(1)])
        #expect(try await redis.send(window, timeout: .seconds(60)) == [.integer(6), .integer(1)])
        let ttl = try await redis.send("TTL", "domain_key_value_60", timeout: .seconds(60)).integer
        #expect((1...60).contains(ttl ?? 0))
        let refused = try await redis.send("INCRBY", "domain_key_value_60", "many", timeout: .seconds(60))
        guard case .error(let message) = refused else {
            Issue.record("expected an error reply, got \(refused)")
            return
        }
        #expect(message.hasPrefix("ERR"))
        #expect(try await redis.send("GET", "domain_key_value_60", timeout: .seconds(60)).string == "6")
        #expect(try await redis.send("GET", "missing", timeout: .seconds(60)) == .bulkString(nil))
        await redis.close()
    }

    /// Many tasks share one connection; every one gets its own reply, whatever the interleaving.
    @Test func concurrentSendersGetTheirOwnReplies() async throws {
        let server = try await RedisServerProcess.start()
        defer { server.terminate() }
        let redis = try await RedisConnection.connect(
            host: "127.0.0.1", port: server.port, connectTimeout: .seconds(60))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<200 {
                group.addTask {
                    for round in 1...5 {
                        let replies = try await redis.send(
                            [["INCRBY", "k\(task)", "\(task)"], ["GET", "k\(task)"]], timeout: .seconds(30))
                        #expect(replies == [.integer(Int64(task * round)), .bulkString(Array("\(task * round)".utf8))])
                    }
                }
            }
            try await group.waitForAll()
        }
        await redis.close()
    }

    /// A Redis that stops answering costs a caller its timeout, not more; the connection is closed
    /// (a late reply would answer the next command), and a new one works once Redis is back.
    @Test func frozenServerTimesOut() async throws {
        let server = try await RedisServerProcess.start()
        defer { server.terminate() }
        let redis = try await RedisConnection.connect(
            host: "127.0.0.1", port: server.port, connectTimeout: .seconds(60))
        server.freeze()
        await #expect(throws: RedisError.timeout(.milliseconds(300))) {
            try await redis.send("PING", timeout: .milliseconds(300))
        }
        #expect(!redis.isActive)
        await #expect(throws: RedisError.closed) { try await redis.send("PING", timeout: .seconds(60)) }
        server.thaw()
        let again = try await RedisConnection.connect(
            host: "127.0.0.1", port: server.port, connectTimeout: .seconds(60))
        #expect(try await again.send("PING", timeout: .seconds(60)) == .simpleString("PONG"))
        await again.close()
    }

    /// Redis gone: waiting commands fail at once, and connecting says where and what to do.
    @Test func stoppedServerFailsFast() async throws {
        let server = try await RedisServerProcess.start()
        let redis = try await RedisConnection.connect(
            host: "127.0.0.1", port: server.port, connectTimeout: .seconds(60))
        server.freeze()
        let waiting = Task { () throws(RedisError) -> RESPValue in try await redis.send("PING", timeout: .seconds(60)) }
        try await Task.sleep(for: .milliseconds(100))
        server.terminate()
        await #expect(throws: RedisError.closed) { try await waiting.value }
        let error = await #expect(throws: RedisError.self) {
            try await RedisConnection.connect(host: "127.0.0.1", port: server.port, connectTimeout: .seconds(60))
        }
        #expect(error?.description.contains("check that redis-server runs there") == true)
    }

    /// A peer that announces a huge reply is cut off before anything is buffered for it.
    @Test func oversizedReplyClosesTheConnection() async throws {
        let peer = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Announcer())
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        defer { peer.close(promise: nil) }
        let redis = try await RedisConnection.connect(
            host: "127.0.0.1", port: peer.localAddress!.port!, connectTimeout: .seconds(60))
        await #expect(throws: RedisError.protocolViolation("a bulk string of 4000000000 bytes (at most 1048576)")) {
            try await redis.send("GET", "x", timeout: .seconds(60))
        }
    }

    /// Answers any command with the header of a 4 GB bulk string.
    final class Announcer: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "$4000000000\r\n")), promise: nil)
        }
    }
}
