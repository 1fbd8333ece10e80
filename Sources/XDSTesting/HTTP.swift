import AdminAPI
import Foundation
import Synchronization

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A plain HTTP/1.1 client for tests: requests through Envoy's listener and to its admin port.
public enum HTTP {
    public struct Response: Sendable {
        public var status: Int
        public var body: String
        public var headers: [String: String]
    }

    private static let session: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 30
        configuration.requestCachePolicy = .reloadIgnoringLocalAndRemoteCacheData
        configuration.httpMaximumConnectionsPerHost = 4
        return URLSession(configuration: configuration)
    }()

    /// `count` GETs of `url` started together, each on its own connection (for circuit breakers
    /// and rate limits); their statuses in completion order, 0 for no answer. Each call has its
    /// own session, so tests running beside it never hold its connections back.
    public static func concurrentGets(_ url: String, count: Int, headers: [String: String] = [:]) async -> [Int] {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 60
        configuration.httpMaximumConnectionsPerHost = count
        let session = URLSession(configuration: configuration)
        defer { session.finishTasksAndInvalidate() }
        return await withTaskGroup(of: Int.self) { group in
            for _ in 0..<count {
                group.addTask {
                    guard let target = URL(string: url) else { return 0 }
                    var request = URLRequest(url: target)
                    for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
                    let response = try? await session.data(for: request).1 as? HTTPURLResponse
                    return response?.statusCode ?? 0
                }
            }
            var statuses: [Int] = []
            for await status in group { statuses.append(status) }
            return statuses
        }
    }

    /// Redirects are answers to look at, not to follow.
    private static let noRedirectSession: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 30
        return URLSession(configuration: configuration, delegate: RedirectRefuser(), delegateQueue: nil)
    }()

    private final class RedirectRefuser: NSObject, URLSessionTaskDelegate, Sendable {
        func urlSession(
            _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
            newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void
        ) {
            completionHandler(nil)
        }
    }

    /// A request of `method` (GET unless told) without a body.
    public static func get(
        _ url: String, method: String = "GET", headers: [String: String] = [:], followRedirects: Bool = true
    ) async throws -> Response {
        guard let url = URL(string: url) else { throw EnvoyProcess.Failure(description: "bad URL \(url)") }
        var request = URLRequest(url: url)
        request.httpMethod = method
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await (followRedirects ? session : noRedirectSession).data(for: request)
        let http = response as? HTTPURLResponse
        var headerFields: [String: String] = [:]
        for (name, value) in http?.allHeaderFields ?? [:] {
            headerFields["\(name)".lowercased()] = "\(value)"
        }
        return Response(
            status: http?.statusCode ?? 0, body: String(decoding: data, as: UTF8.self), headers: headerFields)
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
