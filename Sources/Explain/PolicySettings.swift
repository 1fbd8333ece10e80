import GatewayAPI
import GatewayTranslator

/// The settings a chain of policies puts in effect, field by field, each with its source: the
/// governing policy's spec, merged over its parent's when it has a `mergeType` (the same merge the
/// translation does), then the defaults of what nothing writes.
enum PolicySettings {
    /// The spec keys that say where a policy goes rather than what it sets.
    static let placement: Set<String> = ["targetRef", "targetRefs", "targetSelectors", "mergeType"]

    static func settings(of chain: PolicyResolver.Chain?) -> [Explanation.Setting] {
        var settings: [Explanation.Setting] = []
        var written = Set<String>()
        if let chain, let governing = chain.governing {
            let own = leaves(of: governing.policy.spec)
            var document = governing.policy.spec
            var inherited: [String: BackendTrafficPolicy.InheritedItems] = [:]
            var parentLeaves: [String: String] = [:]
            if let parent = chain.mergedOver {
                // The same merge the translation makes, rate limit rules kept from both included.
                (document, inherited) = governing.policy.mergedSpec(over: parent.policy)
                parentLeaves = Dictionary(leaves(of: parent.policy.spec), uniquingKeysWith: { first, _ in first })
            }
            let ownLeaves = Dictionary(own, uniquingKeysWith: { first, _ in first })
            for (field, value) in leaves(of: document) {
                var source = governing
                var fieldInSource = field
                if let parent = chain.mergedOver, let item = listItem(field, in: inherited) {
                    // An item of a list both policies keep: its position says whose it is.
                    if item.index >= item.list.own {
                        source = parent
                        fieldInSource =
                            "\(item.path)[\(item.list.parentIndices[item.index - item.list.own])]\(item.rest)"
                    }
                } else if let parent = chain.mergedOver, ownLeaves[field] != value, parentLeaves[field] == value {
                    // A merged value is the route policy's where it writes the field, else the parent's.
                    source = parent
                }
                settings.append(
                    Explanation.Setting(
                        field: field, value: value, policy: "\(source.policy.namespace)/\(source.policy.name)",
                        level: source.level.rawValue,
                        location: source.policy.fields["spec.\(fieldInSource)"].map(\.description)
                            ?? source.policy.location.description))
                var path = ""
                for part in field.split(separator: ".") {
                    path = path.isEmpty ? String(part) : "\(path).\(part)"
                    written.insert(path)
                    // `rules[0]` also writes `rules`.
                    if let bracket = path.firstIndex(of: "[") { written.insert(String(path[..<bracket])) }
                }
            }
        }
        for entry in DefaultSetting.catalog where entry.applies(written: written) {
            settings.append(
                Explanation.Setting(
                    field: entry.field, value: entry.value, policy: nil, level: nil, location: nil,
                    defaultedBy: entry.by))
        }
        return settings
    }

    /// `field` as an item of one of the `lists` (`rateLimit.local.rules[2].limit.unit`): the
    /// list, its path, the item's index and the rest of the path (`.limit.unit`).
    static func listItem(_ field: String, in lists: [String: BackendTrafficPolicy.InheritedItems]) -> (
        list: BackendTrafficPolicy.InheritedItems, path: Substring, index: Int, rest: Substring
    )? {
        guard let bracket = field.firstIndex(of: "["), let list = lists[String(field[..<bracket])],
            let close = field[bracket...].firstIndex(of: "]"),
            let index = Int(field[field.index(after: bracket)..<close])
        else { return nil }
        return (list, field[..<bracket], index, field[field.index(after: close)...])
    }

    /// Every written value of a spec as (field, value): scalars, lists of scalars as one value
    /// (`[a, b]`), empty objects as `{}`; placement keys and JSON-merge deletions (null) left out.
    static func leaves(of spec: Document) -> [(String, String)] {
        var out: [(String, String)] = []
        func walk(_ node: Document, _ path: String) {
            switch node {
            case .null:
                break
            case .scalar(let text, _):
                out.append((path, text))
            case .mapping(let pairs):
                if pairs.isEmpty { out.append((path, "{}")) }
                for (key, value) in pairs where !(path.isEmpty && placement.contains(key)) {
                    walk(value, path.isEmpty ? key : "\(path).\(key)")
                }
            case .sequence(let items):
                let scalars = items.compactMap { item -> String? in
                    if case .scalar(let text, _) = item { text } else { nil }
                }
                if scalars.count == items.count {
                    out.append((path, "[\(scalars.joined(separator: ", "))]"))
                } else {
                    for (index, item) in items.enumerated() { walk(item, "\(path)[\(index)]") }
                }
            }
        }
        walk(spec, "")
        return out
    }
}
