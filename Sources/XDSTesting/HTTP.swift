import AdminAPI
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A plain HTTP/1.1 client for tests: requests through Envoy's listener and to its admin port.
///
/// AsyncHTTPClient, not URLSession: FoundationNetworking's sessions on Linux (libcurl behind
/// Dispatch sources) have known crashes when a connection is refused or a session is torn
/// down, and the tests poll listeners that are not bound yet, thousands of times a run. A
/// crashed test process leaves its Envoys and servers running, and they keep CI's output open.
public enum HTTP {
    public struct Response: Sendable {
        public var status: Int
        public var body: String
        /// Lowercased names; a repeated header's values joined with ", ".
        public var headers: [String: String]
    }

    /// Each request on a connection of its own: a pooled connection that Envoy closes (a
    /// listener drained by an update) would fail the next request sent on it. A refused connection
    /// fails the request at once, as a poll for a listener not yet bound expects (retrying it, the
    /// client's default, would wait out the connect timeout with a backoff that keeps growing while
    /// the port stays closed). Connect within 10 s, and no answer stalls for more than 30 s.
    private static func configuration(followRedirects: Bool, connections: Int = 8) -> HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: followRedirects ? .follow(max: 10, allowCycles: false) : .disallow,
            timeout: .init(connect: .seconds(10), read: .seconds(30)),
            connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: connections))
        configuration.maximumUsesPerConnection = 1
        configuration.connectionPool.retryConnectionEstablishment = false
        return configuration
    }

    /// A thread of its own, not NIO's shared event loops: in-process servers of other tests keep
    /// those busy (large messages, thousands of streams), and a poll waiting behind them made a
    /// test that paces requests every 100 ms send four in 15 s.
    private static let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    private static let client = HTTPClient(eventLoopGroup: group, configuration: configuration(followRedirects: true))
    /// Redirects are answers to look at, not to follow.
    private static let noRedirectClient = HTTPClient(
        eventLoopGroup: group, configuration: configuration(followRedirects: false))

    /// `count` GETs of `url` started together, each on its own connection (for circuit breakers
    /// and rate limits); their statuses in completion order, 0 for no answer. Each call has its
    /// own client, so tests running beside it never hold its connections back.
    public static func concurrentGets(_ url: String, count: Int, headers: [String: String] = [:]) async -> [Int] {
        let client = HTTPClient(
            eventLoopGroup: group, configuration: configuration(followRedirects: true, connections: count))
        let statuses = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<count {
                group.addTask {
                    let response = try? await execute(client, url: url, method: "GET", headers: headers)
                    return response?.status ?? 0
                }
            }
            var statuses: [Int] = []
            for await status in group { statuses.append(status) }
            return statuses
        }
        try? await client.shutdown()
        return statuses
    }

    /// A request of `method` (GET unless told) without a body.
    public static func get(
        _ url: String, method: String = "GET", headers: [String: String] = [:], followRedirects: Bool = true
    ) async throws -> Response {
        try await execute(followRedirects ? client : noRedirectClient, url: url, method: method, headers: headers)
    }

    private static func execute(_ client: HTTPClient, url: String, method: String, headers: [String: String])
        async throws -> Response
    {
        var request = HTTPClientRequest(url: url)
        request.method = HTTPMethod(rawValue: method)
        for (name, value) in headers { request.headers.replaceOrAdd(name: name, value: value) }
        let response = try await client.execute(request, timeout: .seconds(60))
        let body = try await response.body.collect(upTo: 1 << 30)
        var headerFields: [String: String] = [:]
        for (name, value) in response.headers {
            let name = name.lowercased()
            headerFields[name] = headerFields[name].map { "\($0), \(value)" } ?? value
        }
        return Response(status: Int(response.status.code), body: String(buffer: body), headers: headerFields)
    }
}

/// Polls `condition` until it holds or `timeout` passes; returns whether it held.
/// Errors from the condition count as "not yet" (Envoy's listener may not be bound yet). The
/// deadline bounds a failure, not a success: on a busy 2-core CI machine an Envoy can take tens of
/// seconds to start, so waits for an outcome default to a minute.
public func eventually(
    timeout: Duration = .seconds(60), every interval: Duration = .milliseconds(50),
    _ condition: () async throws -> Bool
) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    repeat {
        if (try? await condition()) == true { return true }
        try? await Task.sleep(for: interval)
    } while ContinuousClock.now < deadline
    return (try? await condition()) == true
}

/// A TCP port on 127.0.0.1 that is free now and that no other caller in this process gets, for
/// things that must name a port before anything binds it (Envoy's listeners, a server restarted
/// on the same port).
///
/// Ports come from 20000-29999, below Linux's ephemeral range (32768 and up), so a server that
/// binds port 0 elsewhere in the run can never be handed one of them in the gap before it is
/// bound (that race once let one test's Envoy connect to another test's ADS server).
public func freePort() throws -> Int {
    for _ in 0..<10_000 {
        let port = portCursor.withLock { cursor -> Int in
            cursor += 1
            return 20000 + cursor % 10000
        }
        if canBind(port) { return port }
    }
    throw EnvoyProcess.Failure(description: "no free port in 20000-29999 on 127.0.0.1")
}

/// Where the next search starts; seeded from the process id so parallel test processes spread out.
private let portCursor = Mutex(Int(getpid()) * 7919 % 10000)

private func canBind(_ port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = UInt16(port).bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
    }
    return bound == 0
}

/// A running `switchboard serve`'s `/status`, decoded as `switchboard status` decodes it.
public func switchboardStatus(adminPort: Int) async throws -> AdminStatus {
    try AdminStatus.decode(Data(try await HTTP.get("http://127.0.0.1:\(adminPort)/status").body.utf8))
}
