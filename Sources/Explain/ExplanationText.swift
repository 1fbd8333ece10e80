import FoundationEssentials

extension Explanation {
    /// For people: the rule, the policies that reach it, each setting with its source in aligned
    /// columns, then the Envoy names.
    public var text: String {
        var lines: [String] = []
        let rule = "rule \(self.rule)" + (ruleName.map { " (\($0))" } ?? "")
        lines.append("\(route) \(rule) on Gateway \(gateway), listener \(listener)")
        if let request {
            lines.append("  \(request.request) → virtual host \(request.virtualHost), route \(request.route)")
        }
        lines.append("")
        if policies.isEmpty {
            lines.append("Policies: none reaches this rule")
        } else {
            lines.append("Policies, most specific first:")
            lines += Self.columns(policies.map { [$0.level, $0.name, $0.location, $0.role] })
        }
        if !problems.isEmpty {
            lines.append("")
            lines.append("Problems (the settings do not apply; Envoy answers this rule's requests with 500):")
            lines += problems.map { "  \($0)" }
        }
        lines.append("")
        let written = settings.filter { $0.policy != nil }
        if !written.isEmpty {
            lines.append("Set in the files:")
            lines += Self.columns(
                written.map {
                    [$0.field, $0.value, "\($0.policy ?? "") (\($0.level ?? ""))", $0.location ?? ""]
                        + ($0.overriddenBy.map { ["overridden by \($0)"] } ?? [])
                })
            lines.append("")
        }
        lines.append("Defaults (no policy sets these):")
        lines += Self.columns(
            settings.filter { $0.policy == nil }.map {
                [$0.field, $0.value, $0.defaultedBy ?? "default"]
                    + ($0.overriddenBy.map { ["overridden by \($0)"] } ?? [])
            })
        lines.append("")
        lines.append("Envoy:")
        lines += Self.columns(
            [["listener", envoy.listener]] + envoy.virtualHosts.map { ["virtual host", $0] }
                + envoy.routes.map { ["route", $0] } + envoy.clusters.map { ["cluster", $0] })
        return lines.joined(separator: "\n")
    }

    /// Rows padded to aligned columns, indented; trailing blanks trimmed.
    static func columns(_ rows: [[String]]) -> [String] {
        let count = rows.map(\.count).max() ?? 0
        let widths = (0..<count).map { column in rows.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0 }
        return rows.map { row in
            var line = "  "
            for (column, cell) in row.enumerated() {
                line +=
                    column == row.count - 1
                    ? cell : cell + String(repeating: " ", count: widths[column] + 2 - cell.count)
            }
            while line.hasSuffix(" ") { line.removeLast() }
            return line
        }
    }
}
