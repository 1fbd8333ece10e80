import AdminAPI
import Foundation
import Testing
import XDSTesting

/// TLS to backends through a real Envoy (SotW and delta): a BackendTLSPolicy with the upstream's
/// CA makes Envoy speak TLS to it, send the policy's hostname as SNI and accept its certificate;
/// a policy with another CA, or a hostname the certificate does not carry, fails the connection
/// (503); a Backend's own `tls` works the same way; a missing CA answers 500, as the route's
/// status says. The CA reaches Envoy over SDS.
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
        let upstream = try Layer4Peers.server(
            "https", port: upstreamPort, name: "orders", certificate: upstreamCertificate, in: directory)
        defer { if upstream.isRunning { kill(upstream.processIdentifier, SIGKILL) } }

        func configMap(_ name: String, _ certificate: TestCertificate) -> String {
            let pem = certificate.certificatePEM.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n")
            return "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: \(name), namespace: default}\n"
                + "data:\n  ca.crt: |\n\(pem)\n"
        }
        // One Backend per case, all at the same upstream; each route prefix reaches one.
        let cases: [(name: String, tls: String)] = [
            ("good", "policy: {ca: ConfigMap/orders-ca, hostname: orders.internal}"),
            ("wrong-ca", "policy: {ca: ConfigMap/other-ca, hostname: orders.internal}"),
            ("wrong-name", "policy: {ca: ConfigMap/orders-ca, hostname: payments.internal}"),
            ("missing-ca", "policy: {ca: ConfigMap/no-such-ca, hostname: orders.internal}"),
            ("own-tls", "backend"),
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
        for (name, _) in cases {
            yaml += """
                  - matches: [{path: {type: PathPrefix, value: /\(name)}}]
                    backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: \(name)}]

                """
        }
        for (name, tls) in cases {
            let ownTLS =
                tls == "backend"
                ? "\n  tls:\n    caCertificateRefs: [{group: \"\", kind: ConfigMap, name: orders-ca}]\n    sni: orders.internal"
                : ""
            yaml += """
                ---
                apiVersion: gateway.envoyproxy.io/v1alpha1
                kind: Backend
                metadata: {name: \(name), namespace: default}
                spec:
                  endpoints: [{ip: {address: 127.0.0.1, port: \(upstreamPort)}}]\(ownTLS)

                """
            guard tls.hasPrefix("policy") else { continue }
            let fields = tls.dropFirst("policy: {".count).dropLast().split(separator: ", ")
            let ca = fields[0].dropFirst("ca: ConfigMap/".count)
            let hostname = fields[1].dropFirst("hostname: ".count)
            yaml += """
                ---
                apiVersion: gateway.networking.k8s.io/v1
                kind: BackendTLSPolicy
                metadata: {name: \(name)-tls, namespace: default}
                spec:
                  targetRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: \(name)}]
                  validation:
                    caCertificateRefs: [{group: "", kind: ConfigMap, name: \(ca)}]
                    hostname: \(hostname)

                """
        }
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
        let ownTLS = try await HTTP.get("\(base)/own-tls")
        #expect(ownTLS.status == 200 && ownTLS.body == "orders sni=orders.internal", "\(ownTLS.status) \(ownTLS.body)")
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
        for name in ["good-tls/default-ca", "wrong-ca-tls/default-ca", "own-tls/default-ca"] {
            #expect(dump.body.contains("\"name\": \"\(name)\""), "secret \(name) in Envoy: \(dump.body.prefix(2000))")
        }
        #expect(!dump.body.contains("no-such-ca"))
    }
}
