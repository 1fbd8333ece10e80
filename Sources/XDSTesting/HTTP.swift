import Foundation

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
        configuration.timeoutIntervalForRequest = 5
        configuration.requestCachePolicy = .reloadIgnoringLocalAndRemoteCacheData
        configuration.httpMaximumConnectionsPerHost = 4
        return URLSession(configuration: configuration)
    }()

    public static func get(_ url: String, headers: [String: String] = [:]) async throws -> Response {
        guard let url = URL(string: url) else { throw EnvoyProcess.Failure(description: "bad URL \(url)") }
        var request = URLRequest(url: url)
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await session.data(for: request)
        let http = response as? HTTPURLResponse
        var headerFields: [String: String] = [:]
        for (name, value) in http?.allHeaderFields ?? [:] {
            headerFields["\(name)".lowercased()] = "\(value)"
        }
        return Response(status: http?.statusCode ?? 0, body: String(decoding: data, as: UTF8.self), headers: headerFields)
    }
}

/// Polls `condition` until it holds or `timeout` passes; returns whether it held.
/// Errors from the condition count as "not yet" (Envoy's listener may not be bound yet).
public func eventually(
    timeout: Duration = .seconds(10), every interval: Duration = .milliseconds(50),
    _ condition: () async throws -> Bool
) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    repeat {
        if (try? await condition()) == true { return true }
        try? await Task.sleep(for: interval)
    } while ContinuousClock.now < deadline
    return (try? await condition()) == true
}

/// A TCP port that was free a moment ago on 127.0.0.1, for resources that must name a port
/// before anything binds it (Envoy's listeners).
public func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw EnvoyProcess.Failure(description: "socket() failed") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
    }
    guard bound == 0 else { throw EnvoyProcess.Failure(description: "bind() failed") }
    let named = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    guard named == 0 else { throw EnvoyProcess.Failure(description: "getsockname() failed") }
    return Int(UInt16(bigEndian: address.sin_port))
}
