import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A real headless Chromium, driven over WebDriver (plain HTTP and JSON) by Debian's
/// `chromium-driver`: for tests of the admin server's dashboard. One chromedriver process and
/// one browser session per instance; `close()` ends both.
public final class Browser: Sendable {
    public struct NotFound: Error, CustomStringConvertible {
        public var description: String {
            "chromium and chromedriver are not installed (apt-get install chromium chromium-driver), or set CHROMIUM_BIN and CHROMEDRIVER_BIN"
        }
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Tests that need a browser run when one is installed, and always under CI (where a
    /// missing one fails them rather than skipping).
    public static let required = binaries() != nil || ProcessInfo.processInfo.environment["CI"] == "true"

    static func binaries() -> (chromium: String, driver: String)? {
        let environment = ProcessInfo.processInfo.environment
        let chromium = environment["CHROMIUM_BIN"] ?? "/usr/bin/chromium"
        let driver = environment["CHROMEDRIVER_BIN"] ?? "/usr/bin/chromedriver"
        guard FileManager.default.isExecutableFile(atPath: chromium),
            FileManager.default.isExecutableFile(atPath: driver)
        else { return nil }
        return (chromium, driver)
    }

    private let driver: Process
    private let base: String
    private let session: String

    private init(driver: Process, base: String, session: String) {
        self.driver = driver
        self.base = base
        self.session = session
    }

    /// Starts chromedriver and a headless browser with a `width`×`height` window, keeping the
    /// page's console messages for `consoleErrors()`.
    public static func start(width: Int = 1280, height: Int = 900) async throws -> Browser {
        guard let binaries = binaries() else { throw NotFound() }
        let port = try freePort()
        let driver = Process()
        driver.executableURL = URL(fileURLWithPath: binaries.driver)
        let scratch = try TestScratch.directory("browser")
        let log = scratch.appendingPathComponent("chromedriver.log")
        driver.arguments = ["--port=\(port)", "--allowed-ips=127.0.0.1", "--log-path=\(log.path)"]
        driver.standardOutput = FileHandle.nullDevice
        driver.standardError = FileHandle.nullDevice
        try ChildProcesses.launch { try driver.run() }
        ChildProcesses.register(driver.processIdentifier)
        let base = "http://127.0.0.1:\(port)"
        let up = await eventually {
            (try await call(base, "GET", "/status", nil, timeout: 10) as? [String: Any])?["ready"] as? Bool == true
        }
        guard up else {
            stop(driver)
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? "no log"
            throw Failure(description: "chromedriver did not start on port \(port): \(text.suffix(1500))")
        }
        let profile = scratch.appendingPathComponent("profile")
        let capabilities: [String: Any] = [
            "capabilities": [
                "alwaysMatch": [
                    "browserName": "chrome",
                    "goog:chromeOptions": [
                        "binary": binaries.chromium,
                        "args": [
                            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                            "--window-size=\(width),\(height)", "--user-data-dir=\(profile.path)",
                        ],
                    ],
                    "goog:loggingPrefs": ["browser": "ALL"],
                ]
            ]
        ]
        do {
            let reply = try await call(base, "POST", "/session", capabilities, timeout: 120)
            guard let value = reply as? [String: Any], let session = value["sessionId"] as? String else {
                throw Failure(description: "chromedriver made no session: \(String(describing: reply))")
            }
            return Browser(driver: driver, base: base, session: session)
        } catch {
            stop(driver)
            throw error
        }
    }

    /// Opens `url` and waits for it to load.
    public func open(_ url: String) async throws {
        _ = try await command("POST", "/url", ["url": url])
    }

    /// Runs `script` (a function body; `return` gives the result) in the page.
    public func evaluate(_ script: String) async throws -> Any? {
        try await command("POST", "/execute/sync", ["script": script, "args": [Any]()])
    }

    /// The page's console errors and uncaught exceptions since the last call (each once).
    public func consoleErrors() async throws -> [String] {
        let entries = try await command("POST", "/se/log", ["type": "browser"]) as? [[String: Any]] ?? []
        return entries.filter { $0["level"] as? String == "SEVERE" }.map { $0["message"] as? String ?? "\($0)" }
    }

    /// A PNG of the window.
    public func screenshot() async throws -> Data {
        guard let encoded = try await command("GET", "/screenshot", nil) as? String,
            let data = Data(base64Encoded: encoded)
        else { throw Failure(description: "chromedriver returned no screenshot") }
        return data
    }

    public func close() async {
        _ = try? await command("DELETE", "", nil)
        Self.stop(driver)
    }

    /// chromedriver does not always exit on SIGTERM: SIGKILL, then reap it. Its process group
    /// too (Foundation starts each child as a group's leader), for a browser it left running,
    /// which would hold the exit-watch socket it inherited and keep the driver "running".
    private static func stop(_ driver: Process) {
        if driver.isRunning {
            kill(-driver.processIdentifier, SIGKILL)
            kill(driver.processIdentifier, SIGKILL)
        }
        _ = ChildProcesses.waitForExit(driver)
        ChildProcesses.ended(driver.processIdentifier)
    }

    private func command(_ method: String, _ path: String, _ body: [String: Any]?) async throws -> Any? {
        try await Self.call(base, method, "/session/\(session)\(path)", body, timeout: 60)
    }

    /// One WebDriver call; its `value`, or a failure with WebDriver's error and message. Made
    /// with curl: chromedriver writes header lines without a space after the colon, which
    /// Foundation's URLSession on Linux refuses ("Failed writing header").
    private static func call(_ base: String, _ method: String, _ path: String, _ body: [String: Any]?, timeout: Double)
        async throws -> Any?
    {
        var arguments = ["-sS", "-X", method, "-m", "\(Int(timeout))", "-w", "\n%{http_code}", base + path]
        if let body {
            let json = String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self)
            arguments += ["-H", "Content-Type: application/json", "--data-binary", json]
        }
        // Off the concurrency pool: a navigation can take seconds.
        let command = arguments
        let result = try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try runProcess("/usr/bin/curl", command) })
            }
        }
        guard result.status == 0, let split = result.stdout.lastIndex(of: "\n") else {
            throw Failure(description: "WebDriver \(method) \(path): curl: \(result.stderr)")
        }
        let data = Data(result.stdout[..<split].utf8)
        let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        let value = object?["value"]
        if result.stdout[result.stdout.index(after: split)...] != "200" {
            let detail = value as? [String: Any]
            throw Failure(
                description:
                    "WebDriver \(method) \(path): \(detail?["error"] ?? "error"): \(detail?["message"] ?? String(decoding: data, as: UTF8.self))"
            )
        }
        return value is NSNull ? nil : value
    }
}
