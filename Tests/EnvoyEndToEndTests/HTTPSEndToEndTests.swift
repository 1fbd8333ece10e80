import AdminAPI
import Foundation
import Testing
import XDSTesting

/// HTTPS at the edge with a real Envoy and real clients (curl, Python's ssl): two hostnames on
/// one port, each with its own certificate (served over SDS) and upstream, over HTTP/1.1 and
/// HTTP/2; a redirect from HTTP; a renewed certificate reaching new connections while an open
/// one keeps working and nothing but the secret is re-sent; a bad Secret that costs only its
/// own hostname. State-of-the-world and delta.
@Suite(
    "HTTPS listeners with a real Envoy",
    .enabled(if: envoyRequired, "no Envoy binary (set ENVOY_BIN or create .venv)"))
struct HTTPSEndToEndTests {
    @Test("two hostnames on one port, renewal over SDS, a bad Secret", arguments: [false, true])
    func https(delta: Bool) async throws {
        let fooApp = try await UpstreamServer.start(name: "foo-app")
        let barApp = try await UpstreamServer.start(name: "bar-app")
        defer { Task { await fooApp.stop() } }
        defer { Task { await barApp.stop() } }
        let (httpsPort, httpPort, xdsPort, adminPort) = (try freePort(), try freePort(), try freePort(), try freePort())
        let directory = try SwitchboardCommand.temporaryDirectory("https")
        let certificates = try SwitchboardCommand.temporaryDirectory("https-certificates")
        defer { try? FileManager.default.removeItem(at: directory) }
        defer { try? FileManager.default.removeItem(at: certificates) }
        func write(_ name: String, _ text: String) throws {
            try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        let foo = try TestCertificate.make(for: "foo.example.com", key: "rsa", in: certificates)
        let bar = try TestCertificate.make(for: "bar.example.com", in: certificates)
        try write(
            "gateway.yaml",
            Self.gateway(httpsPort: httpsPort, httpPort: httpPort, fooPort: fooApp.port, barPort: barApp.port))
        try write("foo-secret.yaml", foo.secret(name: "foo"))
        try write("bar-secret.yaml", bar.secret(name: "bar"))

        let serve = try SwitchboardCommand.serve(config: directory, xdsPort: xdsPort, adminPort: adminPort)
        defer { if serve.isRunning { serve.terminate() } }
        let envoy = try await EnvoyProcess.start(
            bootstrap: try SwitchboardCommand.bootstrap(xdsPort: xdsPort, gateway: "default/edge", delta: delta))
        defer { Task { await envoy.stop() } }

        let ready = await eventually(timeout: .seconds(60)) {
            try HTTPSClient.get(host: "foo.example.com", port: httpsPort, trusting: foo.certificateFile, http2: true)
                .status == 200
        }
        try #require(ready, "Envoy log:\n\(envoy.log().suffix(2000))")

        // Each name presents its own certificate (the client trusts only that one) and reaches
        // its own upstream, over HTTP/2 and HTTP/1.1 as ALPN chooses.
        for http2 in [true, false] {
            let fooResponse = try HTTPSClient.get(
                host: "foo.example.com", port: httpsPort, trusting: foo.certificateFile, http2: http2)
            #expect(fooResponse.body.contains("foo-app") && fooResponse.httpVersion == (http2 ? "2" : "1.1"))
            let barResponse = try HTTPSClient.get(
                host: "bar.example.com", port: httpsPort, trusting: bar.certificateFile, http2: http2)
            #expect(barResponse.body.contains("bar-app") && barResponse.httpVersion == (http2 ? "2" : "1.1"))
        }
        #expect(throws: HTTPSClient.Failure.self, "bar.example.com must not be served foo's certificate") {
            try HTTPSClient.get(host: "bar.example.com", port: httpsPort, trusting: foo.certificateFile, http2: false)
        }
        let redirect = try await HTTP.get(
            "http://127.0.0.1:\(httpPort)/cart?x=1", headers: ["Host": "foo.example.com"], followRedirects: false)
        #expect(redirect.status == 301)
        #expect(redirect.headers["location"] == "https://foo.example.com:\(httpsPort)/cart?x=1")

        // Renewal: a new key and certificate for foo. New connections get it; a connection
        // opened before keeps working; only the secret is sent again.
        let held = try HTTPSClient.HeldConnection(
            host: "foo.example.com", port: httpsPort, trusting: foo.certificateFile)
        defer { held.close() }
        #expect(try held.request() == "200")
        let before = try await Self.versions(adminPort: adminPort)
        let listenersModified = try await envoy.stat("listener_manager.listener_modified")
        let renewed = try TestCertificate.make(for: "foo.example.com", in: certificates)
        let editedAt = ContinuousClock.now
        try write("foo-secret.yaml", renewed.secret(name: "foo"))
        let presented = await eventually(timeout: .seconds(60)) {
            try HTTPSClient.get(
                host: "foo.example.com", port: httpsPort, trusting: renewed.certificateFile, http2: true
            )
            .status == 200
        }
        try #require(presented, "the renewed certificate never reached Envoy; log:\n\(envoy.log().suffix(2000))")
        print("renewed certificate presented \(ContinuousClock.now - editedAt) after the edit (delta: \(delta))")
        #expect(try held.request() == "200", "the connection opened before the renewal must keep working")
        let after = try await Self.versions(adminPort: adminPort)
        for type in ["cds", "eds", "lds", "rds"] {
            #expect(after[type] == before[type], "\(type) was sent again for a certificate renewal")
        }
        #expect(after["sds"] != before["sds"])
        #expect(try await envoy.stat("listener_manager.listener_modified") == listenersModified)

        // A Secret Envoy would refuse (bar's certificate with foo's key) costs bar only: foo
        // keeps serving, nothing is NACKed, and the listener's status says why.
        try write("bar-secret.yaml", bar.secret(name: "bar", key: renewed.keyPEM))
        let refused = await eventually(timeout: .seconds(60)) {
            let body = try await HTTP.get("http://127.0.0.1:\(adminPort)/status").body
            return body.contains("default/bar must contain a matching tls.crt and tls.key")
        }
        #expect(refused)
        let fooStill = try HTTPSClient.get(
            host: "foo.example.com", port: httpsPort, trusting: renewed.certificateFile, http2: true)
        #expect(fooStill.status == 200)
        let status = try await switchboardStatus(adminPort: adminPort)
        for (type, state) in status.envoys.flatMap(\.types) {
            #expect(state.nackMessage == nil, "\(type) NACKed: \(state.nackMessage ?? "")")
        }

        // Each certificate's expiry is a metric, for alerts.
        let metrics = try await HTTP.get("http://127.0.0.1:\(adminPort)/metrics").body
        #expect(metrics.contains(#"tls_certificate_expiry_timestamp_seconds{secret="default/foo"}"#), "\(metrics)")

        // Private keys never leave for a reader.
        let snapshot = try await HTTP.get("http://127.0.0.1:\(adminPort)/debug/snapshot?gateway=default/edge").body
        let statusBody = try await HTTP.get("http://127.0.0.1:\(adminPort)/status").body
        #expect(snapshot.contains("secrets"))
        for text in [snapshot, statusBody] {
            #expect(!text.contains("PRIVATE KEY") && !text.contains(Self.base64Body(of: renewed.keyPEM)))
        }
    }

    @Test(
        "a certificate kept as PEM files, renewed as certbot renews it, reaches Envoy with no restart",
        arguments: [false, true])
    func certificateFiles(delta: Bool) async throws {
        let app = try await UpstreamServer.start(name: "foo-app")
        defer { Task { await app.stop() } }
        let (httpsPort, xdsPort, adminPort) = (try freePort(), try freePort(), try freePort())
        let directory = try SwitchboardCommand.temporaryDirectory("https-files")
        let letsencrypt = try SwitchboardCommand.temporaryDirectory("letsencrypt")
        defer { try? FileManager.default.removeItem(at: directory) }
        defer { try? FileManager.default.removeItem(at: letsencrypt) }
        // certbot's layout: live/<name>/*.pem are links into archive/<name>/*N.pem.
        let archive = letsencrypt.appendingPathComponent("archive/foo.example.com")
        let live = letsencrypt.appendingPathComponent("live/foo.example.com")
        try FileManager.default.createDirectory(at: archive, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: live, withIntermediateDirectories: true)
        func issue(_ generation: Int) throws -> TestCertificate {
            let certificate = try TestCertificate.make(for: "foo.example.com", in: letsencrypt)
            try certificate.certificatePEM.write(
                to: archive.appendingPathComponent("fullchain\(generation).pem"), atomically: true, encoding: .utf8)
            try certificate.keyPEM.write(
                to: archive.appendingPathComponent("privkey\(generation).pem"), atomically: true, encoding: .utf8)
            // Each link is swapped on its own (a rename), the chain's first, as certbot does.
            for name in ["fullchain", "privkey"] {
                let link = live.appendingPathComponent("\(name).pem.new")
                try? FileManager.default.removeItem(at: link)
                try FileManager.default.createSymbolicLink(
                    atPath: link.path, withDestinationPath: "../../archive/foo.example.com/\(name)\(generation).pem")
                _ = rename(link.path, live.appendingPathComponent("\(name).pem").path)
            }
            return certificate
        }
        let first = try issue(1)
        let gateway = Self.gateway(httpsPort: httpsPort, httpPort: try freePort(), fooPort: app.port, barPort: app.port)
        try gateway.write(to: directory.appendingPathComponent("gateway.yaml"), atomically: true, encoding: .utf8)
        try """
        apiVersion: v1
        kind: Secret
        metadata:
          name: foo
          namespace: default
          annotations:
            switchboard.dev/tls-crt-file: \(live.path)/fullchain.pem
            switchboard.dev/tls-key-file: \(live.path)/privkey.pem
        type: kubernetes.io/tls
        """.write(to: directory.appendingPathComponent("foo-secret.yaml"), atomically: true, encoding: .utf8)

        let serve = try SwitchboardCommand.serve(config: directory, xdsPort: xdsPort, adminPort: adminPort)
        defer { if serve.isRunning { serve.terminate() } }
        let envoy = try await EnvoyProcess.start(
            bootstrap: try SwitchboardCommand.bootstrap(xdsPort: xdsPort, gateway: "default/edge", delta: delta))
        defer { Task { await envoy.stop() } }
        let ready = await eventually(timeout: .seconds(60)) {
            try HTTPSClient.get(host: "foo.example.com", port: httpsPort, trusting: first.certificateFile, http2: true)
                .status == 200
        }
        try #require(ready, "Envoy log:\n\(envoy.log().suffix(2000))")

        let renewedAt = ContinuousClock.now
        let second = try issue(2)
        let presented = await eventually(timeout: .seconds(60)) {
            try HTTPSClient.get(host: "foo.example.com", port: httpsPort, trusting: second.certificateFile, http2: true)
                .status == 200
        }
        #expect(presented, "the renewed files never reached Envoy; log:\n\(envoy.log().suffix(2000))")
        print("renewed certificate files presented \(ContinuousClock.now - renewedAt) after the swap (delta: \(delta))")
        let status = try await switchboardStatus(adminPort: adminPort)
        for (type, state) in status.envoys.flatMap(\.types) {
            #expect(state.nackMessage == nil, "\(type) NACKed: \(state.nackMessage ?? "")")
        }
    }

    /// The SotW/delta versions per type (`cds`, `sds`, …) the Envoy acknowledged.
    static func versions(adminPort: Int) async throws -> [String: String] {
        let status = try await switchboardStatus(adminPort: adminPort)
        var versions: [String: String] = [:]
        for (type, state) in status.envoys.flatMap(\.types) { versions[type] = state.acked ?? "-" }
        return versions
    }

    /// A distinctive piece of a PEM key's body.
    static func base64Body(of pem: String) -> String {
        String(pem.split(separator: "\n").dropFirst().first ?? "")
    }

    static func gateway(httpsPort: Int, httpPort: Int, fooPort: Int, barPort: Int) -> String {
        """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: edge, namespace: default}
        spec:
          gatewayClassName: eg
          listeners:
          - {name: http, protocol: HTTP, port: \(httpPort)}
          - name: foo
            protocol: HTTPS
            port: \(httpsPort)
            hostname: foo.example.com
            tls: {certificateRefs: [{name: foo}]}
          - name: bar
            protocol: HTTPS
            port: \(httpsPort)
            hostname: bar.example.com
            tls: {certificateRefs: [{name: bar}]}
        ---
        apiVersion: gateway.envoyproxy.io/v1alpha1
        kind: Backend
        metadata: {name: foo-app, namespace: default}
        spec: {endpoints: [{ip: {address: 127.0.0.1, port: \(fooPort)}}]}
        ---
        apiVersion: gateway.envoyproxy.io/v1alpha1
        kind: Backend
        metadata: {name: bar-app, namespace: default}
        spec: {endpoints: [{ip: {address: 127.0.0.1, port: \(barPort)}}]}
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: foo, namespace: default}
        spec:
          parentRefs: [{name: edge, sectionName: foo}]
          rules: [{backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: foo-app}]}]
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: bar, namespace: default}
        spec:
          parentRefs: [{name: edge, sectionName: bar}]
          rules: [{backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: bar-app}]}]
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: to-https, namespace: default}
        spec:
          parentRefs: [{name: edge, sectionName: http}]
          rules:
          - filters:
            - type: RequestRedirect
              requestRedirect: {scheme: https, port: \(httpsPort), statusCode: 301}

        """
    }
}
