import Foundation
import Testing
import XDSTesting

@Suite(
    "switchboard serve with a real Envoy",
    .enabled(if: envoyRequired, "no Envoy binary (set ENVOY_BIN or create .venv)"))
struct ServeEndToEndTests {
    @Test(
        "serve + bootstrap: an Envoy started from `switchboard bootstrap` routes traffic; SIGTERM exits 0",
        arguments: [false, true])
    func serveAndBootstrap(delta: Bool) async throws {
        let upstream = try await UpstreamServer.start(name: "served")
        defer { Task { await upstream.stop() } }
        let listenerPort = try freePort()
        let xdsPort = try freePort()
        let directory = try SwitchboardCommand.configDirectory(
            "serve",
            files: [
                "gateway.yaml": TestManifests.gatewayWithBackend(
                    listenerPort: listenerPort, upstreamPort: upstream.port)
            ])

        let serve = try SwitchboardCommand.serve(config: directory, xdsPort: xdsPort)
        defer { if serve.isRunning { serve.terminate() } }
        let text = try SwitchboardCommand.bootstrap(xdsPort: xdsPort, gateway: "default/eg", delta: delta)

        let envoy = try await EnvoyProcess.start(bootstrap: text)
        let served = await eventually(timeout: .seconds(60)) {
            try await HTTP.get("http://127.0.0.1:\(listenerPort)/").body == "served"
        }
        #expect(served, "Envoy log:\n\(envoy.log().suffix(2000))")

        serve.terminate()  // SIGTERM
        let exited = await eventually(timeout: .seconds(60)) { !serve.isRunning }
        #expect(exited, "switchboard did not exit after SIGTERM")
        if exited { #expect(serve.terminationStatus == 0) }
        #expect(try await HTTP.get("http://127.0.0.1:\(listenerPort)/").body == "served", "Envoy keeps its last config")
        await envoy.stop()
    }

    @Test(
        "on either ADS transport, unprivileged, an Envoy gets its configuration and every edit of it",
        arguments: [false, true], ["nio", "grpc"])
    func transports(delta: Bool, transport: String) async throws {
        let first = try await UpstreamServer.start(name: "first")
        let second = try await UpstreamServer.start(name: "second")
        defer {
            Task {
                await first.stop()
                await second.stop()
            }
        }
        let listenerPort = try freePort()
        let xdsPort = try freePort()
        let directory = try SwitchboardCommand.configDirectory(
            "serve-\(transport)",
            files: [
                "gateway.yaml": TestManifests.gatewayWithBackend(listenerPort: listenerPort, upstreamPort: first.port)
            ])
        // Unprivileged (as root, through setpriv): a socket option only root may set once closed
        // every connection of an unprivileged serve.
        let serve = try SwitchboardCommand.serve(
            config: directory, xdsPort: xdsPort, extra: ["--ads-transport", transport], unprivileged: true)
        defer { if serve.isRunning { serve.terminate() } }
        let text = try SwitchboardCommand.bootstrap(xdsPort: xdsPort, gateway: "default/eg", delta: delta)
        let envoy = try await EnvoyProcess.start(bootstrap: text)
        let served = await eventually(timeout: .seconds(60)) {
            try await HTTP.get("http://127.0.0.1:\(listenerPort)/").body == "first"
        }
        #expect(served, "Envoy log:\n\(envoy.log().suffix(2000))")
        try TestManifests.gatewayWithBackend(listenerPort: listenerPort, upstreamPort: second.port).write(
            to: directory.appendingPathComponent("gateway.yaml"), atomically: true, encoding: .utf8)
        let moved = await eventually(timeout: .seconds(60)) {
            try await HTTP.get("http://127.0.0.1:\(listenerPort)/").body == "second"
        }
        #expect(moved, "the edit did not reach Envoy; its log:\n\(envoy.log().suffix(2000))")
        serve.terminate()
        let exited = await eventually(timeout: .seconds(60)) { !serve.isRunning }
        #expect(exited, "switchboard did not exit after SIGTERM")
        if exited { #expect(serve.terminationStatus == 0) }
        #expect(try await HTTP.get("http://127.0.0.1:\(listenerPort)/").body == "second", "Envoy keeps its last config")
        await envoy.stop()
    }
}
