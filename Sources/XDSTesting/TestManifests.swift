import Foundation

/// Operator-side YAML for tests: what a user would write for Envoy Gateway.
public enum TestManifests {
    /// Gateway `default/eg` with one HTTP listener `http` on `port`, ending in a newline.
    public static func gateway(port: Int) -> String {
        """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: eg}
        spec:
          gatewayClassName: envoy
          listeners: [{name: http, port: \(port), protocol: HTTP}]

        """
    }

    /// Gateway `default/eg` with one HTTP listener on `listenerPort`, and a Backend `app` at
    /// 127.0.0.1:`upstreamPort` for the test's own routes.
    public static func gatewayAndApp(listenerPort: Int, upstreamPort: Int) -> String {
        gateway(port: listenerPort) + """
            ---
            apiVersion: gateway.envoyproxy.io/v1alpha1
            kind: Backend
            metadata: {name: app}
            spec: {endpoints: [{ip: {address: 127.0.0.1, port: \(upstreamPort)}}]}

            """
    }

    /// HTTPRoute `app` on Gateway `eg` to Backend `app`, and BackendTrafficPolicy `limits` on it
    /// with these `rateLimit.global.rules` items (YAML, each line indented as a list item).
    public static func appWithGlobalRateLimit(rules: String) -> String {
        """
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: app}
        spec:
          parentRefs: [{name: eg}]
          rules:
          - backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: app}]
        ---
        apiVersion: gateway.envoyproxy.io/v1alpha1
        kind: BackendTrafficPolicy
        metadata: {name: limits}
        spec:
          targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: app}]
          rateLimit:
            global:
              rules:
        \(rules.split(separator: "\n").map { "      " + $0 }.joined(separator: "\n"))
        """
    }

    /// HTTPRoute `site` on Gateway `eg`: path prefix `path` to Backend `app`, then `extraRules`
    /// (more `rules` items, indented as the first).
    public static func appRoute(path: String, extraRules: String = "") -> String {
        """
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: site}
        spec:
          parentRefs: [{name: eg}]
          rules:
          - matches: [{path: {value: \(path)}}]
            backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: app}]
        \(extraRules)
        """
    }

    /// Gateway `default/eg` with one HTTP listener on `listenerPort`, and an HTTPRoute sending
    /// everything to a Backend at 127.0.0.1:`upstreamPort`.
    public static func gatewayWithBackend(listenerPort: Int, upstreamPort: Int) -> String {
        gateway(port: listenerPort) + """
            ---
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: backend}
            spec:
              parentRefs: [{name: eg}]
              rules:
              - backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: backend}]
            ---
            apiVersion: gateway.envoyproxy.io/v1alpha1
            kind: Backend
            metadata: {name: backend}
            spec: {endpoints: [{ip: {address: 127.0.0.1, port: \(upstreamPort)}}]}
            """
    }
}

/// The `switchboard` executable that `swift build --build-tests` puts beside the test bundle.
public let switchboardExecutable = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0])
    .deletingLastPathComponent().appendingPathComponent("switchboard").path

/// What a finished command printed, and how it exited.
public struct ProcessResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// Runs a command to completion, in `directory` when given; throws when it has not finished
/// within `timeout` (and kills it). Its output goes to files, read when it has exited: no pipe to
/// fill or to wait on.
public func runProcess(
    _ executable: String, _ arguments: [String], in directory: URL? = nil, timeout: Duration = .seconds(300)
) throws -> ProcessResult {
    let scratch = try TestScratch.directory("run")
    defer { try? FileManager.default.removeItem(at: scratch) }
    let out = scratch.appendingPathComponent("stdout")
    let err = scratch.appendingPathComponent("stderr")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = directory }
    try ChildProcesses.launch {
        for file in [out, err] { _ = FileManager.default.createFile(atPath: file.path, contents: nil) }
        let outHandle = try FileHandle(forWritingTo: out)
        let errHandle = try FileHandle(forWritingTo: err)
        defer {
            try? outHandle.close()
            try? errHandle.close()
        }
        process.standardOutput = outHandle
        process.standardError = errHandle
        try process.run()
    }
    guard ChildProcesses.waitForExit(process, timeout: timeout) else {
        kill(process.processIdentifier, SIGKILL)
        throw EnvoyProcess.Failure(
            description: "\(executable) \(arguments.joined(separator: " ")) did not finish within \(timeout)")
    }
    return ProcessResult(
        status: process.terminationStatus, stdout: String(decoding: try Data(contentsOf: out), as: UTF8.self),
        stderr: String(decoding: try Data(contentsOf: err), as: UTF8.self))
}

/// A `switchboard` process run as an operator would run it.
public enum SwitchboardCommand {
    /// Starts `switchboard serve` on the given config directory; the caller terminates it. The
    /// admin server listens on `adminPort`, or on a free port when nil. `unprivileged`: run as
    /// user `nobody` when the tests run as root (file permissions do not stop root), through
    /// `setpriv`, which execs in place (terminating the process stops serve).
    public static func serve(
        config: URL, xdsPort: Int, adminPort: Int? = nil, extra: [String] = [], unprivileged: Bool = false
    ) throws -> Process {
        let serve = Process()
        let arguments =
            [
                "serve", "--config", config.path, "--xds-address", "127.0.0.1:\(xdsPort)", "--log-level", "warning",
                "--admin-address", "127.0.0.1:\(try adminPort ?? freePort())",
            ] + extra
        if unprivileged && geteuid() == 0 {
            serve.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            serve.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", switchboardExecutable] + arguments
        } else {
            serve.executableURL = URL(fileURLWithPath: switchboardExecutable)
            serve.arguments = arguments
        }
        try ChildProcesses.launch { try serve.run() }
        // Killed when the test process exits, if the test did not stop it.
        ChildProcesses.register(serve.processIdentifier)
        return serve
    }

    /// Runs `switchboard ARGUMENTS` to completion.
    public static func run(_ arguments: [String]) throws -> ProcessResult {
        try runProcess(switchboardExecutable, arguments)
    }

    /// What `switchboard bootstrap` prints for a gateway served on `xdsPort`; a refused argument
    /// throws with switchboard's message rather than handing Envoy an empty bootstrap.
    public static func bootstrap(xdsPort: Int, gateway: String, delta: Bool, extra: [String] = []) throws -> String {
        let result = try run(
            [
                "bootstrap", "--xds-address", "127.0.0.1:\(xdsPort)", "--gateway", gateway, "--admin-address",
                "127.0.0.1:0",
            ]
                + (delta ? ["--delta"] : []) + extra)
        guard result.status == 0 else {
            throw EnvoyProcess.Failure(description: "switchboard bootstrap: \(result.stderr)")
        }
        return result.stdout
    }

    /// A fresh temporary directory for a test's config files, removed when the test process exits.
    public static func temporaryDirectory(_ prefix: String) throws -> URL {
        try TestScratch.directory(prefix)
    }

    /// A fresh temporary directory holding these files (name → text; names may have folders).
    public static func configDirectory(_ prefix: String, files: [String: String]) throws -> URL {
        let directory = try temporaryDirectory(prefix)
        for (name, text) in files {
            let url = directory.appendingPathComponent(name)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        return directory
    }
}
