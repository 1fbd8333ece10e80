import Foundation
import Testing
import XDSTesting

/// Envoy Gateway's default access log, written by a real Envoy: a JSON line per request, routed
/// or not, in Envoy Gateway's format; `--access-log off` leaves it out.
@Suite(
    "Access logs with a real Envoy", .enabled(if: envoyRequired, "no Envoy binary (set ENVOY_BIN or create .venv)"))
struct AccessLogEndToEndTests {
    @Test("every request is a JSON line in Envoy Gateway's format; 'off' writes none", arguments: [true, false])
    func accessLog(enabled: Bool) async throws {
        let upstream = try await UpstreamServer.start(name: "app")
        defer { Task { await upstream.stop() } }
        let port = try freePort()
        let xdsPort = try freePort()
        let directory = try SwitchboardCommand.temporaryDirectory("access-log")
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("config")
        try FileManager.default.createDirectory(at: config, withIntermediateDirectories: true)
        try
            (TestManifests.gatewayAndApp(listenerPort: port, upstreamPort: upstream.port) + "---\n"
            + TestManifests.appRoute(path: "/app"))
            .write(to: config.appendingPathComponent("all.yaml"), atomically: true, encoding: .utf8)
        let log = directory.appendingPathComponent("access.log")
        let serve = try SwitchboardCommand.serve(
            config: config, xdsPort: xdsPort, adminPort: try freePort(),
            extra: ["--access-log", enabled ? log.path : "off"])
        defer { if serve.isRunning { serve.terminate() } }
        let envoy = try await EnvoyProcess.start(
            bootstrap: try SwitchboardCommand.bootstrap(xdsPort: xdsPort, gateway: "default/eg", delta: false))
        defer { Task { await envoy.stop() } }
        let url = "http://127.0.0.1:\(port)"
        let ready = await eventually(timeout: .seconds(60)) {
            try await HTTP.get("\(url)/app").status == 200
        }
        try #require(ready, "Envoy log:\n\(envoy.log().suffix(1500))")
        #expect(try await HTTP.get("\(url)/nowhere").status == 404)

        let listeners = try await envoy.configDump().listenerConfigs.values.joined()
        guard enabled else {
            #expect(!listeners.contains("access_loggers"), "\(listeners)")
            #expect(!FileManager.default.fileExists(atPath: log.path))
            return
        }
        // Envoy flushes its access log about once a second: wait for both lines.
        var lines: [[String: Any]] = []
        let logged = await eventually(timeout: .seconds(30)) {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            lines = text.split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
            return lines.count >= 2
        }
        try #require(logged, "access log: \(lines)")
        let routed = try #require(lines.first { $0["x-envoy-origin-path"] as? String == "/app" })
        #expect(routed["response_code"] as? Int == 200)
        #expect(routed["route_name"] as? String == "httproute/default/site/rule/0/match/0/*")
        #expect(routed["upstream_cluster"] as? String == "httproute/default/site/rule/0")
        #expect(routed[":authority"] as? String == "127.0.0.1:\(port)")
        #expect(Set(routed.keys).count == 24, "Envoy Gateway's format has 24 fields: \(routed.keys.sorted())")
        let unrouted = try #require(lines.first { $0["x-envoy-origin-path"] as? String == "/nowhere" })
        #expect(unrouted["response_code"] as? Int == 404)
        #expect(unrouted["response_flags"] as? String == "NR")
    }
}
