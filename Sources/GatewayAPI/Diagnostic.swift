/// Where something is in the operator's files: path, 1-based line and column.
public struct SourceLocation: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.file, lhs.line, lhs.column) < (rhs.file, rhs.line, rhs.column)
    }
}

/// One problem in the input, said so that the operator can fix it: where, which field, what is
/// wrong and what would be right. Printed as `path:line:col: message` (`switchboard validate`).
public struct Diagnostic: Error, Sendable, Hashable, Comparable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case syntax
        case wrongType
        case missingField
        case notAllowed
        case outOfRange
        case unknownField
        case duplicateName
        case unknownKind
        /// The file or directory exists but cannot be read (permissions, I/O, invalid UTF-8, size).
        case unreadable
        /// The YAML expands to more than the loader accepts (alias bombs).
        case tooLarge
    }

    public var location: SourceLocation
    public var code: Code
    /// The field, as `kubectl explain` would name it: `spec.rules[0].matches[1].path.type`.
    public var field: String
    public var message: String

    public init(location: SourceLocation, code: Code, field: String, message: String) {
        self.location = location
        self.code = code
        self.field = field
        self.message = message
    }

    public var description: String {
        field.isEmpty ? "\(location): \(message)" : "\(location): \(field): \(message)"
    }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.location, lhs.field, lhs.message) < (rhs.location, rhs.field, rhs.message)
    }
}

/// "Did you mean" for a misspelt field or value: the closest candidate within a small edit distance.
enum Suggestion {
    static func closest(to word: String, in candidates: some Sequence<String>) -> String? {
        let limit = max(2, word.count / 3)
        var best: (String, Int)?
        for candidate in candidates {
            let distance = editDistance(word.lowercased(), candidate.lowercased())
            if distance <= limit && distance < (best?.1 ?? .max) { best = (candidate, distance) }
        }
        return best?.0
    }

    /// Levenshtein distance.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = Array(repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
