import CLibYAML
import FoundationEssentials
import YAMLTree

/// JSON as people read it in goldens and `switchboard translate`: keys sorted, YAML in block
/// style like Envoy Gateway's own test data. One rendering for every stage's output, so that a
/// golden diff shows only what changed.
///
/// JSON is YAML, so the document is read with YAMLTree (libyaml) and written back with libyaml's
/// emitter: no JSON object model, and nothing of Foundation beyond its essentials.
public enum CanonicalText {
    /// Pretty-printed JSON with sorted keys and a final newline.
    public static func json(_ json: String) throws(CanonicalTextError) -> String {
        guard let root = try document(json) else { return "" }
        var out = ""
        writeJSON(root, indent: 0, into: &out)
        return out + "\n"
    }

    /// The same document as block-style YAML, keys in the JSON's order.
    public static func yaml(_ json: String) throws(CanonicalTextError) -> String {
        guard let root = try document(json) else { return "" }
        var emitter = try YAMLEmitter()
        try emitter.document { emitter throws(CanonicalTextError) in try emitBlock(root, to: &emitter, sorted: false) }
        return emitter.text
    }

    /// A value's JSON with sorted keys, as `yaml` and `json` take it.
    public static func encode(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    private static func document(_ json: String) throws(CanonicalTextError) -> YAMLNode? {
        let (tree, error) = YAMLTree.parse(json)
        if let error { throw CanonicalTextError(message: "\(error.line):\(error.column): \(error.message)") }
        return tree.documents.first
    }

    /// Inside `google.protobuf.Struct`s (`filterMetadata`, `jsonFormat`), which SwiftProtobuf
    /// writes in a dictionary's (per-process) order, YAML's keys are sorted too.
    private static let structKeys: Set<String> = ["filterMetadata", "jsonFormat"]

    /// JSON parsed as YAML is in flow style; block style reads like Envoy Gateway's YAML.
    private static func emitBlock(_ node: YAMLNode, to emitter: inout YAMLEmitter, sorted: Bool)
        throws(CanonicalTextError)
    {
        switch node.kind {
        case .mapping:
            var pairs = Array(node.pairs)
            if sorted { pairs.sort { ($0.key.text ?? "") < ($1.key.text ?? "") } }
            try emitter.mapping { emitter throws(CanonicalTextError) in
                for (key, value) in pairs {
                    try emitBlock(key, to: &emitter, sorted: sorted)
                    try emitBlock(value, to: &emitter, sorted: sorted || structKeys.contains(key.text ?? ""))
                }
            }
        case .sequence:
            try emitter.sequence { emitter throws(CanonicalTextError) in
                for item in node.items { try emitBlock(item, to: &emitter, sorted: sorted) }
            }
        case .scalar:
            // Plain where that reads back the same; a string that plain would read as a boolean,
            // number, null or timestamp (Kubernetes' "True") stays quoted.
            let text = node.text ?? ""
            try emitter.scalar(text, quoted: !node.isPlain && PlainScalar.needsQuotes(text))
        }
    }

    private static func writeJSON(_ node: YAMLNode, indent: Int, into out: inout String) {
        switch node.kind {
        case .mapping:
            let pairs = node.pairs.sorted { ($0.key.text ?? "") < ($1.key.text ?? "") }
            writeList(pairs, brackets: ("{", "}"), indent: indent, into: &out) { pair, out in
                writeString(pair.key.text ?? "", into: &out)
                out += " : "
                writeJSON(pair.value, indent: indent + 1, into: &out)
            }
        case .sequence:
            writeList(Array(node.items), brackets: ("[", "]"), indent: indent, into: &out) { item, out in
                writeJSON(item, indent: indent + 1, into: &out)
            }
        case .scalar:
            // Numbers, true, false and null are plain, as JSON wrote them; strings are quoted.
            if node.isPlain { out += node.text ?? "null" } else { writeString(node.text ?? "", into: &out) }
        }
    }

    /// An object's members or an array's items, one a line; `{}` or `[]` when there are none.
    private static func writeList<Element>(
        _ elements: [Element], brackets: (String, String), indent: Int, into out: inout String,
        _ write: (Element, inout String) -> Void
    ) {
        out += brackets.0
        guard !elements.isEmpty else {
            out += brackets.1
            return
        }
        let inner = String(repeating: "  ", count: indent + 1)
        for (index, element) in elements.enumerated() {
            out += (index == 0 ? "\n" : ",\n") + inner
            write(element, &out)
        }
        out += "\n" + String(repeating: "  ", count: indent) + brackets.1
    }

    private static func writeString(_ text: String, into out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case "\u{00}"..."\u{1F}":
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}

/// The text given to `CanonicalText` was not JSON (or YAML): where, and what libyaml said.
public struct CanonicalTextError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { "not valid JSON at \(message)" }
}
