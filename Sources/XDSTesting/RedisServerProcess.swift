import Foundation
import NIOCore
import NIOPosix
import RedisClient

/// A real `redis-server` (Debian's) on a loopback port of its own, without persistence, for one
/// test. On CI a missing binary fails the test rather than skipping it.
public final class RedisServerProcess: Sendable {
    public struct NotFound: Error, CustomStringConvertible {
        public var description: String {
            "no redis-server on PATH or in REDIS_SERVER_BIN: apt-get install redis-server"
        }
    }

    public static let required = binary() != nil || ProcessInfo.processInfo.environment["CI"] == "true"

    public static func binary() -> String? {
        if let path = ProcessInfo.processInfo.environment["REDIS_SERVER_BIN"], !path.isEmpty { return path }
        for directory in ["/usr/bin", "/usr/local/bin", "/usr/sbin"] {
            let path = directory + "/redis-server"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    public let port: Int
    private let process: Process

    private init(port: Int, process: Process) {
        self.port = port
        self.process = process
    }

    /// Starts one and waits until it answers PING. A port taken between choosing and binding is
    /// retried with another, unless `port` names the one to use (a restart).
    public static func start(port fixedPort: Int? = nil) async throws -> RedisServerProcess {
        guard let binary = binary() else { throw NotFound() }
        var lastError: (any Error)?
        for _ in 0..<(fixedPort == nil ? 5 : 1) {
            let port: Int
            if let fixedPort { port = fixedPort } else { port = try freePort() }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = [
                "--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no",
                "--loglevel", "warning",
            ]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try ChildProcesses.launch { try process.run() }
            ChildProcesses.register(process.processIdentifier)
            let server = RedisServerProcess(port: port, process: process)
            do {
                try await server.waitUntilReady()
                return server
            } catch {
                lastError = error
                server.terminate()
            }
        }
        throw lastError!
    }

    private func waitUntilReady() async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            guard process.isRunning else { throw RedisError.connect(address: "127.0.0.1:\(port)", reason: "exited") }
            if let connection = try? await RedisConnection.connect(host: "127.0.0.1", port: port) {
                defer { Task { await connection.close() } }
                if (try? await connection.send("PING", timeout: .seconds(5))) == .simpleString("PONG") { return }
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw RedisError.timeout(.seconds(20))
    }

    public var pid: Int32 { process.processIdentifier }

    /// Freezes it (SIGSTOP): connections stay open and nothing answers, as with a Redis stuck in a
    /// slow command.
    public func freeze() { kill(pid, SIGSTOP) }
    public func thaw() { kill(pid, SIGCONT) }

    public func terminate() {
        guard process.isRunning else { return }
        // SIGKILL ends a frozen process too; waking it first would let it answer what it holds.
        kill(pid, SIGKILL)
        _ = ChildProcesses.waitForExit(process)
        ChildProcesses.ended(pid)
    }

    deinit { terminate() }
}
