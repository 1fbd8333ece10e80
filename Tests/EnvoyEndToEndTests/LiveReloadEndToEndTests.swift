import AdminAPI
import ControlPlane
import Foundation
import Testing
import XDSTesting

/// `switchboard serve` watching a directory while an operator edits it, with a real Envoy.
@Suite("Live reload with a real Envoy", .enabled(if: envoyRequired, "no Envoy binary (set ENVOY_BIN or create .venv)"))
struct LiveReloadEndToEndTests {
    @Test(
        "a policy edit reaches Envoy at once; broken YAML changes nothing; a fix applies; a deleted route goes",
        arguments: [false, true])
    func liveReload(poll: Bool) async throws {
        let upstream = try await UpstreamServer.start(name: "app")
        defer { Task { await upstream.stop() } }
        let port = try freePort()
        let xdsPort = try freePort()
        let directory = try SwitchboardCommand.temporaryDirectory("live")
        func write(_ name: String, _ text: String) throws {
            try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        try write("gateway.yaml", TestManifests.gatewayAndApp(listenerPort: port, upstreamPort: upstream.port))
        let route = TestManifests.appRoute(path: "/v1")
        func policy(_ timeout: String) -> String {
            """
            apiVersion: gateway.envoyproxy.io/v1alpha1
            kind: BackendTrafficPolicy
            metadata: {name: site}
            spec:
              targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: site}]
              timeout: {tcp: {connectTimeout: \(timeout)}}
            """
        }
        try write("route.yaml", route)
        try write("policy.yaml", policy("3s"))

        let adminPort = try freePort()
        let serve = try SwitchboardCommand.serve(
            config: directory, xdsPort: xdsPort, adminPort: adminPort,
            extra: ["--watch-mode", poll ? "poll" : "inotify"])
        defer { if serve.isRunning { serve.terminate() } }
        let envoy = try await EnvoyProcess.start(
            bootstrap: try SwitchboardCommand.bootstrap(xdsPort: xdsPort, gateway: "default/eg", delta: !poll))
        let url = "http://127.0.0.1:\(port)"
        let ready = await eventually(timeout: .seconds(60)) { try await HTTP.get("\(url)/v1").status == 200 }
        try #require(ready, "Envoy log:\n\(envoy.log().suffix(1500))")
        let cluster = "httproute/default/site/rule/0"
        #expect(try await envoy.configDump().clusterConfigs[cluster]?.contains(#""connect_timeout":"3s""#) == true)

        // A policy edit shows up in Envoy's config_dump within a second.
        try write("policy.yaml", policy("4s"))
        let edited = await eventually(timeout: .seconds(1), every: .milliseconds(20)) {
            try await envoy.configDump().clusterConfigs[cluster]?.contains(#""connect_timeout":"4s""#) == true
        }
        #expect(edited, "the edit did not reach Envoy within 1 s")
        let converged = await eventually {
            try await HTTP.get("http://127.0.0.1:\(adminPort)/metrics").body.contains(
                "proxy_convergence_seconds_count 1")
        }
        #expect(converged, "the convergence of the edit was not recorded")

        // Broken YAML: Envoy keeps its config and its traffic.
        try write("route.yaml", "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: site\n")
        try await Task.sleep(for: .milliseconds(500))
        #expect(try await HTTP.get("\(url)/v1").status == 200)
        #expect(try await envoy.configDump().routeConfigs.values.contains { $0.contains("/v1") })
        // status names the file, line and column, and says its last good content is in effect.
        let status = try await HTTP.get("http://127.0.0.1:\(adminPort)/status").body
        #expect(status.contains("route.yaml:4:1: YAML"), "\(status)")
        let reload = try AdminStatus.decode(Data(status.utf8)).reload
        #expect(reload?.lastKnownGood == [directory.appendingPathComponent("route.yaml").path], "\(status)")

        // The fix applies.
        try write("route.yaml", route.replacingOccurrences(of: "/v1", with: "/v2"))
        let fixed = await eventually(timeout: .seconds(60)) { try await HTTP.get("\(url)/v2").status == 200 }
        #expect(fixed)
        #expect(try await HTTP.get("\(url)/v1").status == 404)

        // Deleting the route file removes the route.
        try FileManager.default.removeItem(at: directory.appendingPathComponent("route.yaml"))
        let removed = await eventually(timeout: .seconds(60)) { try await HTTP.get("\(url)/v2").status == 404 }
        #expect(removed)
        await envoy.stop()
    }
}
