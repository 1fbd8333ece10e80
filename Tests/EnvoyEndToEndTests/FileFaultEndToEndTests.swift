import AdminAPI
import ControlPlane
import Foundation
import Testing
import XDSTesting

/// File-system faults under a running `switchboard serve` with a real Envoy: what cannot be read
/// is not deleted, and a config directory that goes away and comes back is watched again.
@Suite(
    "File-system faults with a real Envoy",
    .enabled(if: envoyRequired, "no Envoy binary (set ENVOY_BIN or create .venv)"))
struct FileFaultEndToEndTests {
    static func route(_ name: String, path: String) -> String {
        """
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: \(name)}
        spec:
          parentRefs: [{name: eg}]
          rules:
          - matches: [{path: {value: \(path)}}]
            backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: app}]
        """
    }

    static func gateway(port: Int, upstream: Int) -> String {
        TestManifests.gateway(port: port) + """
            ---
            apiVersion: gateway.envoyproxy.io/v1alpha1
            kind: Backend
            metadata: {name: app}
            spec: {endpoints: [{ip: {address: 127.0.0.1, port: \(upstream)}}]}
            """
    }

    @Test("a file or directory that serve cannot read keeps its routes in Envoy, with the reason in status")
    func unreadable() async throws {
        let upstream = try await UpstreamServer.start(name: "app")
        defer { Task { await upstream.stop() } }
        let port = try freePort()
        let xdsPort = try freePort()
        let adminPort = try freePort()
        let directory = try SwitchboardCommand.configDirectory(
            "unreadable",
            files: [
                "gateway.yaml": Self.gateway(port: port, upstream: upstream.port),
                "a.yaml": Self.route("a", path: "/a"),
                "more/b.yaml": Self.route("b", path: "/b"),
            ])
        let serve = try SwitchboardCommand.serve(
            config: directory, xdsPort: xdsPort, adminPort: adminPort, unprivileged: true)
        defer { if serve.isRunning { serve.terminate() } }
        let envoy = try await EnvoyProcess.start(
            bootstrap: try SwitchboardCommand.bootstrap(xdsPort: xdsPort, gateway: "default/eg", delta: true))
        defer { Task { await envoy.stop() } }
        let url = "http://127.0.0.1:\(port)"
        let ready = await eventually(timeout: .seconds(60)) {
            let a = try await HTTP.get("\(url)/a").status
            let b = try await HTTP.get("\(url)/b").status
            return a == 200 && b == 200
        }
        let log = envoy.log().suffix(1500)
        try #require(ready, "Envoy log:\n\(log)")

        let file = directory.appendingPathComponent("a.yaml").path
        let folder = directory.appendingPathComponent("more").path
        #expect(chmod(file, 0) == 0)
        #expect(chmod(folder, 0) == 0)
        defer { _ = chmod(folder, 0o755) }
        func status() async throws -> AdminStatus {
            try AdminStatus.decode(Data(try await HTTP.get("http://127.0.0.1:\(adminPort)/status").body.utf8))
        }
        let reported = await eventually(timeout: .seconds(60)) {
            let diagnostics = try await status().reload?.diagnostics ?? []
            return diagnostics.contains("\(file):1:1: cannot read the file: Permission denied (check its permissions)")
                && diagnostics.contains { $0.hasPrefix("\(folder):1:1: cannot list the directory: Permission denied") }
        }
        let shown = try await status().reload.map { "\($0)" } ?? "no reload"
        #expect(reported, "\(shown)")
        #expect(try await status().reload?.lastKnownGood.contains(file) == true)
        // Nothing was taken from Envoy.
        #expect(try await HTTP.get("\(url)/a").status == 200)
        #expect(try await HTTP.get("\(url)/b").status == 200)
        let routed = Set(try await envoy.configDump().routeClusters.values.joined())
        #expect(routed.isSuperset(of: ["httproute/default/a/rule/0", "httproute/default/b/rule/0"]), "\(routed)")

        // Readable again, with an edit: it applies.
        #expect(chmod(folder, 0o755) == 0)
        try Self.route("a", path: "/a2").write(
            to: URL(fileURLWithPath: file + ".new"), atomically: false, encoding: .utf8)
        #expect(rename(file + ".new", file) == 0)
        #expect(chmod(file, 0o644) == 0)
        let applied = await eventually(timeout: .seconds(60)) { try await HTTP.get("\(url)/a2").status == 200 }
        #expect(applied)
        #expect(try await status().reload?.diagnostics == [])
    }

    @Test(
        "a config directory deleted and created again is watched again; meanwhile Envoy keeps its routes and /readyz fails"
    )
    func recreatedDirectory() async throws {
        let upstream = try await UpstreamServer.start(name: "app")
        defer { Task { await upstream.stop() } }
        let port = try freePort()
        let xdsPort = try freePort()
        let adminPort = try freePort()
        let files = [
            "gateway.yaml": Self.gateway(port: port, upstream: upstream.port), "a.yaml": Self.route("a", path: "/a"),
        ]
        let directory = try SwitchboardCommand.configDirectory("recreated", files: files)
        let serve = try SwitchboardCommand.serve(config: directory, xdsPort: xdsPort, adminPort: adminPort)
        defer { if serve.isRunning { serve.terminate() } }
        let envoy = try await EnvoyProcess.start(
            bootstrap: try SwitchboardCommand.bootstrap(xdsPort: xdsPort, gateway: "default/eg", delta: false))
        defer { Task { await envoy.stop() } }
        let url = "http://127.0.0.1:\(port)"
        let admin = "http://127.0.0.1:\(adminPort)"
        try #require(await eventually(timeout: .seconds(60)) { try await HTTP.get("\(url)/a").status == 200 })
        #expect(try await HTTP.get("\(admin)/readyz").status == 200)

        try FileManager.default.removeItem(at: directory)
        let unready = await eventually(timeout: .seconds(60)) {
            let readyz = try await HTTP.get("\(admin)/readyz")
            return readyz.status == 503
                && readyz.body.contains("not watching the configuration: \(directory.path) does not exist")
        }
        #expect(unready)
        #expect(try await HTTP.get("\(admin)/metrics").body.contains("config_watch_healthy 0"))
        let status = try AdminStatus.decode(Data(try await HTTP.get("\(admin)/status").body.utf8))
        #expect(status.ready == false)
        #expect(status.unwatched?.count == 1)
        #expect(try await HTTP.get("\(url)/a").status == 200, "Envoy lost its routes")

        // The directory comes back with an edit in it: it is seen, applied, and ready again.
        var next = files
        next["a.yaml"] = Self.route("a", path: "/again")
        for (name, text) in next {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        let applied = await eventually(timeout: .seconds(60)) { try await HTTP.get("\(url)/again").status == 200 }
        #expect(applied, "the recreated directory's content never reached Envoy")
        #expect(await eventually(timeout: .seconds(60)) { try await HTTP.get("\(admin)/readyz").status == 200 })
        #expect(try await HTTP.get("\(admin)/metrics").body.contains("config_watch_healthy 1"))

        // And later edits are seen too.
        try Self.route("a", path: "/later").write(
            to: directory.appendingPathComponent("a.yaml"), atomically: true, encoding: .utf8)
        #expect(await eventually(timeout: .seconds(60)) { try await HTTP.get("\(url)/later").status == 200 })
    }
}
