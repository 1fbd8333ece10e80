import AdminAPI
import Foundation
import Testing
import XDSTesting

/// TLS to backends through a real Envoy (SotW and delta): a BackendTLSPolicy with the upstream's
/// CA makes Envoy speak TLS to it, send the policy's hostname as SNI and accept its certificate;
/// a policy with another CA, or a hostname the certificate does not carry, fails the connection
/// (503); a Backend's own `tls` works the same way, and presents its client certificate to an
/// upstream that demands one (without it, 503); a missing CA answers 500, as the route's status
/// says. The CA and the client certificate reach Envoy over SDS.
@Suite(
    "TLS to backends with a real Envoy",
    .enabled(if: envoyRequired, "no Envoy binary (set ENVOY_BIN or create .venv)"))
struct BackendTLSEndToEndTests {
    @Test("BackendTLSPolicy and Backend tls verify the upstream's certificate", arguments: [false, true])
    func backendTLS(delta: Bool) async throws {
        let directory = try SwitchboardCommand.temporaryDirectory("backend-tls")
        defer { try? FileManager.default.removeItem(at: directory) }
        let upstreamCertificate = try TestCertificate.make(for: "orders.internal", in: directory)
        let otherCA = try TestCertificate.make(for: "someone-else.internal", in: directory)
        let upstreamPort = try freePort()
        let (httpPort, xdsPort, adminPort) = (try freePort(), try freePort(), try freePort())
        let clientCertificate = try TestCertificate.make(for: "switchboard-client", in: directory)
        let mtlsPort = try freePort()
        let upstreams = [
            try Layer4Peers.server(
                "https", port: upstreamPort, name: "orders", certificate: upstreamCertificate, in: directory),
            // Asks for a client certificate, and trusts only Switchboard's.
            try Layer4Peers.server(
                "https", port: mtlsPort, name: "vault", certificate: upstreamCertificate,
                clientCA: clientCertificate.certificateFile, in: directory),
        ]
        defer { for upstream in upstreams where upstream.isRunning { kill(upstream.processIdentifier, SIGKILL) } }

        func configMap(_ name: String, _ certificate: TestCertificate) -> String {
            let pem = certificate.certificatePEM.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n")
            return "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: \(name), namespace: default}\n"
                + "data:\n  ca.crt: |\n\(pem)\n"
        }
        // One Backend per case; each route prefix reaches one. A policy names its CA and hostname.
        let ownTLS =
            "\n  tls:\n    caCertificateRefs: [{group: \"\", kind: ConfigMap, name: orders-ca}]\n    sni: orders.internal"
        let cases: [(name: String, port: Int, policy: (ca: String, hostname: String)?, tls: String)] = [
            ("good", upstreamPort, ("orders-ca", "orders.internal"), ""),
            ("wrong-ca", upstreamPort, ("other-ca", "orders.internal"), ""),
            ("wrong-name", upstreamPort, ("orders-ca", "payments.internal"), ""),
            ("missing-ca", upstreamPort, ("no-such-ca", "orders.internal"), ""),
            ("own-tls", upstreamPort, nil, ownTLS),
            ("mtls", mtlsPort, nil, ownTLS + "\n    clientCertificateRef: {name: client}\n    minVersion: \"1.3\""),
            ("mtls-without-certificate", mtlsPort, nil, ownTLS),
        ]
        var yaml = """
            apiVersion: gateway.networking.k8s.io/v1
            kind: Gateway
            metadata: {name: edge, namespace: default}
            spec:
              gatewayClassName: eg
              listeners: [{name: http, protocol: HTTP, port: \(httpPort)}]

            \(configMap("orders-ca", upstreamCertificate))\(configMap("other-ca", otherCA))---
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: shop, namespace: default}
            spec:
              parentRefs: [{name: edge}]
              rules:

            """
        for name in cases.map(\.name) {
            yaml += """
                  - matches: [{path: {type: PathPrefix, value: /\(name)}}]
                    backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: \(name)}]

                """
        }
        for (name, port, policy, tls) in cases {
            yaml += """
                ---
                apiVersion: gateway.envoyproxy.io/v1alpha1
                kind: Backend
                metadata: {name: \(name), namespace: default}
                spec:
                  endpoints: [{ip: {address: 127.0.0.1, port: \(port)}}]\(tls)

                """
            guard let policy else { continue }
            yaml += """
                ---
                apiVersion: gateway.networking.k8s.io/v1
                kind: BackendTLSPolicy
                metadata: {name: \(name)-tls, namespace: default}
                spec:
                  targetRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: \(name)}]
                  validation:
                    caCertificateRefs: [{group: "", kind: ConfigMap, name: \(policy.ca)}]
                    hostname: \(policy.hostname)

                """
        }
        yaml += "---\n" + clientCertificate.secret(name: "client")
        try yaml.write(to: directory.appendingPathComponent("gateway.yaml"), atomically: true, encoding: .utf8)

        let serve = try SwitchboardCommand.serve(config: directory, xdsPort: xdsPort, adminPort: adminPort)
        defer { if serve.isRunning { serve.terminate() } }
        let envoy = try await EnvoyProcess.start(
            bootstrap: try SwitchboardCommand.bootstrap(xdsPort: xdsPort, gateway: "default/edge", delta: delta))
        defer { Task { await envoy.stop() } }

        let base = "http://127.0.0.1:\(httpPort)"
        // The upstream answers with the SNI it got: Envoy spoke TLS, named the host, and trusted it.
        let good = await eventually {
            try await HTTP.get("\(base)/good").body == "orders sni=orders.internal"
        }
        #expect(good, "Envoy log:\n\(envoy.log().suffix(3000))")
        let ownTLSResponse = try await HTTP.get("\(base)/own-tls")
        #expect(
            ownTLSResponse.status == 200 && ownTLSResponse.body == "orders sni=orders.internal",
            "\(ownTLSResponse.status) \(ownTLSResponse.body)")
        // Envoy presents the Backend's client certificate to the upstream that demands one.
        let mtls = try await HTTP.get("\(base)/mtls")
        #expect(mtls.body == "vault sni=orders.internal client=switchboard-client", "\(mtls.status) \(mtls.body)")
        let withoutCertificate = try await HTTP.get("\(base)/mtls-without-certificate")
        #expect(withoutCertificate.status == 503, "no client certificate: \(withoutCertificate.status)")
        // Certificates Envoy must refuse: signed by another CA, or for another name.
        let wrongCA = try await HTTP.get("\(base)/wrong-ca")
        #expect(wrongCA.status == 503, "another CA: \(wrongCA.status) \(wrongCA.body)")
        let wrongName = try await HTTP.get("\(base)/wrong-name")
        #expect(wrongName.status == 503, "another name: \(wrongName.status) \(wrongName.body)")
        // A CA that is not there: no cluster at all, as the route's status says.
        let missing = try await HTTP.get("\(base)/missing-ca")
        #expect(missing.status == 500, "missing CA: \(missing.status)")

        let status = try await switchboardStatus(adminPort: adminPort)
        for (type, state) in status.envoys.flatMap(\.types) {
            #expect(state.nackMessage == nil, "\(type) NACKed: \(state.nackMessage ?? "")")
        }
        // The CAs came over SDS, each once, named as Envoy Gateway names them.
        let dump = try await HTTP.get("http://127.0.0.1:\(envoy.adminPort)/config_dump?resource=dynamic_active_secrets")
        for name in ["good-tls/default-ca", "wrong-ca-tls/default-ca", "own-tls/default-ca", "default/client"] {
            #expect(dump.body.contains("\"name\": \"\(name)\""), "secret \(name) in Envoy: \(dump.body.prefix(2000))")
        }
        #expect(!dump.body.contains("no-such-ca"))
    }
}
