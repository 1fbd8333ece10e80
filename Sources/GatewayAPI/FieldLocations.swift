import Yams

/// Where each field of an object is written, by its path (`spec.retry.perRetry.timeout`,
/// `spec.rules[0].matches[1]`), at its key: checks made after decoding (`switchboard lint`)
/// point at the line, and tell a field written out from a default.
public struct FieldLocations: Sendable, Equatable {
    private var byPath: [String: SourceLocation] = [:]

    public init() {}

    init(_ reader: ObjectReader) {
        walk(.mapping(reader.mapping), path: reader.path, at: reader.location, file: reader.context.file)
    }

    public subscript(path: String) -> SourceLocation? { byPath[path] }

    public func has(_ path: String) -> Bool { byPath[path] != nil }

    private mutating func walk(_ node: Node, path: String, at location: SourceLocation, file: String) {
        byPath[path] = location
        switch node {
        case .mapping(let mapping):
            for (key, value) in mapping {
                guard let name = key.scalar?.string else { continue }
                let mark = key.mark
                walk(
                    value, path: path.isEmpty ? name : "\(path).\(name)",
                    at: SourceLocation(
                        file: file, line: mark?.line ?? location.line, column: mark?.column ?? location.column),
                    file: file)
            }
        case .sequence(let sequence):
            for (index, item) in sequence.enumerated() {
                let mark = item.mark
                walk(
                    item, path: "\(path)[\(index)]",
                    at: SourceLocation(
                        file: file, line: mark?.line ?? location.line, column: mark?.column ?? location.column),
                    file: file)
            }
        default:
            break
        }
    }
}
