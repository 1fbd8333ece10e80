/// The cipher suites, curves and signature algorithms Envoy's TLS library (BoringSSL) takes, by
/// the names Envoy's `tls_params` use, as Envoy 1.40 accepts them (each checked with
/// `envoy --mode validate`). Envoy refuses a whole TLS context, and with it the cluster, for one
/// name it does not know, and Envoy Gateway passes any name on; checking here turns that NACK
/// into a status message. TLS 1.3 suites are absent: BoringSSL does not let them be chosen.
public enum TLSParameterNames {
    public static let cipherSuites: Set<String> = {
        let openSSLNames = [
            "DES-CBC3-SHA", "AES128-SHA", "AES256-SHA", "PSK-AES128-CBC-SHA", "PSK-AES256-CBC-SHA",
            "AES128-GCM-SHA256", "AES256-GCM-SHA384", "ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA",
            "ECDHE-RSA-AES128-SHA", "ECDHE-RSA-AES256-SHA", "ECDHE-ECDSA-AES128-GCM-SHA256",
            "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384",
            "ECDHE-PSK-AES128-CBC-SHA", "ECDHE-PSK-AES256-CBC-SHA", "ECDHE-RSA-CHACHA20-POLY1305",
            "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-PSK-CHACHA20-POLY1305", "ECDHE-RSA-AES128-SHA256",
            "ECDHE-ECDSA-AES128-SHA256",
        ]
        let ietfNames = [
            "TLS_RSA_WITH_3DES_EDE_CBC_SHA", "TLS_RSA_WITH_AES_128_CBC_SHA", "TLS_RSA_WITH_AES_256_CBC_SHA",
            "TLS_PSK_WITH_AES_128_CBC_SHA", "TLS_PSK_WITH_AES_256_CBC_SHA", "TLS_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_RSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
            "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
            "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA",
            "TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
        ]
        return Set(openSSLNames + ietfNames)
    }()

    public static let curves: Set<String> = [
        "P-256", "P-384", "P-521", "X25519", "X25519MLKEM768", "MLKEM1024", "prime256v1", "secp384r1",
    ]

    public static let signatureAlgorithms: Set<String> = [
        "rsa_pkcs1_sha1", "rsa_pkcs1_sha256", "rsa_pkcs1_sha384", "rsa_pkcs1_sha512", "ecdsa_sha1",
        "ecdsa_secp256r1_sha256", "ecdsa_secp384r1_sha384", "ecdsa_secp521r1_sha512", "rsa_pss_rsae_sha256",
        "rsa_pss_rsae_sha384", "rsa_pss_rsae_sha512", "ed25519",
    ]

    /// What is wrong with a cipher list, or nil. An entry may be a group of equally preferred
    /// suites, `[A|B]`, as BoringSSL writes them.
    public static func cipherProblem(_ ciphers: [String]) -> String? {
        for entry in ciphers {
            let names =
                entry.hasPrefix("[") && entry.hasSuffix("]")
                ? entry.dropFirst().dropLast().split(separator: "|").map(String.init) : [entry]
            for name in names where !cipherSuites.contains(name) {
                if ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"].contains(name) {
                    return
                        "ciphers: \(name) is a TLS 1.3 suite, which Envoy does not let be chosen; list TLS 1.2 suites only"
                }
                return "ciphers: Envoy knows no cipher suite \(name) (for example ECDHE-ECDSA-AES128-GCM-SHA256)"
            }
        }
        return nil
    }

    /// What is wrong with curves or signature algorithms, or nil.
    public static func problem(curves: [String], signatureAlgorithms: [String]) -> String? {
        if let curve = curves.first(where: { !self.curves.contains($0) }) {
            return
                "ecdhCurves: Envoy knows no curve \(curve) (it takes \(self.curves.sorted().joined(separator: ", ")))"
        }
        if let algorithm = signatureAlgorithms.first(where: { !self.signatureAlgorithms.contains($0) }) {
            return "signatureAlgorithms: Envoy knows no signature algorithm \(algorithm)"
                + " (it takes \(self.signatureAlgorithms.sorted().joined(separator: ", ")))"
        }
        return nil
    }
}
