import Foundation
import Testing
import XDSTesting

/// xDS over mTLS with node authorization, against real Envoys with real certificates (made with
/// openssl for the test).
@Suite(
    "xDS over mTLS with a real Envoy", .enabled(if: envoyRequired, "no Envoy binary (set ENVOY_BIN or create .venv)"))
struct TLSEndToEndTests {
    /// A CA, a server certificate for 127.0.0.1, and client certificates naming gateways.
    static func certificates(in directory: URL, clients: [String: String]) throws {
        func openssl(_ arguments: String) throws {
            let result = try runProcess("/bin/sh", ["-c", "cd '\(directory.path)' && openssl \(arguments)"])
            try #require(result.status == 0, "openssl \(arguments) failed: \(result.stderr)")
        }
        try openssl("req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=test-ca")
        func issue(_ name: String, san: String) throws {
            try "subjectAltName=\(san)\n".write(
                to: directory.appendingPathComponent("\(name).ext"), atomically: true, encoding: .utf8)
            try openssl("req -newkey rsa:2048 -nodes -keyout \(name).key -out \(name).csr -subj /CN=\(name)")
            try openssl(
                "x509 -req -in \(name).csr -CA ca.pem -CAkey ca.key -CAcreateserial -out \(name).pem -days 2 -extfile \(name).ext"
            )
        }
        try issue("server", san: "IP:127.0.0.1")
        for (name, san) in clients { try issue(name, san: san) }
    }

    @Test(
        "an Envoy whose certificate names its gateway is served; one whose certificate names another, or only seems to, is refused",
        arguments: ["grpc", "nio"])
    func mutualTLSWithNodeAuthorization(transport: String) async throws {
        let upstream = try await UpstreamServer.start(name: "app")
        defer { Task { await upstream.stop() } }
        let certificates = try SwitchboardCommand.temporaryDirectory("tls")
        // Refused certificates, with what Switchboard's refusal (which Envoy logs) says.
        let refused = [
            "other": ("URI:spiffe://switchboard/ns/default/gateway/other", "names gateway default/other"),
            // A suffix match once authorized this one: the query string ends like default/eg's path.
            "query": ("URI:spiffe://switchboard/ns/default/gateway/other?/ns/default/gateway/eg", "is not of the form"),
            // An X.509-SVID has exactly one URI SAN; this one named both gateways and was served either.
            "two": (
                "URI:spiffe://switchboard/ns/default/gateway/eg,URI:spiffe://switchboard/ns/default/gateway/other",
                "exactly one URI SAN"
            ),
        ]
        try Self.certificates(
            in: certificates,
            clients: refused.mapValues { $0.0 }.merging(["good": "URI:spiffe://switchboard/ns/default/gateway/eg"]) {
                $1
            })
        func path(_ name: String) -> String { certificates.appendingPathComponent(name).path }

        let port = try freePort()
        let xdsPort = try freePort()
        let directory = try SwitchboardCommand.configDirectory(
            "tls-config",
            files: ["gateway.yaml": TestManifests.gatewayWithBackend(listenerPort: port, upstreamPort: upstream.port)])
        let serve = try SwitchboardCommand.serve(
            config: directory, xdsPort: xdsPort,
            extra: [
                "--tls-cert", path("server.pem"), "--tls-key", path("server.key"), "--client-ca", path("ca.pem"),
                "--authorize-nodes", "--ads-transport", transport,
            ])
        defer { if serve.isRunning { serve.terminate() } }

        func bootstrap(_ client: String) throws -> String {
            try SwitchboardCommand.bootstrap(
                xdsPort: xdsPort, gateway: "default/eg", delta: true,
                extra: [
                    "--tls-ca", path("ca.pem"), "--tls-cert", path("\(client).pem"), "--tls-key", path("\(client).key"),
                ])
        }

        let good = try await EnvoyProcess.start(bootstrap: try bootstrap("good"))
        let served = await eventually(timeout: .seconds(60)) {
            try await HTTP.get("http://127.0.0.1:\(port)/").body == "app"
        }
        #expect(served, "Envoy log:\n\(good.log().suffix(1500))")
        await good.stop()

        for (client, (san, reason)) in refused.sorted(by: { $0.key < $1.key }) {
            // At debug level Envoy logs every closed stream's grpc-status and message (from the
            // first failure; at info it may wait 30 s): PERMISSION_DENIED (7) and the reason.
            let envoy = try await EnvoyProcess.start(bootstrap: try bootstrap(client), logLevel: "debug")
            let denied = await eventually(timeout: .seconds(60)) { envoy.log().contains(reason) }
            #expect(denied, "\(client) (\(san)): Envoy log:\n\(envoy.log().suffix(1500))")
            #expect(try await envoy.configDump().listeners.isEmpty, "\(client) (\(san)) got default/eg's configuration")
            // Envoy retries, and counts itself connected while each new stream waits for its
            // refusal: between retries it is disconnected.
            #expect(
                await eventually(timeout: .seconds(60)) { try await envoy.stat("control_plane.connected_state") == 0 })
            await envoy.stop()
        }
    }
}
