import ControlPlane
import Foundation
import GatewayAPI
import Testing
import XDSTesting

@Suite("Certificates kept as PEM files")
struct CertificateFilesTests {
    @Test(
        "a Secret reads its certificate and key from files; a half-renewed pair or a missing file keeps the last good pair, reported; the completed renewal applies"
    )
    func lastGoodPair() throws {
        let directory = try SwitchboardCommand.temporaryDirectory("certificate-files")
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("config")
        let pem = directory.appendingPathComponent("pem")
        try FileManager.default.createDirectory(at: config, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: pem, withIntermediateDirectories: true)
        // Relative to the file that defines the Secret.
        try """
        apiVersion: v1
        kind: Secret
        metadata:
          name: site
          annotations: {switchboard.dev/tls-crt-file: ../pem/cert.pem, switchboard.dev/tls-key-file: ../pem/key.pem}
        type: kubernetes.io/tls
        """.write(to: config.appendingPathComponent("secret.yaml"), atomically: true, encoding: .utf8)
        let certificateFile = pem.appendingPathComponent("cert.pem")
        let keyFile = pem.appendingPathComponent("key.pem")
        func install(_ certificate: TestCertificate, key: Bool = true) throws {
            try certificate.certificatePEM.write(to: certificateFile, atomically: true, encoding: .utf8)
            if key { try certificate.keyPEM.write(to: keyFile, atomically: true, encoding: .utf8) }
        }
        let first = try TestCertificate.make(for: "site.example.com", in: directory)
        let second = try TestCertificate.make(for: "site.example.com", in: directory)
        try install(first)
        var store = ConfigStore(paths: [config.path])
        func secret(_ refresh: ConfigStore.Refresh) -> String {
            String(decoding: refresh.resources.secrets["default/site"]?.data["tls.crt"] ?? [], as: UTF8.self)
        }

        let loaded = try store.refresh()
        #expect(secret(loaded) == first.certificatePEM)
        #expect(loaded.diagnostics.isEmpty, "\(loaded.diagnostics)")
        #expect(
            loaded.certificateFiles.map { ($0 as NSString).standardizingPath } == [certificateFile.path, keyFile.path])

        // The new certificate is in place, its key not yet: the old pair stays.
        try install(second, key: false)
        let half = try store.refresh()
        #expect(secret(half) == first.certificatePEM)
        #expect(half.heldBack == [config.appendingPathComponent("secret.yaml").path])
        #expect(half.diagnostics.contains { $0.message.contains("the last good certificate stays in effect") })

        try install(second)
        let renewed = try store.refresh()
        #expect(secret(renewed) == second.certificatePEM)
        #expect(renewed.diagnostics.isEmpty && renewed.heldBack.isEmpty)

        try FileManager.default.removeItem(at: keyFile)
        let missing = try store.refresh()
        #expect(secret(missing) == second.certificatePEM)
        #expect(missing.diagnostics.contains { $0.message.contains("key.pem does not exist") })
    }

    @Test("the annotations go together, and not with tls.crt in the YAML")
    func annotationsChecked() {
        let resources = ResourceSet.load([
            (
                "a.yaml",
                """
                apiVersion: v1
                kind: Secret
                metadata: {name: one, annotations: {switchboard.dev/tls-crt-file: c.pem}}
                type: kubernetes.io/tls
                ---
                apiVersion: v1
                kind: Secret
                metadata: {name: two, annotations: {switchboard.dev/tls-crt-file: c.pem, switchboard.dev/tls-key-file: k.pem}}
                type: kubernetes.io/tls
                stringData: {tls.crt: x}
                """
            )
        ])
        let messages = resources.diagnostics.map(\.description)
        #expect(messages.contains { $0.contains("go together") }, "\(messages)")
        #expect(messages.contains { $0.contains("remove tls.crt and tls.key") }, "\(messages)")
    }
}
