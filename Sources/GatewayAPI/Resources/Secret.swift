import FoundationEssentials

/// `v1` Secret: what TLS listeners present. `data` values are base64, as Kubernetes stores
/// them; `stringData` values are plain text (PEM) and win over `data` for the same key, as the
/// API server merges them. The values are kept as bytes and never printed.
public struct Secret: Sendable, Equatable {
    public var name: String
    public var namespace: String
    /// `type`, e.g. `kubernetes.io/tls`; Kubernetes' default is `Opaque`.
    public var type: String
    public var data: [String: [UInt8]]
    /// PEM files `tls.crt` and `tls.key` are read from (Switchboard's extension), as written.
    public var files: Files?
    public var location: SourceLocation

    /// Where a Secret's certificate and key live on disk instead of in the YAML: the
    /// `switchboard.dev/tls-crt-file` and `switchboard.dev/tls-key-file` annotations, as certbot
    /// or a mounted Kubernetes Secret leave them. A relative path is relative to the file that
    /// defines the Secret. The control plane reads them (and watches them) before translation.
    public struct Files: Sendable, Equatable {
        public var certificate: String
        public var key: String

        public static let certificateAnnotation = "switchboard.dev/tls-crt-file"
        public static let keyAnnotation = "switchboard.dev/tls-key-file"
    }

    public static let tlsType = "kubernetes.io/tls"
    public static let certificateKey = "tls.crt"
    public static let privateKeyKey = "tls.key"

    public init(
        name: String, namespace: String, type: String, data: [String: [UInt8]], files: Files? = nil,
        location: SourceLocation
    ) {
        self.name = name
        self.namespace = namespace
        self.type = type
        self.data = data
        self.files = files
        self.location = location
    }

    /// Reads a Secret; a `data` value that is not base64 is reported and left out.
    init(_ object: ManifestObject) {
        let fields = object.fields
        fields.allowOnly(["apiVersion", "kind", "metadata", "type", "data", "stringData", "immutable"])
        var data: [String: [UInt8]] = [:]
        for (key, value) in fields.stringMap("data") {
            // Kubernetes accepts line breaks inside base64 (as `base64` wraps it); so do we.
            let compact = value.filter { !$0.isWhitespace }
            guard let bytes = Data(base64Encoded: compact) else {
                fields.report(
                    "data", .wrongType,
                    "data.\(key) is not base64; encode it (base64 -w0 FILE) or put the PEM text under stringData")
                continue
            }
            data[key] = Array(bytes)
        }
        for (key, value) in fields.stringMap("stringData") { data[key] = Array(value.utf8) }
        self.init(
            name: object.name, namespace: object.namespace, type: fields.string("type") ?? "Opaque", data: data,
            location: object.location)
        let annotations = fields.object("metadata")?.stringMap("annotations") ?? [:]
        let certificate = annotations[Files.certificateAnnotation]
        let key = annotations[Files.keyAnnotation]
        guard certificate != nil || key != nil else { return }
        guard let certificate, let key, !certificate.isEmpty, !key.isEmpty else {
            fields.report(
                "metadata", .missingField,
                "\(Files.certificateAnnotation) and \(Files.keyAnnotation) go together: name both PEM files")
            return
        }
        if data[Self.certificateKey] != nil || data[Self.privateKeyKey] != nil {
            fields.report(
                "metadata", .notAllowed,
                "the certificate comes from files (\(Files.certificateAnnotation)); remove tls.crt and tls.key from"
                    + " data/stringData, or the annotations")
            return
        }
        let directory = object.location.file.split(separator: "/", omittingEmptySubsequences: false).dropLast()
            .joined(separator: "/")
        func resolved(_ path: String) -> String {
            path.hasPrefix("/") || directory.isEmpty ? path : directory + "/" + path
        }
        files = Files(certificate: resolved(certificate), key: resolved(key))
    }
}
