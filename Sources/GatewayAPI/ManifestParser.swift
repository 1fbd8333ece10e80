import YAMLTree

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One Kubernetes object as found in a file: its identity, where it starts, and its YAML tree
/// (with the position of every node, so later errors can point at the field).
public struct ManifestObject {
    public var apiVersion: String
    public var kind: String
    public var name: String
    public var namespace: String
    public var location: SourceLocation
    public var fields: ObjectReader
    public var labels: [String: String] = [:]
    public var annotations: [String: String] = [:]
    /// `metadata.creationTimestamp` as written (RFC 3339, which sorts as text); empty when absent,
    /// as in most files.
    public var creationTimestamp = ""
}

/// One file's objects. Decoding them later reports into the same context, so `diagnostics`
/// always holds everything found in the file so far.
public struct ParsedFile {
    public var objects: [ManifestObject]
    public let context: DecodeContext
    public var diagnostics: [Diagnostic] { context.diagnostics }
}

/// Splits file contents into Kubernetes objects: multi-document YAML (`---`), JSON, and `List`
/// kinds (`kind: List` or `<Kind>List` with `items`), as `kubectl apply` accepts them.
/// Pure: it is given text, never reads files.
public enum ManifestParser {
    public static func parse(_ text: String, file: String) -> ParsedFile {
        let context = DecodeContext(file: file)
        var objects: [ManifestObject] = []
        // Reading stops at the first broken document and keeps the error: documents before it
        // still load.
        let (tree, error) = YAMLTree.parse(text)
        // An alias is written `*name`: text without a `*` has none, and its documents need no
        // walk (a tenth of parsing a route file).
        let mayAlias = Self.contains(text, UInt8(ascii: "*"))
        for document in tree.documents {
            if mayAlias, let refusal = AliasExpansion.refusal(document) {
                context.report(at: context.location(of: document), .tooLarge, "", refusal)
                continue
            }
            collect(document, path: "", into: &objects, context: context)
        }
        if let error { context.report(syntax: error) }
        return ParsedFile(objects: objects, context: context)
    }

    private static func contains(_ text: String, _ byte: UInt8) -> Bool {
        var text = text
        return text.withUTF8 { bytes in bytes.baseAddress.map { memchr($0, Int32(byte), bytes.count) != nil } ?? false }
    }

    private static func collect(
        _ node: YAMLNode, path: String, into objects: inout [ManifestObject], context: DecodeContext
    ) {
        if let text = node.text, text.isEmpty || ObjectReader.isNull(node) { return }
        guard let object = ObjectReader(node, path: path, context: context) else { return }
        let kind = object.string("kind", required: true) ?? ""
        let apiVersion = object.string("apiVersion", required: true) ?? ""
        if kind == "List" || (kind.hasSuffix("List") && object.has("items")) {
            object.allowOnly(["apiVersion", "kind", "metadata", "items"])
            for (index, item) in object.list("items").enumerated() {
                collect(item, path: "items[\(index)]", into: &objects, context: context)
            }
            return
        }
        guard !kind.isEmpty, !apiVersion.isEmpty else { return }
        let metadata = object.object("metadata", required: true)
        let name = metadata?.string("name", required: true) ?? ""
        let namespace = metadata?.string("namespace") ?? "default"
        // Kubernetes' name rules: names become parts of Envoy names and stat prefixes, and
        // `a/b` + `c` must never collide with `a` + `b/c`.
        if let metadata, let problem = KubernetesName.problem(name, rule: KubernetesName.rule(forKind: kind)) {
            metadata.report("name", .notAllowed, problem)
            return
        }
        if let metadata, let problem = KubernetesName.problem(namespace, rule: .label) {
            metadata.report("namespace", .notAllowed, problem)
            return
        }
        objects.append(
            ManifestObject(
                apiVersion: apiVersion, kind: kind, name: name, namespace: namespace, location: object.location,
                fields: object, labels: metadata?.stringMap("labels") ?? [:],
                annotations: metadata?.stringMap("annotations") ?? [:],
                creationTimestamp: metadata?.string("creationTimestamp") ?? ""))
    }
}

extension ManifestObject {
    /// The object's `spec` after checking its top-level fields, with `allowed` its only fields
    /// (nil: any); nil, with a diagnostic, when there is no spec.
    func spec(allowing allowed: [String]?) -> ObjectReader? {
        fields.allowOnly(["apiVersion", "kind", "metadata", "spec", "status"])
        guard let spec = fields.object("spec", required: true) else { return nil }
        if let allowed { spec.allowOnly(allowed) }
        return spec
    }
}
