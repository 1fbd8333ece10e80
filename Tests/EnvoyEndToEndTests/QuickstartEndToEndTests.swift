import Foundation
import Testing
import XDSTesting

/// examples/quickstart, exactly as shipped except for ports, served by `switchboard serve` to a
/// real Envoy: each match reaches its upstream and the 80/20 split holds.
@Suite(
    "The quickstart example with a real Envoy",
    .enabled(if: envoyRequired, "no Envoy binary (set ENVOY_BIN or create .venv)"))
struct QuickstartEndToEndTests {
    /// The example in a directory of its own with other ports.
    static func copy(blue: Int, green: Int, listener: Int) throws -> URL {
        try exampleCopy("quickstart", ports: [9081: blue, 9082: green, 80: listener])
    }

    @Test(
        "header and path matches reach the right upstream; the weighted split is 80/20 within ±10%",
        arguments: [false, true])
    func quickstart(delta: Bool) async throws {
        let blue = try await UpstreamServer.start(name: "blue")
        let green = try await UpstreamServer.start(name: "green")
        defer {
            Task {
                await blue.stop()
                await green.stop()
            }
        }
        let listenerPort = try freePort()
        let xdsPort = try freePort()

        let directory = try Self.copy(blue: blue.port, green: green.port, listener: listenerPort)

        let serve = try SwitchboardCommand.serve(config: directory, xdsPort: xdsPort)
        defer { if serve.isRunning { serve.terminate() } }
        let envoy = try await EnvoyProcess.start(
            bootstrap: try SwitchboardCommand.bootstrap(xdsPort: xdsPort, gateway: "default/eg", delta: delta))
        let url = "http://127.0.0.1:\(listenerPort)"
        let host = ["Host": "www.example.com"]
        let ready = await eventually(timeout: .seconds(60)) {
            try await HTTP.get("\(url)/", headers: host).status == 200
        }
        try #require(ready, "Envoy log:\n\(envoy.log().suffix(2000))")

        #expect(try await HTTP.get("\(url)/", headers: host.merging(["x-canary": "true"]) { $1 }).body == "green")
        let v1 = try await HTTP.get("\(url)/api/v1/users", headers: host)
        #expect(v1.body == "blue")
        #expect(v1.headers["x-api"] == "v1")
        let v2 = try await HTTP.get("\(url)/api/v2/users", headers: host)
        #expect(v2.body == "green")
        #expect(v2.headers["x-api"] == "v2")
        #expect(try await HTTP.get("\(url)/", headers: ["Host": "other.example.org"]).status == 404)

        var blueCount = 0
        for _ in 0..<200 where try await HTTP.get("\(url)/", headers: host).body == "blue" { blueCount += 1 }
        #expect((140...180).contains(blueCount), "blue got \(blueCount) of 200; want 160 ± 20")
        await envoy.stop()
    }
}

/// An example from examples/ in a directory of its own with other ports (`port: N` lines): its
/// fixed ones would collide between parallel tests. Nothing else changes.
func exampleCopy(_ name: String, ports: [Int: Int]) throws -> URL {
    let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../examples/\(name)").standardizedFileURL
    let directory = try SwitchboardCommand.temporaryDirectory(name)
    for file in try FileManager.default.contentsOfDirectory(atPath: example.path) where file.hasSuffix(".yaml") {
        var text = try String(contentsOf: example.appendingPathComponent(file), encoding: .utf8)
        for (from, to) in ports { text = text.replacing(try Regex("port: \(from)(?![0-9])"), with: "port: \(to)") }
        try text.write(to: directory.appendingPathComponent(file), atomically: true, encoding: .utf8)
    }
    return directory
}
