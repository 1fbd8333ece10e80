/// The TLS Envoy speaks to one backendRef's endpoints (a BackendTLSPolicy, or a Backend's own
/// `tls`): what it sends as SNI and how it checks the certificate it gets back.
public struct UpstreamTLS: Sendable, Hashable, Codable {
    /// A name the upstream's certificate must carry; exactly one of the two is set.
    public struct SubjectAltName: Sendable, Hashable, Codable {
        public var hostname: String?
        public var uri: String?

        public init(hostname: String? = nil, uri: String? = nil) {
            self.hostname = hostname
            self.uri = uri
        }
    }

    public var sni: String?
    /// The trust bundle (SDS secret) the certificate is checked against; nil only with
    /// `insecureSkipVerify`.
    public var caCertificate: String?
    /// Names to check in the certificate instead of `sni`.
    public var subjectAltNames: [SubjectAltName]
    /// The certificate is not checked at all (a Backend's `insecureSkipVerify`).
    public var insecureSkipVerify: Bool
    /// TLS versions (`Auto`, `1.0` … `1.3`): Envoy Gateway's 1.2 to 1.3 unless the Backend says.
    public var minVersion = "1.2"
    public var maxVersion = "1.3"
    /// Nil where Envoy's defaults apply.
    public var ciphers: [String]?
    public var ecdhCurves: [String]?
    public var signatureAlgorithms: [String]?
    /// Nil: Envoy's default (negotiated by the cluster); empty: no ALPN.
    public var alpnProtocols: [String]?
    /// The SDS secret (`<ns>/<name>`) with the certificate Envoy presents to the backend.
    public var clientCertificate: String?

    public init(
        sni: String? = nil, caCertificate: String?, subjectAltNames: [SubjectAltName] = [],
        insecureSkipVerify: Bool = false
    ) {
        self.sni = sni
        self.caCertificate = caCertificate
        self.subjectAltNames = subjectAltNames
        self.insecureSkipVerify = insecureSkipVerify
    }
}

/// CA certificates served over SDS for upstream TLS to check against: PEM from a ConfigMap or
/// Secret (`<policy>/<ns>-ca`, as Envoy Gateway names it), or the trust store of the machine
/// Envoy runs on (`system_ca_certificates`).
public struct TrustBundle: Sendable, Hashable, Codable {
    public static let systemName = "system_ca_certificates"

    public var name: String
    /// The PEM bundle; nil for the system's trust store.
    public var pem: String?

    public init(name: String, pem: String?) {
        self.name = name
        self.pem = pem
    }
}
