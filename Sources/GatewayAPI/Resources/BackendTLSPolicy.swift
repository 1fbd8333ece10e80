/// Gateway API `BackendTLSPolicy` (`gateway.networking.k8s.io/v1`; files written for earlier
/// versions, v1alpha2 and v1alpha3, read the same): Envoy speaks TLS to the Services and Backends
/// it targets, checks their certificate against a CA bundle (or the system's), sends `hostname`
/// as SNI and checks it (or `subjectAltNames`) in their certificate. The CRD's rules are checked
/// at load time, as the API server would.
public struct BackendTLSPolicy: Sendable, Equatable {
    public struct TargetReference: Sendable, Equatable {
        public var group: String
        public var kind: String
        public var name: String
        /// A Service port's name, or a Backend's port number: only that port is TLS.
        public var sectionName: String?
    }

    public struct CAReference: Sendable, Equatable {
        public var group: String
        public var kind: String
        public var name: String

        /// `caCertificateRefs` of a policy's `validation` or a Backend's `tls`.
        static func list(_ reader: ObjectReader) -> [CAReference] {
            reader.objects("caCertificateRefs").compactMap { ref in
                ref.allowOnly(["group", "kind", "name"])
                guard let kind = ref.string("kind", required: true), let name = ref.string("name", required: true)
                else { return nil }
                return CAReference(group: ref.string("group") ?? "", kind: kind, name: name)
            }
        }
    }

    public enum SubjectAltName: Sendable, Equatable {
        case hostname(String)
        case uri(String)
    }

    public var name: String
    public var namespace: String
    public var creationTimestamp: String
    public var targetRefs: [TargetReference]
    public var caCertificateRefs: [CAReference]
    /// `wellKnownCACertificates: System`: the trust store of the machine Envoy runs on.
    public var systemCertificates: Bool
    public var hostname: String
    public var subjectAltNames: [SubjectAltName]
    public var location: SourceLocation

    init?(_ object: ManifestObject) {
        guard let spec = object.spec(allowing: ["targetRefs", "validation", "options"]) else { return nil }
        targetRefs = spec.objects("targetRefs", required: true).compactMap { ref in
            ref.allowOnly(["group", "kind", "name", "sectionName"])
            // `group` is required by the CRD; Envoy Gateway's file loader takes it as the core
            // group when left out, and so do we, so that its files load.
            guard let kind = ref.string("kind", required: true), let name = ref.string("name", required: true) else {
                return nil
            }
            return TargetReference(
                group: ref.string("group") ?? "", kind: kind, name: name, sectionName: ref.string("sectionName"))
        }
        if spec.has("targetRefs") && targetRefs.isEmpty {
            spec.report(
                "targetRefs", .missingField, "needs at least one target: the Service or Backend to reach over TLS")
        }
        guard let validation = spec.object("validation", required: true) else { return nil }
        validation.allowOnly(["caCertificateRefs", "wellKnownCACertificates", "hostname", "subjectAltNames"])
        caCertificateRefs = CAReference.list(validation)
        systemCertificates = validation.oneOf("wellKnownCACertificates", ["System"]) == "System"
        if systemCertificates == !caCertificateRefs.isEmpty {
            validation.report(
                nil, .missingField,
                systemCertificates
                    ? "set caCertificateRefs or wellKnownCACertificates, not both"
                    : "needs caCertificateRefs (a ConfigMap or Secret with the CA bundle) or wellKnownCACertificates: System"
            )
        }
        hostname = validation.string("hostname", required: true, format: .hostname(wildcard: false)) ?? ""
        subjectAltNames = validation.objects("subjectAltNames").compactMap { san in
            san.allowOnly(["type", "hostname", "uri"])
            switch san.oneOf("type", ["Hostname", "URI"], required: true) {
            case "Hostname":
                return san.string("hostname", required: true, format: .hostname(wildcard: true)).map { .hostname($0) }
            case "URI":
                return san.string("uri", required: true).map { .uri($0) }
            default:
                return nil
            }
        }
        name = object.name
        namespace = object.namespace
        creationTimestamp = object.creationTimestamp
        location = object.location
    }
}

/// Envoy Gateway Backend `spec.tls`: TLS to the Backend's endpoints. A BackendTLSPolicy that
/// targets the Backend overrides how the certificate is checked (CA, SNI, names); the rest (client
/// certificate, versions, ciphers, ALPN, `insecureSkipVerify`) stays the Backend's.
public struct BackendTLSSettings: Sendable, Equatable {
    /// ConfigMaps or Secrets in the Backend's namespace holding the CA bundle.
    public var caCertificateRefs: [BackendTLSPolicy.CAReference]
    public var systemCertificates: Bool
    public var insecureSkipVerify: Bool
    public var sni: String?
    /// The certificate Envoy presents to the backend: a `kubernetes.io/tls` Secret in the
    /// Backend's namespace (`<ns>/<name>`, as written).
    public var clientCertificate: (namespace: String?, name: String)?
    /// `Auto`, `1.0` … `1.3`.
    public var minVersion: String?
    public var maxVersion: String?
    public var ciphers: [String]
    public var ecdhCurves: [String]
    public var signatureAlgorithms: [String]
    /// Nil: not set; empty: ALPN off.
    public var alpnProtocols: [String]?

    static let versions = ["Auto", "1.0", "1.1", "1.2", "1.3"]

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.caCertificateRefs == rhs.caCertificateRefs && lhs.systemCertificates == rhs.systemCertificates
            && lhs.insecureSkipVerify == rhs.insecureSkipVerify && lhs.sni == rhs.sni
            && lhs.clientCertificate?.namespace == rhs.clientCertificate?.namespace
            && lhs.clientCertificate?.name == rhs.clientCertificate?.name && lhs.minVersion == rhs.minVersion
            && lhs.maxVersion == rhs.maxVersion && lhs.ciphers == rhs.ciphers && lhs.ecdhCurves == rhs.ecdhCurves
            && lhs.signatureAlgorithms == rhs.signatureAlgorithms && lhs.alpnProtocols == rhs.alpnProtocols
    }

    init?(_ tls: ObjectReader) {
        if tls.has("autoSNIFromEndpointHostname") {
            tls.report(
                "autoSNIFromEndpointHostname", .notAllowed,
                "autoSNIFromEndpointHostname is not supported yet: set sni, or use a BackendTLSPolicy with hostname")
        }
        tls.allowOnly([
            "caCertificateRefs", "wellKnownCACertificates", "insecureSkipVerify", "sni", "autoSNIFromEndpointHostname",
            "clientCertificateRef", "minVersion", "maxVersion", "ciphers", "ecdhCurves", "signatureAlgorithms",
            "alpnProtocols",
        ])
        caCertificateRefs = BackendTLSPolicy.CAReference.list(tls)
        systemCertificates = tls.oneOf("wellKnownCACertificates", ["System"]) == "System"
        insecureSkipVerify = tls.bool("insecureSkipVerify") ?? false
        sni = tls.string("sni", format: .hostname(wildcard: false))
        if let ref = tls.object("clientCertificateRef") {
            ref.allowOnly(["group", "kind", "name", "namespace"])
            if let kind = ref.string("kind"), kind != "Secret" {
                ref.report("kind", .notAllowed, "\"\(kind)\" is not allowed: the client certificate is a Secret")
            }
            if let name = ref.string("name", required: true) { clientCertificate = (ref.string("namespace"), name) }
        }
        minVersion = tls.oneOf("minVersion", Self.versions)
        maxVersion = tls.oneOf("maxVersion", Self.versions)
        ciphers = tls.strings("ciphers")
        ecdhCurves = tls.strings("ecdhCurves")
        signatureAlgorithms = tls.strings("signatureAlgorithms")
        if tls.has("alpnProtocols") {
            alpnProtocols = tls.strings("alpnProtocols")
            for value in alpnProtocols ?? [] where !["http/1.0", "http/1.1", "h2"].contains(value) {
                tls.report("alpnProtocols", .notAllowed, "\"\(value)\" is not one of http/1.0, http/1.1, h2")
            }
        }
        // The CRD's order: Auto is lowest as a minimum and highest as a maximum.
        let minimum = ["Auto": 0, "1.0": 1, "1.1": 2, "1.2": 3, "1.3": 4]
        let maximum = ["1.0": 1, "1.1": 2, "1.2": 3, "1.3": 4, "Auto": 5]
        if let top = maxVersion.flatMap({ maximum[$0] }), (minVersion.flatMap { minimum[$0] } ?? 3) > top {
            tls.report("minVersion", .notAllowed, "minVersion must be smaller or equal to maxVersion")
        }
        if systemCertificates && !caCertificateRefs.isEmpty {
            tls.report(nil, .notAllowed, "set caCertificateRefs or wellKnownCACertificates, not both")
        }
        if insecureSkipVerify && (systemCertificates || !caCertificateRefs.isEmpty) {
            tls.report(
                "insecureSkipVerify", .notAllowed,
                "a CA (caCertificateRefs or wellKnownCACertificates) and insecureSkipVerify contradict each other")
        }
    }
}
