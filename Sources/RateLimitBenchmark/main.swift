import ArgumentParser
import EnvoyAPI
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import RateLimitService
import Synchronization
import XDSTesting

/// Decisions per second of the rate limit service: ShouldRateLimit calls over real gRPC (HTTP/2 on
/// loopback) from `--connections` clients with `--concurrency` calls in flight each, for
/// `--seconds`, counting in memory and then in a redis-server this benchmark starts. Each call
/// carries one descriptor with a Distinct value drawn from `--users`, as a per-user limit would.
/// Then the same server under h2load, when it is installed: the server's figure alone.
@main
struct RateLimitBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ratelimit-bench", abstract: "Decisions per second of the rate limit service.")

    @Option(help: "Seconds to measure each store.") var seconds = 5.0
    @Option(help: "gRPC connections (clients).") var connections = 4
    @Option(help: "Calls in flight on each connection.") var concurrency = 32
    @Option(help: "Distinct values of the limited header.") var users = 1000
    @Option(parsing: .upToNextOption, help: "Stores to measure: memory, redis.") var stores = ["memory", "redis"]

    func run() async throws {
        for store in stores {
            let redis = store == "redis" ? try await RedisServerProcess.start() : nil
            defer { redis?.terminate() }
            let now: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }
            let counters: any CounterStore =
                if let redis {
                    RedisCounterStore(host: "127.0.0.1", port: redis.port, timeout: .seconds(5))
                } else {
                    MemoryCounterStore(now: now)
                }
            let service = RateLimitGRPCService(limiter: FixedWindowLimiter(store: counters, now: now))
            // One rule: 100 a second per user, so some calls are over the limit.
            service.update(
                RateLimitTable(domains: [
                    "bench": [
                        .init(
                            key: "route", value: "route",
                            children: [.init(key: "user", limit: RateLimit(requestsPerUnit: 100, unit: .second))])
                    ]
                ]))
            let direct = try await measureDirect(service)
            report(store + " (no gRPC)", direct)
            let server = RateLimitServer(host: "127.0.0.1", port: 0, service: service)
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { try? await server.run() }
                let port = try await server.listeningPort()
                report(store + " over gRPC", try await measure(port: port))
                try h2load(store, port: port)
                group.cancelAll()
            }
        }
    }

    func report(_ name: String, _ result: Tally) {
        let rate = Int(Double(result.calls) / seconds)
        print(
            "\(name.padding(toLength: 20, withPad: " ", startingAt: 0)) \(connections)×\(concurrency)  \(result.calls) in \(seconds) s: \(rate)/s, over limit \(result.over), errors \(result.errors)"
        )
    }

    /// The same calls from h2load (Debian's nghttp2-client), a C client in its own process, so
    /// that the figure is the server's alone: the Swift gRPC client above costs as much CPU as
    /// the server. Every call repeats one request (one user).
    func h2load(_ store: String, port: Int) throws {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map { "\($0)/h2load" }
        guard let h2load = path.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            print(
                "\(store.padding(toLength: 20, withPad: " ", startingAt: 0)) h2load: not installed (apt install nghttp2-client)"
            )
            return
        }
        let message: [UInt8] = try Self.request(1, users: users).serializedBytes()
        var frame: [UInt8] = [0] + withUnsafeBytes(of: UInt32(message.count).bigEndian, Array.init)
        frame += message
        let body = FileManager.default.temporaryDirectory.appendingPathComponent("ratelimit-bench-\(port).bin")
        try Data(frame).write(to: body)
        defer { try? FileManager.default.removeItem(at: body) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: h2load)
        process.arguments = [
            "-D", "\(Int(seconds.rounded(.up)))", "-c", "\(connections)", "-m", "\(concurrency)", "-t", "1", "-d",
            body.path,
            "-H", "content-type: application/grpc", "-H", "te: trailers",
            "http://127.0.0.1:\(port)/envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit",
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let lines = text.split(separator: "\n").filter { $0.hasPrefix("finished in") || $0.hasPrefix("status codes:") }
        print(
            "\((store + " from h2load").padding(toLength: 20, withPad: " ", startingAt: 0)) \(connections)×\(concurrency)  "
                + lines.joined(separator: "; "))
    }

    static func request(_ index: Int, users: Int) -> Envoy_Service_Ratelimit_V3_RateLimitRequest {
        var request = Envoy_Service_Ratelimit_V3_RateLimitRequest()
        request.domain = "bench"
        var descriptor = Envoy_Extensions_Common_Ratelimit_V3_RateLimitDescriptor()
        var route = Envoy_Extensions_Common_Ratelimit_V3_RateLimitDescriptor.Entry()
        route.key = "route"
        route.value = "route"
        var user = Envoy_Extensions_Common_Ratelimit_V3_RateLimitDescriptor.Entry()
        user.key = "user"
        user.value = "u\(index % users)"
        descriptor.entries = [route, user]
        request.descriptors = [descriptor]
        return request
    }

    /// The service's own work, called directly: the limit on what gRPC adds.
    func measureDirect(_ service: RateLimitGRPCService) async throws -> Tally {
        let tally = Tallies()
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        let users = users
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<(connections * concurrency) {
                group.addTask {
                    var index = worker
                    while ContinuousClock.now < deadline {
                        index &+= 7919
                        let response = try? await service.respond(to: Self.request(index, users: users))
                        tally.state.withLock {
                            $0.calls += 1
                            if response == nil {
                                $0.errors += 1
                            } else if response!.overallCode == .overLimit {
                                $0.over += 1
                            }
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        return tally.state.withLock { $0 }
    }

    final class Tallies: Sendable {
        let state = Mutex(Tally())
    }

    struct Tally: Sendable {
        var calls = 0
        var over = 0
        var errors = 0
    }

    func measure(port: Int) async throws -> Tally {
        let tally = Tallies()
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        let (concurrency, users) = (concurrency, users)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<connections {
                group.addTask {
                    let transport = try HTTP2ClientTransport.Posix(
                        target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext)
                    try await withGRPCClient(transport: transport) { grpc in
                        let client = Envoy_Service_Ratelimit_V3_RateLimitService.Client(wrapping: grpc)
                        try await withThrowingTaskGroup(of: Void.self) { calls in
                            for worker in 0..<concurrency {
                                calls.addTask {
                                    var index = worker
                                    while ContinuousClock.now < deadline {
                                        index &+= 7919
                                        let request = Self.request(index, users: users)
                                        do {
                                            let response = try await client.shouldRateLimit(request)
                                            tally.state.withLock {
                                                $0.calls += 1
                                                if response.overallCode == .overLimit { $0.over += 1 }
                                            }
                                        } catch {
                                            tally.state.withLock { $0.errors += 1 }
                                        }
                                    }
                                }
                            }
                            try await calls.waitForAll()
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        return tally.state.withLock { $0 }
    }
}
