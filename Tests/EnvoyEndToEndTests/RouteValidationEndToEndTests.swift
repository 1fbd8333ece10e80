import AdminAPI
import Foundation
import Testing
import XDSTesting

/// A rule Envoy would refuse is dropped before Envoy sees it, with a condition saying why, so
/// the Gateway's other routes keep updating: a NACK would refuse the whole route configuration.
@Suite(
    "Route rules Envoy would refuse, with a real Envoy",
    .enabled(if: envoyRequired, "no Envoy binary (set ENVOY_BIN or create .venv)"))
struct RouteValidationEndToEndTests {
    @Test("an invalid regex drops its rule with PartiallyInvalid; the rest of the Gateway still updates; no NACK")
    func invalidRegexIsDropped() async throws {
        let upstream = try await UpstreamServer.start(name: "app")
        defer { Task { await upstream.stop() } }
        let port = try freePort()
        let xdsPort = try freePort()
        let adminPort = try freePort()
        let directory = try SwitchboardCommand.temporaryDirectory("route-validation")
        defer { try? FileManager.default.removeItem(at: directory) }
        func write(_ name: String, _ text: String) throws {
            try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        try write("gateway.yaml", TestManifests.gatewayAndApp(listenerPort: port, upstreamPort: upstream.port))
        func route(_ path: String, extraRules: String = "") -> String {
            TestManifests.appRoute(path: path, extraRules: extraRules)
        }
        try write("route.yaml", route("/v1"))
        let serve = try SwitchboardCommand.serve(config: directory, xdsPort: xdsPort, adminPort: adminPort)
        defer { if serve.isRunning { serve.terminate() } }
        let envoy = try await EnvoyProcess.start(
            bootstrap: try SwitchboardCommand.bootstrap(xdsPort: xdsPort, gateway: "default/eg", delta: true))
        defer { Task { await envoy.stop() } }
        let url = "http://127.0.0.1:\(port)"
        let ready = await eventually(timeout: .seconds(60)) { try await HTTP.get("\(url)/v1").status == 200 }
        try #require(ready, "Envoy log:\n\(envoy.log().suffix(1500))")

        // One edit: /v1 becomes /v2, and two rules Envoy would refuse arrive with it. Envoy
        // Gateway's reading of both: the regex rule is dropped, the Host-setting rule answers 500.
        try write(
            "route.yaml",
            route(
                "/v2",
                extraRules: """
                      - matches: [{path: {type: RegularExpression, value: "*.bad"}}]
                        backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: app}]
                      - matches: [{path: {value: /host}}]
                        filters:
                        - type: RequestHeaderModifier
                          requestHeaderModifier: {set: [{name: Host, value: elsewhere}]}
                        backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: app}]
                    """))
        let updated = await eventually(timeout: .seconds(60)) { try await HTTP.get("\(url)/v2").status == 200 }
        try #require(updated, "the valid rule did not reach Envoy; Envoy log:\n\(envoy.log().suffix(2000))")
        #expect(try await HTTP.get("\(url)/v1").status == 404)
        #expect(try await HTTP.get("\(url)/host").status == 500)

        let body = try await HTTP.get("http://127.0.0.1:\(adminPort)/status").body
        let status = try AdminStatus.decode(Data(body.utf8))
        // Envoy ACKed every type it was sent: nothing was refused.
        let types = status.envoys.flatMap(\.types)
        #expect(!types.isEmpty)
        for (type, state) in types {
            #expect(state.nackMessage == nil, "\(type) NACKed: \(state.nackMessage ?? "")")
            #expect(state.acked == state.sent, "\(type) sent \(state.sent ?? "-") acked \(state.acked ?? "-")")
        }
        #expect(
            body.contains(
                #"Dropped Rule(s) [1 2]: Failed to process route rule 1: regex \"*.bad\" is invalid: error parsing regexp: missing argument to repetition operator: `*`."#
            ), "\(body)")
        #expect(
            body.contains(#""type":"PartiallyInvalid""#) || body.contains(#""type" : "PartiallyInvalid""#), "\(body)")
        #expect(!(try await envoy.configDump().routeConfigs.values.contains { $0.contains("*.bad") }))
    }
}
