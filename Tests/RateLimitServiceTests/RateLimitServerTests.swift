import EnvoyAPI
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import GRPCProtobuf
import NIOHPACK
import NIOHTTP2
import Testing
import XDSTesting

@testable import RateLimitService

/// The rate limit service's own HTTP/2 endpoint, called by grpc-swift's client over a real socket:
/// what it answers, what it refuses, and many calls at once on one connection.
@Suite struct RateLimitServerTests {
    typealias Request = Envoy_Service_Ratelimit_V3_RateLimitRequest
    typealias Response = Envoy_Service_Ratelimit_V3_RateLimitResponse

    static func request(user: String, padding: Int = 0) -> Request {
        var request = Request()
        request.domain = "d"
        var descriptor = Envoy_Extensions_Common_Ratelimit_V3_RateLimitDescriptor()
        var entry = Envoy_Extensions_Common_Ratelimit_V3_RateLimitDescriptor.Entry()
        entry.key = "user"
        entry.value = user + String(repeating: "x", count: padding)
        descriptor.entries = [entry]
        request.descriptors = [descriptor]
        return request
    }

    /// A server with one rule, 2 a minute per user, and a client connected to it.
    func withServer(
        _ body:
            @Sendable (
                Envoy_Service_Ratelimit_V3_RateLimitService.Client<HTTP2ClientTransport.Posix>,
                GRPCClient<HTTP2ClientTransport.Posix>
            ) async throws -> Void
    ) async throws {
        let now: @Sendable () -> Int64 = { 1_000_000 }
        let service = RateLimitGRPCService(limiter: FixedWindowLimiter(store: MemoryCounterStore(now: now), now: now))
        service.update(
            RateLimitTable(domains: ["d": [.init(key: "user", limit: RateLimit(requestsPerUnit: 2, unit: .minute))]]))
        let server = RateLimitServer(host: "127.0.0.1", port: 0, service: service)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            defer { group.cancelAll() }
            let port = try await server.listeningPort()
            try await withGRPCClient(
                transport: .http2NIOPosix(
                    target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext)
            ) { grpc in
                try await body(Envoy_Service_Ratelimit_V3_RateLimitService.Client(wrapping: grpc), grpc)
            }
        }
    }

    @Test func answersAndCounts() async throws {
        try await withServer { client, _ in
            let codes = try await (0..<3).asyncMap { _ in
                try await client.shouldRateLimit(Self.request(user: "a")).overallCode
            }
            #expect(codes == [.ok, .ok, .overLimit])
            let other = try await client.shouldRateLimit(Self.request(user: "b"))
            #expect(other.overallCode == .ok)
            #expect(other.statuses.first?.currentLimit.requestsPerUnit == 2)
            #expect(other.statuses.first?.limitRemaining == 1)
        }
    }

    @Test func manyCallsAtOnceOnOneConnection() async throws {
        try await withServer { client, _ in
            let over = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<300 {
                    group.addTask {
                        try await client.shouldRateLimit(Self.request(user: "u\(index % 100)")).overallCode
                            == .overLimit
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(over == 100)  // three calls per user, two allowed
        }
    }

    /// Raw HTTP/2, as no gRPC library would send it: request trailers, a message that does not
    /// parse.
    @Test func trailersEndTheRequestAndGarbageIsRefused() async throws {
        let now: @Sendable () -> Int64 = { 1_000_000 }
        let service = RateLimitGRPCService(limiter: FixedWindowLimiter(store: MemoryCounterStore(now: now), now: now))
        let server = RateLimitServer(host: "127.0.0.1", port: 0, service: service)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            defer { group.cancelAll() }
            let connection = try await RawHTTP2Connection.connect(port: try await server.listeningPort())
            let withTrailers = try await connection.openStream()
            try await withTrailers.sendRequestHeaders(path: RateLimitConnectionHandler.method)
            try await withTrailers.sendMessage(try Self.request(user: "a").serializedBytes())
            try await withTrailers.channel.writeAndFlush(
                HTTP2Frame.FramePayload.headers(.init(headers: ["x-trailer": "1"], endStream: true)))
            let answer = try #require(await withTrailers.nextMessage())
            #expect(try Response(serializedBytes: answer).overallCode == .ok)
            #expect(await withTrailers.ended().grpcStatus == 0)

            let garbage = try await connection.openStream()
            try await garbage.sendRequestHeaders(path: RateLimitConnectionHandler.method)
            try await garbage.sendMessage([0xFF, 0xFF, 0xFF], endStream: true)
            #expect(await garbage.ended().grpcStatus == RPCError.Code.invalidArgument.rawValue)
            await connection.close()
        }
    }

    @Test func refusesOversizedRequestsAndOtherMethods() async throws {
        try await withServer { client, grpc in
            await #expect {
                _ = try await client.shouldRateLimit(
                    Self.request(user: "a", padding: RateLimitConnectionHandler.maxRequestBytes))
            } throws: { ($0 as? RPCError)?.code == .resourceExhausted }
            // A method the endpoint does not serve, called on the same connection.
            let descriptor = MethodDescriptor(fullyQualifiedService: "some.Other", method: "Call")
            await #expect {
                try await grpc.unary(
                    request: ClientRequest(message: Self.request(user: "a")), descriptor: descriptor,
                    serializer: ProtobufSerializer<Request>(), deserializer: ProtobufDeserializer<Response>(),
                    options: .defaults
                ) { try $0.message }
            } throws: { ($0 as? RPCError)?.code == .unimplemented }
            // The connection still serves.
            let after = try await client.shouldRateLimit(Self.request(user: "c"))
            #expect(after.overallCode == .ok)
        }
    }
}

@Test func grpcMessagesArePercentEncoded() {
    #expect(RateLimitConnectionHandler.percentEncoded("Redis: 100% down\n é") == "Redis: 100%25 down%0A %C3%A9")
}

extension Sequence where Element: Sendable {
    fileprivate func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
