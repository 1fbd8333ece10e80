import Foundation
import Testing
import XDSTesting

@Suite("switchboard serve with a real Envoy", .enabled(if: envoyRequired, "no Envoy binary (set ENVOY_BIN or create .venv)"))
struct ServeEndToEndTests {
    @Test("serve + bootstrap: an Envoy started from `switchboard bootstrap` routes traffic; SIGTERM exits 0",
          arguments: [false, true])
    func serveAndBootstrap(delta: Bool) async throws {
        let upstream = try await UpstreamServer.start(name: "served")
        defer { Task { await upstream.stop() } }
        let listenerPort = try freePort()
        let xdsPort = try freePort()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("serve-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try TestManifests.gatewayWithBackend(listenerPort: listenerPort, upstreamPort: upstream.port)
            .write(to: directory.appendingPathComponent("gateway.yaml"), atomically: true, encoding: .utf8)

        let serve = Process()
        serve.executableURL = URL(fileURLWithPath: switchboardExecutable)
        serve.arguments = ["serve", "--config", directory.path, "--xds-address", "127.0.0.1:\(xdsPort)", "--log-level", "warning"]
        try serve.run()
        defer { if serve.isRunning { serve.terminate() } }

        let bootstrap = Process()
        bootstrap.executableURL = URL(fileURLWithPath: switchboardExecutable)
        bootstrap.arguments = ["bootstrap", "--xds-address", "127.0.0.1:\(xdsPort)", "--gateway", "default/eg", "--admin-port", "0"]
            + (delta ? ["--delta"] : [])
        let output = Pipe()
        bootstrap.standardOutput = output
        try bootstrap.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        bootstrap.waitUntilExit()

        let envoy = try await EnvoyProcess.start(bootstrap: text)
        let served = await eventually(timeout: .seconds(15)) {
            try await HTTP.get("http://127.0.0.1:\(listenerPort)/").body == "served"
        }
        #expect(served, "Envoy log:\n\(envoy.log().suffix(2000))")

        serve.terminate()  // SIGTERM
        let exited = await eventually(timeout: .seconds(10)) { !serve.isRunning }
        #expect(exited, "switchboard did not exit after SIGTERM")
        if exited { #expect(serve.terminationStatus == 0) }
        #expect(try await HTTP.get("http://127.0.0.1:\(listenerPort)/").body == "served", "Envoy keeps its last config")
        await envoy.stop()
    }
}
