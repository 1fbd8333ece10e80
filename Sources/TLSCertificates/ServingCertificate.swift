import Crypto
import FoundationEssentials
import SwiftASN1
import X509
import _CryptoExtras

/// A certificate chain and private key that Envoy will take for a TLS listener, checked the
/// way Envoy Gateway checks a `kubernetes.io/tls` Secret and, beyond it, the way Envoy itself
/// loads one: a pair Envoy would refuse (a key type BoringSSL does not serve with, a key that is
/// not the certificate's) is refused here, so Envoy is never sent a secret it would NACK.
/// Pure: the caller passes the time to judge validity by.
public struct ServingCertificate: Sendable, Equatable {
    /// Every certificate of the chain, re-encoded as PEM (text between blocks dropped).
    public var chainPEM: String
    /// The private key block, re-encoded as PEM.
    public var privateKeyPEM: String
    /// The leaf's DNS subject alternative names.
    public var dnsNames: [String]
    /// The leaf's subject common name, if any.
    public var commonName: String?
    /// When the leaf stops being valid.
    public var notAfter: Date
    /// `RSA` or `ECDSA`, as Go names public key algorithms (Envoy Gateway's messages use them).
    public var keyAlgorithm: String

    /// The names the certificate serves: its DNS SANs, else its common name.
    public var domains: [String] { dnsNames.isEmpty ? commonName.map { [$0] } ?? [] : dnsNames }

    /// Checks `certificate` (PEM chain, leaf first) and `key` (PEM).
    /// - Parameter now: the time to judge validity windows by; nil skips that check.
    /// - Throws: a problem worded as Envoy Gateway words it, after the `<ns>/<name> ` of the
    ///   Secret (the caller's part).
    public static func check(certificate: [UInt8], key: [UInt8], now: Date?) throws(CertificateProblem) -> Self {
        let chain = try validatedChain(certificate, now: now)
        let leaf = chain[0].certificate
        let keyDocument = try privateKeyBlock(key)
        let privateKey: Certificate.PrivateKey
        do {
            privateKey = try Certificate.PrivateKey(pemDocument: keyDocument)
        } catch {
            let format =
                switch keyDocument.discriminator {
                case "PRIVATE KEY": "PKCS8"
                case "RSA PRIVATE KEY": "PKCS1"
                default: "EC"
                }
            throw CertificateProblem(
                "must contain valid tls.crt and tls.key, unable to parse \(format) formatted private key in tls.key")
        }
        guard let algorithm = envoyAlgorithm(of: leaf.publicKey) else {
            throw CertificateProblem(
                "must contain valid tls.crt and tls.key, the certificate's key type is not one Envoy serves with;"
                    + " use RSA (2048 bits or more) or ECDSA (P-256, P-384 or P-521)")
        }
        guard privateKey.publicKey == leaf.publicKey else {
            throw CertificateProblem(
                "must contain a matching tls.crt and tls.key: tls: private key does not match public key")
        }
        var dnsNames: [String] = []
        if let names = try? leaf.extensions.subjectAlternativeNames {
            for name in names { if case .dnsName(let dns) = name { dnsNames.append(dns) } }
        }
        let commonName = leaf.subject.flatMap { $0 }.first { $0.type == .RDNAttributeType.commonName }.map {
            String(describing: $0.value)
        }
        return ServingCertificate(
            chainPEM: chain.map(\.pem).joined(), privateKeyPEM: keyDocument.pemString + "\n", dnsNames: dnsNames,
            commonName: commonName, notAfter: leaf.notValidAfter, keyAlgorithm: algorithm)
    }

    /// The chain's certificates; every one must parse and (given `now`) be within its validity
    /// window: a serving chain is sent whole or not at all (Envoy Gateway's rule).
    static func validatedChain(_ data: [UInt8], now: Date?) throws(CertificateProblem) -> [(
        certificate: Certificate, pem: String
    )] {
        let prefix = "must contain valid tls.crt and tls.key, unable to validate certificate in tls.crt: "
        guard !data.isEmpty else { throw CertificateProblem(prefix + "no certificate data provided") }
        let documents = (try? PEMDocument.parseMultiple(pemString: String(decoding: data, as: UTF8.self))) ?? []
        guard !documents.isEmpty else { throw CertificateProblem(prefix + "unable to decode pem data for certificate") }
        var chain: [(Certificate, String)] = []
        for document in documents {
            guard document.discriminator == "CERTIFICATE",
                let certificate = try? Certificate(derEncoded: document.derBytes)
            else {
                throw CertificateProblem(prefix + "x509: malformed certificate")
            }
            if let now {
                let name = certificate.commonNameText
                if now > certificate.notValidAfter {
                    throw CertificateProblem(
                        prefix + "certificate \(name) has expired since \(goTime(certificate.notValidAfter))")
                }
                if now < certificate.notValidBefore {
                    throw CertificateProblem(
                        prefix + "certificate \(name) will be valid after \(goTime(certificate.notValidBefore))")
                }
            }
            chain.append((certificate, document.pemString + "\n"))
        }
        return chain
    }

    /// The first private key block, skipping others (such as OpenSSL's `EC PARAMETERS`).
    static func privateKeyBlock(_ data: [UInt8]) throws(CertificateProblem) -> PEMDocument {
        let documents = (try? PEMDocument.parseMultiple(pemString: String(decoding: data, as: UTF8.self))) ?? []
        let supported = ["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"]
        if let block = documents.first(where: { supported.contains($0.discriminator) }) { return block }
        guard let first = documents.first else {
            throw CertificateProblem("must contain valid tls.crt and tls.key, unable to decode pem data in tls.key")
        }
        throw CertificateProblem(
            "must contain valid tls.crt and tls.key, \(first.discriminator) key format found in tls.key,"
                + " supported formats are PKCS1, PKCS8 or EC")
    }

    /// Go's name for the key's algorithm, when Envoy serves with it: RSA of 2048 bits or more and
    /// ECDSA on P-256, P-384 and P-521 (Ed25519 and small RSA keys are refused by Envoy).
    static func envoyAlgorithm(of key: Certificate.PublicKey) -> String? {
        if _RSA.Signing.PublicKey(key) != nil { return "RSA" }
        if P256.Signing.PublicKey(key) != nil || P384.Signing.PublicKey(key) != nil
            || P521.Signing.PublicKey(key) != nil
        {
            return "ECDSA"
        }
        return nil
    }

    /// A time as Go's `%v` prints a UTC time: `2024-02-29 09:30:10 +0000 UTC`.
    public static func goTime(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func two(_ n: Int?) -> String { n.map { $0 < 10 ? "0\($0)" : "\($0)" } ?? "00" }
        return "\(c.year ?? 0)-\(two(c.month))-\(two(c.day)) \(two(c.hour)):\(two(c.minute)):\(two(c.second)) +0000 UTC"
    }
}

/// Why a certificate or key is refused, worded for a listener condition.
public struct CertificateProblem: Error, Sendable, Equatable {
    public var message: String

    public init(_ message: String) { self.message = message }
}

extension Certificate {
    /// The subject's common name, empty when it has none (as Go prints it).
    var commonNameText: String {
        subject.flatMap { $0 }.first { $0.type == .RDNAttributeType.commonName }.map { String(describing: $0.value) }
            ?? ""
    }
}
