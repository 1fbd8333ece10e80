import YAMLTree

/// A YAML/JSON value as written, keys in order, without positions: what `mergeType` merges work
/// on (they merge documents, not decoded fields), and free of the file it was read from.
public indirect enum Document: Sendable, Equatable {
    /// `plain` is false for quoted scalars, which stay strings whatever they spell.
    case scalar(String, plain: Bool)
    case mapping([(key: String, value: Document)])
    case sequence([Document])
    case null

    public static func == (lhs: Self, rhs: Self) -> Bool {
        switch (lhs, rhs) {
        case (.scalar(let a, let p), .scalar(let b, let q)): a == b && p == q
        case (.mapping(let a), .mapping(let b)): a.map(\.key) == b.map(\.key) && a.map(\.value) == b.map(\.value)
        case (.sequence(let a), .sequence(let b)): a == b
        case (.null, .null): true
        default: false
        }
    }

    public init(_ node: YAMLNode) {
        switch node.kind {
        case .scalar:
            let text = node.text ?? ""
            if node.isPlain, PlainScalar.isNull(text) {
                self = .null
            } else {
                self = .scalar(text, plain: !node.isExplicitString)
            }
        case .mapping:
            self = .mapping(node.pairs.map { (key: $0.key.text ?? "", value: Document($0.value)) })
        case .sequence:
            self = .sequence(node.items.map(Document.init))
        }
    }

    /// Every document of `text`, or why it cannot be read.
    public static func documents(_ text: String) throws(YAMLError) -> [Document] {
        let (tree, error) = YAMLTree.parse(text)
        if let error { throw error }
        return tree.documents.map(Document.init)
    }

    /// Back to a tree, so the usual decoders read it (positions are gone: a problem found in a
    /// merged document is reported against the policies, not a line).
    public var node: YAMLNode { value.node }

    private var value: YAMLValue {
        switch self {
        case .scalar(let text, let plain): .scalar(text, plain: plain)
        case .mapping(let pairs): .mapping(pairs.map { (key: $0.key, value: $0.value.value) })
        case .sequence(let items): .sequence(items.map(\.value))
        case .null: .scalar("null", plain: true)
        }
    }

    subscript(key: String) -> Document? {
        guard case .mapping(let pairs) = self else { return nil }
        return pairs.first { $0.key == key }?.value
    }

    subscript(path: ArraySlice<String>) -> Document? {
        guard let key = path.first else { return self }
        return self[key]?[path.dropFirst()]
    }

    /// RFC 7386 JSON merge patch: objects merge key by key, `null` deletes, anything else replaces.
    public func jsonMerged(with patch: Document) -> Document {
        merged(with: patch, listKeys: [:])
    }

    /// Kubernetes strategic merge as it applies to BackendTrafficPolicy: as a JSON merge, except
    /// that the lists Envoy Gateway's types mark with a patch merge key (`compression`,
    /// `compressor`, `httpUpgrade`, keyed by `type`) merge item by item: the patch's items first
    /// (each merged over the base item with the same key), then the base's other items.
    public func strategicMerged(with patch: Document) -> Document {
        merged(with: patch, listKeys: ["compression": "type", "compressor": "type", "httpUpgrade": "type"])
    }

    private func merged(with patch: Document, listKeys: [String: String]) -> Document {
        guard case .mapping(let patchPairs) = patch else { return patch }
        var pairs: [(key: String, value: Document)]
        if case .mapping(let existing) = self { pairs = existing } else { pairs = [] }
        for (key, value) in patchPairs {
            let index = pairs.firstIndex { $0.key == key }
            if value == .null {
                if let index { pairs.remove(at: index) }
                continue
            }
            let mergedValue: Document
            if let mergeKey = listKeys[key], case .sequence(let patchItems) = value, let index,
                case .sequence(let baseItems) = pairs[index].value
            {
                func key(_ item: Document) -> String? { item[mergeKey].flatMap(\.text) }
                let patchKeys = Set(patchItems.compactMap(key))
                // An item whose key is in both is the base item patched; the rest of the base follows.
                let patched = patchItems.map { item in
                    baseItems.first { key($0) != nil && key($0) == key(item) }.map {
                        $0.merged(with: item, listKeys: listKeys)
                    } ?? item
                }
                mergedValue = .sequence(patched + baseItems.filter { !patchKeys.contains(key($0) ?? "") })
            } else if let index {
                mergedValue = pairs[index].value.merged(with: value, listKeys: listKeys)
            } else {
                mergedValue = Document.null.merged(with: value, listKeys: listKeys)
            }
            if let index { pairs[index].value = mergedValue } else { pairs.append((key, mergedValue)) }
        }
        return .mapping(pairs)
    }

    /// This document with the value at `path` (mappings all the way) set to `value`.
    func setting(_ path: ArraySlice<String>, to value: Document) -> Document {
        guard let key = path.first else { return value }
        var pairs: [(key: String, value: Document)] = []
        if case .mapping(let existing) = self { pairs = existing }
        if let index = pairs.firstIndex(where: { $0.key == key }) {
            pairs[index].value = pairs[index].value.setting(path.dropFirst(), to: value)
        } else {
            pairs.append((key, Document.null.setting(path.dropFirst(), to: value)))
        }
        return .mapping(pairs)
    }

    var text: String? {
        if case .scalar(let text, _) = self { return text }
        return nil
    }
}
