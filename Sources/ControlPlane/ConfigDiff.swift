import CanonicalText
import FoundationEssentials
import GatewayAPI
import GatewayTranslator
import XDSCache
import XDSTranslator

/// `switchboard diff`: what Envoy would receive if a new configuration replaced the old one.
/// Resources added, removed and changed, field by field in Envoy's own JSON names
/// (`circuit_breakers.thresholds[0].max_connections: 1024 → 2048`); statuses that change; load
/// problems the new files have and the old did not.
public enum ConfigDiff {
    public struct Result: Sendable {
        public var lines: [String] = []
        public var changed: Bool { !lines.isEmpty }
    }

    public static func diff(
        old: ResourceSet, new: ResourceSet, options: GatewayTranslator.Options = .init()
    ) throws -> Result {
        let options = options.judgingCertificatesNow()
        let before = try Translation.translate(old, options: options)
        return try diff(
            served: try document(before.snapshots, status: before.status, diagnostics: old.diagnostics), new: new,
            options: options)
    }

    /// `new` against what a running server serves: its `/debug/served` document.
    public static func diff(
        served: String, new: ResourceSet, options: GatewayTranslator.Options = .init()
    ) throws -> Result {
        let after = try Translation.translate(new, options: options.judgingCertificatesNow())
        let old = try JSONValue.parse(served)
        let now = try JSONValue.parse(try document(after.snapshots, status: after.status, diagnostics: new.diagnostics))
        guard case .object(let was) = old, case .object(let current) = now else { return Result() }
        var result = Result()
        let gatewaysBefore = was["gateways"].flatMap(\.members) ?? [:]
        let gatewaysAfter = current["gateways"].flatMap(\.members) ?? [:]
        for gateway in Set(gatewaysBefore.keys).union(gatewaysAfter.keys).sorted() {
            let lines = resourceChanges(gatewaysBefore[gateway], gatewaysAfter[gateway])
            if !lines.isEmpty { result.lines += ["gateway \(gateway):"] + lines.map { "  " + $0 } }
        }
        let status = JSONDiff.changes(was["status"], current["status"], path: "")
        if !status.isEmpty { result.lines += ["status:"] + status.map { "  ~ " + $0 } }
        let known = Set(was["diagnostics"].flatMap(\.strings) ?? [])
        let problems = new.diagnostics.filter { !known.contains(Self.key($0)) }
        if !problems.isEmpty { result.lines += ["load problems:"] + problems.map { "  + \($0)" } }
        return result
    }

    /// What is served, as `diff` compares it: each Gateway's resources by type and name in
    /// Envoy's JSON, the status, and the load problems (`field: message`, without places, which
    /// differ between two copies of the files).
    public static func document(
        _ snapshots: [String: Snapshot], status: StatusReport, diagnostics: [Diagnostic]
    ) throws -> String {
        let gateways = try snapshots.keys.sorted().map { gateway in
            let types = try ResourceType.allCases.filter { snapshots[gateway]![$0].count > 0 }.map { type in
                let resources = try snapshots[gateway]![type].sorted.map {
                    (try CanonicalText.encode($0.name)) + ":" + (try SnapshotJSON.protoJSON($0))
                }
                return "\"\(type.kindName)\":{" + resources.joined(separator: ",") + "}"
            }
            return (try CanonicalText.encode(gateway)) + ":{" + types.joined(separator: ",") + "}"
        }
        return "{\"gateways\":{" + gateways.joined(separator: ",") + "},\"status\":"
            + (try CanonicalText.encode(status))
            + ",\"diagnostics\":" + (try CanonicalText.encode(diagnostics.map(key))) + "}"
    }

    static func key(_ diagnostic: Diagnostic) -> String { "\(diagnostic.field): \(diagnostic.message)" }

    /// One Gateway's resources, `{kind: {name: resource}}`, before and after.
    static func resourceChanges(_ old: JSONValue?, _ new: JSONValue?) -> [String] {
        var lines: [String] = []
        for type in ResourceType.allCases {
            let before = old?.members?[type.kindName]?.members ?? [:]
            let after = new?.members?[type.kindName]?.members ?? [:]
            for name in Set(before.keys).union(after.keys).sorted() {
                switch (before[name], after[name]) {
                case (nil, .some): lines.append("+ \(type.kindName) \(name)")
                case (.some, nil): lines.append("- \(type.kindName) \(name)")
                case (.some(let was), .some(let now)):
                    lines += JSONDiff.changes(was, now, path: "").map { "~ \(type.kindName) \(name): \($0)" }
                default: break
                }
            }
        }
        return lines
    }

}

extension ResourceType {
    /// What `diff` calls a resource of this type.
    var kindName: String {
        switch self {
        case .cluster: "cluster"
        case .endpoint: "endpoints"
        case .secret: "secret"
        case .listener: "listener"
        case .route: "route"
        case .rateLimitConfig: "rate limit config"
        }
    }
}

extension JSONValue {
    static func parse(_ text: String) throws -> Self {
        try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }

    var members: [String: JSONValue]? {
        if case .object(let members) = self { return members }
        return nil
    }

    var strings: [String]? {
        guard case .array(let items) = self else { return nil }
        return items.compactMap { if case .string(let text) = $0 { text } else { nil } }
    }

    var text: String {
        switch self {
        case .null: "null"
        case .bool(let bool): bool ? "true" : "false"
        case .number(let number):
            number.rounded() == number && abs(number) < 1e15 ? String(Int64(number)) : String(number)
        case .string(let string): string
        case .array(let items): "[" + items.map(\.text).joined(separator: ", ") + "]"
        case .object(let members):
            "{" + members.keys.sorted().map { "\($0): \(members[$0]!.text)" }.joined(separator: ", ") + "}"
        }
    }

    /// What identifies a list item: `namespace/name`, `name`, or `type`.
    var identity: String? {
        guard case .object(let members) = self else { return nil }
        if case .string(let name)? = members["name"] {
            if case .string(let namespace)? = members["namespace"] { return "\(namespace)/\(name)" }
            return name
        }
        if case .string(let type)? = members["type"] { return type }
        return nil
    }
}

/// Field-level differences of two JSON values, as `path: old → new` lines. List items that are
/// objects with a `name` (or, failing that, a `type`) are matched by it, so one item added to a
/// list reads as one change, not a shift of every later item.
enum JSONDiff {
    static func changes(_ old: JSONValue?, _ new: JSONValue?, path: String) -> [String] {
        switch (old, new) {
        case (.object(let a)?, .object(let b)?):
            return Set(a.keys).union(b.keys).sorted().flatMap { key in
                changes(a[key], b[key], path: path.isEmpty ? key : "\(path).\(key)")
            }
        case (.array(let a)?, .array(let b)?):
            if let keyed = keyed(a, b) {
                return keyed.flatMap { key, pair in changes(pair.0, pair.1, path: "\(path)[\(key)]") }
            }
            return (0..<max(a.count, b.count)).flatMap { index in
                changes(index < a.count ? a[index] : nil, index < b.count ? b[index] : nil, path: "\(path)[\(index)]")
            }
        default:
            guard old != new else { return [] }
            return ["\(path): \(old?.text ?? "(none)") → \(new?.text ?? "(none)")"]
        }
    }

    /// Both lists' items by identity, in order of first appearance; nil unless every item has
    /// one, unique within its list.
    static func keyed(_ a: [JSONValue], _ b: [JSONValue]) -> [(String, (JSONValue?, JSONValue?))]? {
        let left = a.compactMap(\.identity)
        let right = b.compactMap(\.identity)
        guard left.count == a.count, right.count == b.count, Set(left).count == a.count, Set(right).count == b.count
        else { return nil }
        var order: [String] = []
        var pairs: [String: (JSONValue?, JSONValue?)] = [:]
        for (key, item) in zip(left, a) {
            order.append(key)
            pairs[key] = (item, nil)
        }
        for (key, item) in zip(right, b) {
            if pairs[key] == nil { order.append(key) }
            pairs[key] = (pairs[key]?.0, item)
        }
        return order.map { ($0, pairs[$0]!) }
    }
}
