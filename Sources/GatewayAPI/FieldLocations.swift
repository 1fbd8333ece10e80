import YAMLTree

/// Where each field of an object is written, by its path (`spec.retry.perRetry.timeout`,
/// `spec.rules[0].matches[1]`), at its key: checks made after decoding (`switchboard lint`)
/// point at the line, and tell a field written out from a default.
///
/// Kept compact, as every decoded policy holds one for as long as its file is unchanged: the
/// paths in one buffer and a line and column for each. A dictionary of strings to locations
/// was 4.5 KB a policy, 4.5 MB at 1000 policies (heaptrack); a lookup is a scan, and lookups
/// are few (lint and explain ask for a handful of fields).
public struct FieldLocations: Sendable, Equatable {
    private struct Mark: Sendable, Equatable {
        /// Where the path ends in `paths`; it starts where the one before ends.
        var end: UInt32
        var line: UInt32
        var column: UInt32
    }

    private var file = ""
    private var paths: [UInt8] = []
    private var marks: [Mark] = []

    public init() {}

    init(_ reader: ObjectReader) {
        file = reader.context.file
        walk(reader.node, path: reader.path, at: reader.location)
    }

    public subscript(path: String) -> SourceLocation? {
        index(of: path).map {
            SourceLocation(file: file, line: Int(marks[$0].line), column: Int(marks[$0].column))
        }
    }

    public func has(_ path: String) -> Bool { index(of: path) != nil }

    /// The last mark of `path`: a key written twice is where it was written last, as the
    /// object's value is the last one.
    private func index(of path: String) -> Int? {
        var path = path
        return path.withUTF8 { wanted in
            paths.withUnsafeBufferPointer { all in
                var end = marks.count
                while end > 0 {
                    let index = end - 1
                    let stop = Int(marks[index].end)
                    let start = index == 0 ? 0 : Int(marks[index - 1].end)
                    if stop - start == wanted.count, all[start..<stop].elementsEqual(wanted) { return index }
                    end = index
                }
                return nil
            }
        }
    }

    private mutating func walk(_ node: YAMLNode, path: String, at location: SourceLocation) {
        paths.append(contentsOf: path.utf8)
        marks.append(
            Mark(
                end: UInt32(paths.count), line: UInt32(clamping: location.line),
                column: UInt32(clamping: location.column)))
        func written(_ node: YAMLNode) -> SourceLocation {
            SourceLocation(file: file, line: node.line ?? location.line, column: node.column ?? location.column)
        }
        switch node.kind {
        case .mapping:
            for (key, value) in node.pairs {
                guard let name = key.text else { continue }
                walk(value, path: path.isEmpty ? name : "\(path).\(name)", at: written(key))
            }
        case .sequence:
            for (index, item) in node.items.enumerated() {
                walk(item, path: "\(path)[\(index)]", at: written(item))
            }
        case .scalar:
            break
        }
    }
}
