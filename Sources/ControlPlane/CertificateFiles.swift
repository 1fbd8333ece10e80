import FoundationEssentials
import GatewayAPI
import TLSCertificates

/// Secrets whose certificate and key are PEM files on disk (`Secret.Files`): read before
/// translation, under the configuration's rules. A file that cannot be read, or a pair that is
/// not a valid certificate and key, keeps the last good pair in effect and is reported, so a
/// renewal caught half-written (certbot swaps the certificate link before the key's) never takes
/// a hostname down; the next change completes it.
struct CertificateFiles: Sendable {
    private var lastGood: [String: (certificate: [UInt8], key: [UInt8])] = [:]

    /// Fills in each file-backed Secret's `tls.crt` and `tls.key`; returns the files read (to
    /// watch) and the Secrets held at their last good pair.
    mutating func resolve(_ resources: inout ResourceSet, maxFileBytes: Int) -> (files: [String], held: [String]) {
        var files: [String] = []
        var held: [String] = []
        var next: [String: (certificate: [UInt8], key: [UInt8])] = [:]
        for (name, secret) in resources.secrets.sorted(by: { $0.key < $1.key }) {
            guard let paths = secret.files else { continue }
            files += [paths.certificate, paths.key]
            var problem: String?
            var pair: (certificate: [UInt8], key: [UInt8])?
            switch (Self.read(paths.certificate, maxFileBytes), Self.read(paths.key, maxFileBytes)) {
            case (.success(let certificate), .success(let key)):
                do {
                    _ = try ServingCertificate.check(certificate: certificate, key: key, now: nil)
                    pair = (certificate, key)
                } catch {
                    // No good pair yet: the listener's status reports it, as for YAML.
                    pair = lastGood[name] == nil ? (certificate, key) : nil
                    problem = "\(paths.certificate) and \(paths.key) are not a valid pair (\(error.message))"
                }
            case (.failure(let error), _), (_, .failure(let error)):
                problem = error.message
            }
            if let pair, problem == nil || lastGood[name] == nil {
                if problem == nil { next[name] = pair }
                resources.secrets[name]?.data[Secret.certificateKey] = pair.certificate
                resources.secrets[name]?.data[Secret.privateKeyKey] = pair.key
            } else if let good = lastGood[name] {
                next[name] = good
                held.append(secret.location.file)
                resources.secrets[name]?.data[Secret.certificateKey] = good.certificate
                resources.secrets[name]?.data[Secret.privateKeyKey] = good.key
            }
            if let problem {
                let kept = lastGood[name] != nil ? "; the last good certificate stays in effect" : ""
                resources.diagnostics.append(
                    Diagnostic(
                        location: secret.location, code: .unreadable, field: "metadata.annotations",
                        message: "Secret \(name): \(problem)\(kept)"))
            }
        }
        lastGood = next
        resources.diagnostics.sort()
        return (files, held)
    }

    struct ReadError: Error { var message: String }

    static func read(_ path: String, _ maxFileBytes: Int) -> Result<[UInt8], ReadError> {
        switch ConfigFiles.read(path, maxFileBytes: maxFileBytes) {
        case .text(let text): .success(Array(text.utf8))
        case .vanished: .failure(ReadError(message: "\(path) does not exist"))
        case .problem(let diagnostic): .failure(ReadError(message: "\(path): \(diagnostic.message)"))
        }
    }
}
