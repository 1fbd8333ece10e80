import Foundation
import Yams

/// JSON as people read it in goldens and `switchboard translate`: keys sorted, YAML in block
/// style like Envoy Gateway's own test data. One rendering for every stage's output, so that a
/// golden diff shows only what changed.
public enum CanonicalText {
    /// Pretty-printed JSON with sorted keys and a final newline.
    public static func json(_ json: String) throws -> String {
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8))
        let pretty = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        return String(decoding: pretty, as: UTF8.self) + "\n"
    }

    /// The same document as block-style YAML, keys in the JSON's order.
    public static func yaml(_ json: String) throws -> String {
        guard let node = try Yams.compose(yaml: json) else { return "" }
        return try Yams.serialize(node: blockStyle(node), width: -1)
    }

    /// A value's JSON with sorted keys, as `yaml` and `json` take it.
    public static func encode(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// JSON parsed as YAML keeps its flow style; block style reads like Envoy Gateway's YAML.
    /// `sorted`: inside `google.protobuf.Struct`s (`filterMetadata`, `jsonFormat`), which
    /// SwiftProtobuf writes in a dictionary's (per-process) order, keys are sorted.
    private static let structKeys: Set<String> = ["filterMetadata", "jsonFormat"]

    private static func blockStyle(_ node: Node, sorted: Bool = false) -> Node {
        switch node {
        case .mapping(let mapping):
            var pairs = mapping.map { key, value in
                (blockStyle(key), blockStyle(value, sorted: sorted || structKeys.contains(key.string ?? "")))
            }
            if sorted { pairs.sort { ($0.0.string ?? "") < ($1.0.string ?? "") } }
            return .mapping(Node.Mapping(pairs, mapping.tag, .block))
        case .sequence(let sequence):
            return .sequence(Node.Sequence(sequence.map { blockStyle($0, sorted: sorted) }, sequence.tag, .block))
        case .scalar(var scalar):
            // Plain where that reads back the same; a string that plain would read as a boolean,
            // number or null (Kubernetes' "True") stays quoted.
            let quoted = scalar.style == .doubleQuoted || scalar.style == .singleQuoted
            let plainTag = Resolver.default.resolveTag(of: .scalar(Node.Scalar(scalar.string)))
            scalar.style = quoted && plainTag != .str ? .doubleQuoted : .any
            return .scalar(scalar)
        case .alias:
            return node
        }
    }
}
