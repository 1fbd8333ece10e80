import YAMLTree

/// Refuses documents whose aliases expand far beyond what is written ("billion laughs"): Yams
/// shares an aliased node rather than copying it, but every reader walks the expansion, so a few
/// lines can cost minutes and gigabytes. The rule is the one Kubernetes' YAML decoder applies:
/// once more than 100 nodes were reached through aliases, and more than 1000 in all, the share
/// reached through aliases may not pass 99% up to 400,000 nodes, falling linearly to 10% at
/// 4,000,000. The walk stops at the first breach, so checking costs at most about that much.
enum AliasExpansion {
    static func allowedRatio(_ decoded: Int) -> Double {
        if decoded <= 400_000 { return 0.99 }
        if decoded >= 4_000_000 { return 0.10 }
        return 0.99 - 0.89 * Double(decoded - 400_000) / 3_600_000
    }

    /// Why `document` is refused, or nil.
    static func refusal(_ document: YAMLNode) -> String? {
        var walk = Walk()
        return walk.visit(document, viaAlias: false) ? nil : walk.message
    }

    private struct Walk {
        var decoded = 0
        var aliased = 0
        /// Anchored nodes already met: meeting one again is meeting it through an alias (an alias
        /// is its anchor's node itself).
        var anchors: Set<Int> = []
        var message = ""

        /// False when the document is refused.
        mutating func visit(_ node: YAMLNode, viaAlias: Bool) -> Bool {
            var viaAlias = viaAlias
            if node.isAnchored, !anchors.insert(node.identity).inserted { viaAlias = true }
            decoded += 1
            if viaAlias { aliased += 1 }
            if aliased > 100 && decoded > 1000
                && Double(aliased) / Double(decoded) > AliasExpansion.allowedRatio(decoded)
            {
                message =
                    "YAML: the document expands its aliases too much (\(aliased) of the first \(decoded) nodes come from "
                    + "aliases); write the values out, or use fewer aliases"
                return false
            }
            switch node.kind {
            case .mapping:
                for (key, value) in node.pairs {
                    guard visit(key, viaAlias: viaAlias), visit(value, viaAlias: viaAlias) else { return false }
                }
            case .sequence:
                for item in node.items {
                    guard visit(item, viaAlias: viaAlias) else { return false }
                }
            case .scalar:
                break
            }
            return true
        }
    }
}
