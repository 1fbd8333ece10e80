import Foundation

/// `v1` Secret: what TLS listeners present. `data` values are base64, as Kubernetes stores
/// them; `stringData` values are plain text (PEM) and win over `data` for the same key, as the
/// API server merges them. The values are kept as bytes and never printed.
public struct Secret: Sendable, Equatable {
    public var name: String
    public var namespace: String
    /// `type`, e.g. `kubernetes.io/tls`; Kubernetes' default is `Opaque`.
    public var type: String
    public var data: [String: [UInt8]]
    public var location: SourceLocation

    public static let tlsType = "kubernetes.io/tls"
    public static let certificateKey = "tls.crt"
    public static let privateKeyKey = "tls.key"

    public init(name: String, namespace: String, type: String, data: [String: [UInt8]], location: SourceLocation) {
        self.name = name
        self.namespace = namespace
        self.type = type
        self.data = data
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
    }
}
