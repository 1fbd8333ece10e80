import SwiftASN1
import X509

/// A CA bundle for checking upstreams' certificates, checked the way Envoy will load it: PEM
/// certificate blocks, each a certificate that parses. Envoy refuses a bundle it cannot read
/// (and with it the cluster that loads it), so one bad block fails the whole bundle. Validity
/// windows are not judged here: Envoy judges them when it verifies a connection.
public enum TrustedCertificates {
    /// - Returns: the number of certificates in `pem`.
    public static func check(_ pem: String) throws(CertificateProblem) -> Int {
        let documents = (try? PEMDocument.parseMultiple(pemString: pem)) ?? []
        guard !documents.isEmpty else { throw CertificateProblem("holds no PEM certificate") }
        for (index, document) in documents.enumerated() {
            guard document.discriminator == "CERTIFICATE" else {
                throw CertificateProblem(
                    "PEM block \(index + 1) is \(document.discriminator), not CERTIFICATE; only CA certificates belong here"
                )
            }
            guard (try? Certificate(derEncoded: document.derBytes)) != nil else {
                throw CertificateProblem("PEM block \(index + 1) is not a valid X.509 certificate")
            }
        }
        return documents.count
    }
}
