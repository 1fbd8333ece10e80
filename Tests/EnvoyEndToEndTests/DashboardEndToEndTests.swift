import Foundation
import Testing
import XDSTesting

/// The admin server's dashboard in a real headless Chromium, beside a real `switchboard serve`
/// and Envoy: it loads without console errors, turns an Envoy red when it NACKs an edit, shows
/// the NACK in full, opens a route's explain view, and recovers once the edit is fixed.
@Suite(
    "Dashboard in a real browser",
    .enabled(if: envoyRequired, "no Envoy binary (set ENVOY_BIN or create .venv)"),
    .enabled(if: Browser.required, "no chromium and chromedriver (apt-get install chromium chromium-driver)"))
struct DashboardEndToEndTests {
    /// `SWITCHBOARD_UPDATE_SCREENSHOT=1` writes the NACK screenshot to docs/dashboard.png.
    static let screenshotPath: URL = {
        if ProcessInfo.processInfo.environment["SWITCHBOARD_UPDATE_SCREENSHOT"] == "1" {
            return URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .appendingPathComponent("../../docs/dashboard.png").standardizedFileURL
        }
        return FileManager.default.temporaryDirectory.appendingPathComponent("dashboard-\(UUID().uuidString).png")
    }()

    @Test func nackShowsRedAndRecovers() async throws {
        let upstream = try await UpstreamServer.start(name: "app")
        defer { Task { await upstream.stop() } }
        let port = try freePort()
        let xdsPort = try freePort()
        let adminPort = try freePort()
        let good = TestManifests.gatewayWithBackend(listenerPort: port, upstreamPort: upstream.port)
        let directory = try SwitchboardCommand.configDirectory("dashboard", files: ["gateway.yaml": good])
        let serve = try SwitchboardCommand.serve(config: directory, xdsPort: xdsPort, adminPort: adminPort)
        defer { if serve.isRunning { serve.terminate() } }
        let admin = "http://127.0.0.1:\(adminPort)"
        let envoy = try await EnvoyProcess.start(
            bootstrap: try SwitchboardCommand.bootstrap(xdsPort: xdsPort, gateway: "default/eg", delta: false))
        let serving = await eventually(timeout: .seconds(90)) {
            try await HTTP.get("http://127.0.0.1:\(port)/").status == 200
        }
        try #require(serving, "Envoy log:\n\(envoy.log().suffix(1500))")

        let browser = try await Browser.start()
        do {
            try await browser.open(admin + "/")
            let row = "document.querySelector('tr[data-node]')"
            func envoyRow() async throws -> (className: String, color: String)? {
                let value =
                    try await browser.evaluate(
                        "const r = \(row); return r ? [r.className, getComputedStyle(r).color] : null;") as? [String]
                return value.map { ($0[0], $0[1]) }
            }
            let red = "rgb(176, 0, 32)"
            let acked = await eventually(timeout: .seconds(60)) { try await envoyRow()?.className == "ok" }
            #expect(acked, "the connected Envoy is not shown as up to date")
            #expect(try await envoyRow()?.color != red)
            #expect(try await browser.consoleErrors() == [])

            // The route's explain view, fetched from the admin server.
            let clicked = await eventually(timeout: .seconds(30)) {
                try await browser.evaluate(
                    """
                    const b = Array.from(document.querySelectorAll('button')).find(b => b.textContent === 'explain');
                    if (b) b.click();
                    return !!b;
                    """) as? Bool == true
            }
            let text = try await browser.evaluate("return document.body.innerText;") as? String ?? ""
            #expect(clicked, "no route with an explain button:\n\(text)")
            let explained = await eventually(timeout: .seconds(30)) {
                (try await browser.evaluate("return document.body.innerText;") as? String)?.contains(
                    "HTTPRoute default/backend rule 0 on Gateway default/eg, listener http") == true
            }
            #expect(explained, "the explain view did not open")

            // A bad edit Switchboard cannot see: a second listener on a port something else
            // holds (the upstream's). Envoy cannot bind it and NACKs the listeners.
            let bad = good.replacingOccurrences(
                of: "listeners: [{name: http, port: \(port), protocol: HTTP}]",
                with:
                    "listeners: [{name: http, port: \(port), protocol: HTTP}, {name: taken, port: \(upstream.port), protocol: HTTP}]"
            )
            try #require(bad != good)
            try bad.write(to: directory.appendingPathComponent("gateway.yaml"), atomically: true, encoding: .utf8)
            let nacked = await eventually(timeout: .seconds(90)) { try await envoyRow()?.color == red }
            #expect(nacked, "the NACKing Envoy is not shown in red")
            // The NACK in full, as /status has it.
            let status = try await switchboardStatus(adminPort: adminPort)
            let message = try #require(status.envoys.first?.types.values.compactMap(\.nackMessage).first)
            let page = try await browser.evaluate("return document.body.innerText;") as? String ?? ""
            #expect(page.contains(message), "the page does not show the NACK: \(message)")
            try await browser.screenshot().write(to: Self.screenshotPath)

            // The fix: Envoy takes the next version and the row is no longer red.
            try good.write(to: directory.appendingPathComponent("gateway.yaml"), atomically: true, encoding: .utf8)
            let recovered = await eventually(timeout: .seconds(90)) { try await envoyRow()?.className == "ok" }
            #expect(recovered, "the Envoy stays red after the fix")
            #expect(try await envoyRow()?.color != red)
            #expect(try await browser.consoleErrors() == [])
        } catch {
            await browser.close()
            await envoy.stop()
            throw error
        }
        await browser.close()
        await envoy.stop()
    }
}
