import YAMLTree

/// Collects diagnostics while reading one file.
public final class DecodeContext {
    public let file: String
    public private(set) var diagnostics: [Diagnostic] = []

    public init(file: String) {
        self.file = file
    }

    func location(of node: YAMLNode) -> SourceLocation {
        SourceLocation(file: file, line: node.line ?? 1, column: node.column ?? 1)
    }

    /// Takes back what was reported from `index` on: DecodedFile files each object's problems
    /// with the object.
    func removeDiagnostics(from index: Int) {
        diagnostics.removeSubrange(index...)
    }

    func report(at location: SourceLocation, _ code: Diagnostic.Code, _ field: String, _ message: String) {
        diagnostics.append(Diagnostic(location: location, code: code, field: field, message: message))
    }

    func report(syntax error: YAMLError) {
        report(
            at: SourceLocation(file: file, line: error.line, column: error.column), .syntax, "",
            "YAML: \(error.message)")
    }
}

/// Strict, position-aware reading of one YAML mapping: each accessor checks the type and the
/// allowed values and reports a diagnostic that names file, line, column and field path.
/// `allowOnly` reports every other key as unknown, with a "did you mean" suggestion.
public struct ObjectReader {
    /// The mapping this reader reads, as written.
    public let node: YAMLNode
    public let path: String
    public let location: SourceLocation
    let context: DecodeContext

    /// A reader for `node`, or nil (with a diagnostic) when it is not a mapping.
    init?(_ node: YAMLNode, path: String, context: DecodeContext) {
        guard node.kind == .mapping else {
            context.report(
                at: context.location(of: node), .wrongType, path, "must be an object, not \(Self.describe(node))")
            return nil
        }
        self.node = node
        self.path = path
        self.location = context.location(of: node)
        self.context = context
    }

    func field(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    public func has(_ key: String) -> Bool { value(key) != nil }

    /// The value under `key`, or nil when absent or null.
    func value(_ key: String) -> YAMLNode? {
        guard let node = node.value(forKey: key), !Self.isNull(node) else { return nil }
        return node
    }

    static func isNull(_ node: YAMLNode) -> Bool {
        guard node.isPlain, let text = node.text else { return false }
        return PlainScalar.isNull(text)
    }

    /// Whether a plain scalar reads as something other than a string (a number, boolean or
    /// null).
    static func isPlainNonString(_ node: YAMLNode) -> Bool {
        guard let text = node.text, !node.isExplicitString else { return false }
        return PlainScalar.readsAsNonString(text)
    }

    func missing(_ key: String) {
        context.report(at: location, .missingField, field(key), "is required")
    }

    public func string(_ key: String, required: Bool = false) -> String? {
        guard let node = value(key) else {
            if required { missing(key) }
            return nil
        }
        // A plain 80 or true is a number or a boolean to Kubernetes, not a string: quote it.
        guard let text = node.text, !Self.isPlainNonString(node) else {
            context.report(at: context.location(of: node), .wrongType, field(key), Self.notAString(node))
            return nil
        }
        return text
    }

    /// A scalar of any type, as written: for Kubernetes' int-or-string fields.
    public func scalar(_ key: String) -> String? {
        guard let node = value(key) else { return nil }
        guard let text = node.text else {
            context.report(
                at: context.location(of: node), .wrongType, field(key),
                "must be a number or a string, not \(Self.describe(node))")
            return nil
        }
        return text
    }

    public func int(_ key: String, required: Bool = false, range: ClosedRange<Int>? = nil) -> Int? {
        guard let node = value(key) else {
            if required { missing(key) }
            return nil
        }
        guard let text = node.text, !node.isExplicitString, let number = Int(text) else {
            context.report(
                at: context.location(of: node), .wrongType, field(key), "must be an integer, not \(Self.describe(node))"
            )
            return nil
        }
        if let range, !range.contains(number) {
            context.report(
                at: context.location(of: node), .outOfRange, field(key),
                "\(number) is out of range: must be between \(range.lowerBound) and \(range.upperBound)")
            return nil
        }
        return number
    }

    public func bool(_ key: String) -> Bool? {
        guard let node = value(key) else { return nil }
        guard let text = node.text, !node.isExplicitString, let value = Bool(text) else {
            context.report(
                at: context.location(of: node), .wrongType, field(key),
                "must be true or false, not \(Self.describe(node))")
            return nil
        }
        return value
    }

    /// A string that must be one of `allowed`; the diagnostic lists them and suggests the closest.
    public func oneOf(_ key: String, _ allowed: [String], required: Bool = false) -> String? {
        guard let text = string(key, required: required) else { return nil }
        guard allowed.contains(text) else {
            var message = "\"\(text)\" is not allowed: must be one of \(allowed.joined(separator: ", "))"
            if let suggestion = Suggestion.closest(to: text, in: allowed) {
                message += " (did you mean \"\(suggestion)\"?)"
            }
            context.report(at: context.location(of: value(key)!), .notAllowed, field(key), message)
            return nil
        }
        return text
    }

    public func object(_ key: String, required: Bool = false) -> ObjectReader? {
        guard let node = value(key) else {
            if required { missing(key) }
            return nil
        }
        return ObjectReader(node, path: field(key), context: context)
    }

    /// The items of a list field (empty, with a diagnostic, when it is not a list).
    public func list(_ key: String, required: Bool = false) -> YAMLNode.Items {
        guard let node = value(key) else {
            if required { missing(key) }
            return self.node.items  // a mapping's: empty
        }
        guard node.kind == .sequence else {
            context.report(
                at: context.location(of: node), .wrongType, field(key), "must be a list, not \(Self.describe(node))")
            return self.node.items  // a mapping's: empty
        }
        return node.items
    }

    /// The objects of a list field, each with its indexed path (`rules[2]`).
    public func objects(_ key: String, required: Bool = false) -> [ObjectReader] {
        list(key, required: required).enumerated().compactMap { index, node in
            ObjectReader(node, path: "\(field(key))[\(index)]", context: context)
        }
    }

    /// The strings of a list field.
    public func strings(_ key: String) -> [String] {
        list(key).enumerated().compactMap { index, node in
            guard let text = node.text else {
                context.report(
                    at: context.location(of: node), .wrongType, "\(field(key))[\(index)]",
                    "must be a string, not \(Self.describe(node))")
                return nil
            }
            return text
        }
    }

    /// Reports every key not in `allowed` as an unknown field, as kubectl's strict validation does.
    /// `aliases` names the right field for names from other documents (Envoy's own, older
    /// versions): `["maxRequests": "maxParallelRequests"]`.
    public func allowOnly(_ allowed: [String], aliases: [String: String] = [:]) {
        for (key, _) in node.pairs {
            guard let name = key.text, !allowed.contains(name) else { continue }
            var message = "unknown field \"\(name)\""
            if let suggestion = aliases[name] ?? Suggestion.closest(to: name, in: allowed) {
                message += " (did you mean \"\(suggestion)\"?)"
            }
            context.report(at: context.location(of: key), .unknownField, field(name), message)
        }
    }

    /// A number, integer or not (`percentage: 0.5`), within `range` when given.
    public func double(_ key: String, range: ClosedRange<Double>? = nil) -> Double? {
        guard let node = value(key) else { return nil }
        guard let text = node.text, !node.isExplicitString, let number = Double(text), number.isFinite else {
            context.report(
                at: context.location(of: node), .wrongType, field(key), "must be a number, not \(Self.describe(node))")
            return nil
        }
        if let range, !range.contains(number) {
            context.report(
                at: context.location(of: node), .outOfRange, field(key),
                "\(text) is out of range: must be between \(Self.format(range.lowerBound)) and \(Self.format(range.upperBound))"
            )
            return nil
        }
        return number
    }

    private static func format(_ number: Double) -> String {
        number == number.rounded() ? String(Int(number)) : String(number)
    }

    /// A Kubernetes quantity of bytes (`32Ki`, `1Mi`, `100M`, `65536`), within `range` when given.
    public func quantity(_ key: String, range: ClosedRange<Int>? = nil) -> Int? {
        guard let text = scalar(key) else { return nil }
        guard let bytes = Self.bytes(text) else {
            context.report(
                at: context.location(of: value(key)!), .wrongType, field(key),
                "\"\(text)\" is not a quantity: use a whole number with an optional suffix Ki, Mi, Gi, Ti, Pi, Ei (powers of 1024) or k, M, G, T, P, E (e.g. 32Ki, 1Mi, 100M)"
            )
            return nil
        }
        if let range, !range.contains(bytes) {
            context.report(
                at: context.location(of: value(key)!), .outOfRange, field(key),
                "\(text) (\(bytes) bytes) is out of range: must be between \(range.lowerBound) and \(range.upperBound) bytes"
            )
            return nil
        }
        return bytes
    }

    /// Whether the quantity at `key` was written with a binary suffix (`Ki`, `Mi`, …).
    public func isBinaryQuantity(_ key: String) -> Bool { scalar(key)?.hasSuffix("i") ?? false }

    static func bytes(_ text: String) -> Int? {
        let suffixes: [(String, Int)] = [
            ("Ki", 1 << 10), ("Mi", 1 << 20), ("Gi", 1 << 30), ("Ti", 1 << 40), ("Pi", 1 << 50), ("Ei", 1 << 60),
            ("k", 1000), ("M", 1_000_000), ("G", 1_000_000_000), ("T", 1_000_000_000_000), ("P", 1_000_000_000_000_000),
            ("E", 1_000_000_000_000_000_000),
        ]
        var digits = Substring(text)
        var multiplier = 1
        if let (suffix, scale) = suffixes.first(where: { text.hasSuffix($0.0) }) {
            digits = digits.dropLast(suffix.count)
            multiplier = scale
        }
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber),
            digits.first != "0" || digits == "0",
            let number = Int(digits)
        else { return nil }
        let (bytes, overflow) = number.multipliedReportingOverflow(by: multiplier)
        return overflow ? nil : bytes
    }

    /// A map of strings to strings (labels, cookie attributes).
    public func stringMap(_ key: String) -> [String: String] {
        guard let node = value(key) else { return [:] }
        guard node.kind == .mapping else {
            context.report(
                at: context.location(of: node), .wrongType, field(key), "must be an object, not \(Self.describe(node))")
            return [:]
        }
        var result: [String: String] = [:]
        for (name, value) in node.pairs {
            guard let name = name.text, let value = value.text else {
                context.report(at: context.location(of: value), .wrongType, field(key), "must map strings to strings")
                continue
            }
            result[name] = value
        }
        return result
    }

    /// Reports `message` at this object or at one of its fields.
    public func report(_ key: String? = nil, _ code: Diagnostic.Code, _ message: String) {
        let node = key.flatMap { value($0) }
        context.report(at: node.map { context.location(of: $0) } ?? location, code, key.map(field) ?? path, message)
    }

    /// Why `node` is not a string. For a plain scalar that YAML types otherwise (Off, yes, 80),
    /// what YAML made of it and how to write the string, the usual mistake behind it.
    static func notAString(_ node: YAMLNode) -> String {
        if let text = node.text, isPlainNonString(node), !text.isEmpty {
            let reading = PlainScalar.isBool(text) ? "a boolean" : PlainScalar.isNull(text) ? "null" : "a number"
            return "YAML reads unquoted \(text) as \(reading); write \"\(text)\" in quotes"
        }
        return "must be a string, not \(describe(node))"
    }

    static func describe(_ node: YAMLNode) -> String {
        switch node.kind {
        case .scalar: "\"\(node.text ?? "")\""
        case .mapping: "an object"
        case .sequence: "a list"
        }
    }
}
