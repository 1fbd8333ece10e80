import CanonicalText
import Foundation
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
        let after = try Translation.translate(new, options: options)
        var result = Result()
        for gateway in Set(before.snapshots.keys).union(after.snapshots.keys).sorted() {
            let lines = try resourceChanges(before.snapshots[gateway], after.snapshots[gateway])
            if !lines.isEmpty { result.lines += ["gateway \(gateway):"] + lines.map { "  " + $0 } }
        }
        let status = JSONDiff.changes(try json(before.status), try json(after.status), path: "")
        if !status.isEmpty { result.lines += ["status:"] + status.map { "  ~ " + $0 } }
        let known = Set(old.diagnostics.map { "\($0.field): \($0.message)" })
        let problems = new.diagnostics.filter { !known.contains("\($0.field): \($0.message)") }
        if !problems.isEmpty { result.lines += ["load problems:"] + problems.map { "  + \($0)" } }
        return result
    }

    static func resourceChanges(_ old: Snapshot?, _ new: Snapshot?) throws -> [String] {
        var lines: [String] = []
        for type in ResourceType.allCases {
            let before = old?[type]
            let after = new?[type]
            let names = Set(before?.names ?? []).union(after?.names ?? []).sorted()
            for name in names {
                switch (before?[name], after?[name]) {
                case (nil, .some): lines.append("+ \(type.kindName) \(name)")
                case (.some, nil): lines.append("- \(type.kindName) \(name)")
                case (.some(let was), .some(let now)) where was.version != now.version:
                    let changes = JSONDiff.changes(
                        try JSONValue.parse(SnapshotJSON.protoJSON(was)),
                        try JSONValue.parse(SnapshotJSON.protoJSON(now)),
                        path: "")
                    lines += changes.map { "~ \(type.kindName) \(name): \($0)" }
                default: break
                }
            }
        }
        return lines
    }

    static func json(_ status: StatusReport) throws -> JSONValue {
        try JSONValue.parse(try CanonicalText.encode(status))
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
