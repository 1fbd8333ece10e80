import Foundation
import Testing
import XDSCache
import XDSTesting

/// The admin server and `switchboard status` while a real Envoy is connected.
@Suite(
    "Admin server and status with a real Envoy",
    .enabled(if: envoyRequired, "no Envoy binary (set ENVOY_BIN or create .venv)"))
struct AdminEndToEndTests {
    @Test(
        "healthz, readyz, metrics and status; a config Envoy rejects shows as a NACK in status and metrics while traffic goes on"
    )
    func adminAndNack() async throws {
        let upstream = try await UpstreamServer.start(name: "app")
        defer { Task { await upstream.stop() } }
        let port = try freePort()
        let xdsPort = try freePort()
        let adminPort = try freePort()
        let config = TestManifests.gatewayWithBackend(listenerPort: port, upstreamPort: upstream.port)
        let directory = try SwitchboardCommand.configDirectory("admin", files: ["gateway.yaml": config])
        var serve = try SwitchboardCommand.serve(config: directory, xdsPort: xdsPort, adminPort: adminPort)
        defer { if serve.isRunning { serve.terminate() } }
        let admin = "http://127.0.0.1:\(adminPort)"
        let up = await eventually { try await HTTP.get("\(admin)/healthz").status == 200 }
        try #require(up)
        #expect(try await HTTP.get("\(admin)/readyz").status == 200)

        let envoy = try await EnvoyProcess.start(
            bootstrap: try SwitchboardCommand.bootstrap(xdsPort: xdsPort, gateway: "default/eg", delta: false))
        let ready = await eventually(timeout: .seconds(60)) {
            try await HTTP.get("http://127.0.0.1:\(port)/").status == 200
        }
        try #require(ready, "Envoy log:\n\(envoy.log().suffix(1500))")
        let acked = await eventually { try await HTTP.get("\(admin)/status").body.contains("\"acked\"") }
        #expect(acked)
        let metrics = try await HTTP.get("\(admin)/metrics").body
        #expect(metrics.contains("xds_connected_streams"))
        // Pushes are counted by type through handles kept from the first push on.
        let pushes = metrics.split(separator: "\n").first {
            $0.hasPrefix("xds_push_total{type_url=\"\(ResourceType.cluster.typeURL)\"} ")
        }
        #expect(pushes.flatMap { Double($0.split(separator: " ").last ?? "") }.map { $0 >= 1 } == true, "\(metrics)")
        #expect(
            try await HTTP.get("\(admin)/debug/snapshot?gateway=default/eg").body.contains(
                "name: httproute/default/backend/rule/0"))

        // What Switchboard cannot check: an access-log path that does not exist where Envoy runs.
        // The server is restarted with one; the Envoy reconnects and refuses the new listener.
        serve.terminate()
        try #require(await ChildProcesses.exited(serve), "serve did not stop on SIGTERM")
        serve = try SwitchboardCommand.serve(
            config: directory, xdsPort: xdsPort, adminPort: adminPort,
            extra: ["--access-log", "/nonexistent-\(UUID().uuidString)/access.log"])
        let nacked = await eventually(timeout: .seconds(60)) {
            try await HTTP.get("\(admin)/status").body.contains("nackMessage")
        }
        #expect(nacked, "the NACK did not show in /status")
        #expect(try await HTTP.get("\(admin)/metrics").body.contains("xds_nack_total{"))
        #expect(try await HTTP.get("http://127.0.0.1:\(port)/").status == 200, "Envoy keeps its last good routes")

        let status = try SwitchboardCommand.run(["status", "--admin-address", "127.0.0.1:\(adminPort)"])
        let text = status.stdout
        #expect(status.status == 0)
        #expect(text.contains("HTTPRoute  default/backend"), "\(text)")
        #expect(text.contains("NACK"), "\(text)")
        await envoy.stop()
    }
}
