import YAMLTree

/// Where each field of an object is written, by its path (`spec.retry.perRetry.timeout`,
/// `spec.rules[0].matches[1]`), at its key: checks made after decoding (`switchboard lint`)
/// point at the line, and tell a field written out from a default.
public struct FieldLocations: Sendable, Equatable {
    private var byPath: [String: SourceLocation] = [:]

    public init() {}

    init(_ reader: ObjectReader) {
        walk(reader.node, path: reader.path, at: reader.location, file: reader.context.file)
    }

    public subscript(path: String) -> SourceLocation? { byPath[path] }

    public func has(_ path: String) -> Bool { byPath[path] != nil }

    private mutating func walk(_ node: YAMLNode, path: String, at location: SourceLocation, file: String) {
        byPath[path] = location
        func written(_ node: YAMLNode) -> SourceLocation {
            SourceLocation(file: file, line: node.line ?? location.line, column: node.column ?? location.column)
        }
        switch node.kind {
        case .mapping:
            for (key, value) in node.pairs {
                guard let name = key.text else { continue }
                walk(value, path: path.isEmpty ? name : "\(path).\(name)", at: written(key), file: file)
            }
        case .sequence:
            for (index, item) in node.items.enumerated() {
                walk(item, path: "\(path)[\(index)]", at: written(item), file: file)
            }
        case .scalar:
            break
        }
    }
}
