import Foundation
import Testing
import XDSTesting

/// The admin server shows the whole configuration: beyond loopback it needs a bearer token (or an
/// explicit --admin-insecure), and it can speak HTTPS.
@Suite("Admin server security")
struct AdminSecurityTests {
    static func config() throws -> URL {
        try SwitchboardCommand.configDirectory("admin", files: ["gw.yaml": gatewayYAML(port: 8080, upstreamPort: 3000)])
    }

    static func tokenFile(_ token: String) throws -> String {
        let directory = try SwitchboardCommand.temporaryDirectory("token")
        let file = directory.appendingPathComponent("token")
        try "\(token)\n".write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }

    @Test("with a token: /healthz and /readyz are open, everything else answers 401 without the right bearer token")
    func bearerToken() async throws {
        let adminPort = try freePort()
        let token = "s3cret-\(UUID().uuidString)"
        let tokenFile = try Self.tokenFile(token)
        let serve = try SwitchboardCommand.serve(
            config: try Self.config(), xdsPort: try freePort(), adminPort: adminPort,
            extra: ["--admin-token-file", tokenFile])
        defer { if serve.isRunning { serve.terminate() } }
        let admin = "http://127.0.0.1:\(adminPort)"
        try #require(
            await eventually { try await HTTP.get("\(admin)/readyz").status == 200 }, "serve did not become ready")
        #expect(try await HTTP.get("\(admin)/healthz").status == 200)

        for path in ["/status", "/metrics", "/debug/snapshot"] {
            let anonymous = try await HTTP.get("\(admin)\(path)")
            #expect(anonymous.status == 401, "\(path)")
            #expect(anonymous.headers["www-authenticate"] == "Bearer", "\(path)")
            #expect(
                try await HTTP.get("\(admin)\(path)", headers: ["Authorization": "Bearer wrong"]).status == 401,
                "\(path)")
            #expect(
                try await HTTP.get("\(admin)\(path)", headers: ["Authorization": "Bearer \(token)"]).status == 200,
                "\(path)")
        }

        let withToken = try SwitchboardCommand.run([
            "status", "--admin-address", "127.0.0.1:\(adminPort)", "--admin-token-file", tokenFile,
        ])
        #expect(withToken.status == 0, "\(withToken.stderr)")
        #expect(withToken.stdout.contains("RELOAD  applied"))
        let without = try SwitchboardCommand.run(["status", "--admin-address", "127.0.0.1:\(adminPort)"])
        #expect(without.status == 1)
        #expect(without.stderr.contains("give --admin-token-file FILE"), "\(without.stderr)")
    }

    @Test("a non-loopback admin address without a token is refused, unless --admin-insecure says so")
    func nonLoopback() async throws {
        let adminPort = try freePort()
        let refused = try SwitchboardCommand.run([
            "serve", "--config", try Self.config().path, "--xds-address", "127.0.0.1:\(try freePort())",
            "--admin-address",
            "0.0.0.0:\(adminPort)",
        ])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("give --admin-token-file FILE"), "\(refused.stderr)")

        let serve = try SwitchboardCommand.serve(
            config: try Self.config(), xdsPort: try freePort(), adminPort: adminPort,
            extra: ["--admin-address", "0.0.0.0:\(adminPort)", "--admin-insecure"])
        defer { if serve.isRunning { serve.terminate() } }
        #expect(await eventually { try await HTTP.get("http://127.0.0.1:\(adminPort)/status").status == 200 })
    }

    @Test("with --admin-tls-cert the admin server speaks HTTPS only")
    func https() async throws {
        let directory = try SwitchboardCommand.temporaryDirectory("admin-tls")
        func openssl(_ arguments: [String]) throws {
            let result = try runProcess("/usr/bin/env", ["openssl"] + arguments, in: directory)
            try #require(result.status == 0, "openssl \(arguments): \(result.stderr)")
        }
        try openssl([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=admin-ca",
        ])
        try "subjectAltName=IP:127.0.0.1\n".write(
            to: directory.appendingPathComponent("san.ext"), atomically: true, encoding: .utf8)
        try openssl([
            "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "admin.key", "-out", "admin.csr", "-subj", "/CN=admin",
        ])
        try openssl([
            "x509", "-req", "-in", "admin.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out",
            "admin.pem", "-days", "2",
            "-extfile", "san.ext",
        ])
        let adminPort = try freePort()
        let token = "tls-token"
        let serve = try SwitchboardCommand.serve(
            config: try Self.config(), xdsPort: try freePort(), adminPort: adminPort,
            extra: [
                "--admin-token-file", try Self.tokenFile(token), "--admin-tls-cert",
                directory.appendingPathComponent("admin.pem").path,
                "--admin-tls-key", directory.appendingPathComponent("admin.key").path,
            ])
        defer { if serve.isRunning { serve.terminate() } }
        // Python's client, trusting only the test CA: the certificate and the token both count.
        let client = """
            import ssl, sys, urllib.request
            context = ssl.create_default_context(cafile=sys.argv[1])
            request = urllib.request.Request(sys.argv[2], headers={"Authorization": "Bearer " + sys.argv[3]})
            print(urllib.request.urlopen(request, context=context, timeout=5).read().decode())
            """
        let url = "https://127.0.0.1:\(adminPort)/status"
        let served = await eventually(timeout: .seconds(60)) {
            try runProcess(
                "/usr/bin/env", ["python3", "-c", client, directory.appendingPathComponent("ca.pem").path, url, token]
            ).status == 0
        }
        #expect(served, "HTTPS with the CA and the token did not answer")
        let result = try runProcess(
            "/usr/bin/env", ["python3", "-c", client, directory.appendingPathComponent("ca.pem").path, url, token])
        #expect(result.stdout.contains("\"envoys\""), "\(result.stdout) \(result.stderr)")
        // Plain HTTP to the HTTPS port gets no answer.
        #expect((try? await HTTP.get("http://127.0.0.1:\(adminPort)/healthz"))?.status != 200)
    }
}
