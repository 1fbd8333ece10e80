import ControlPlane
import Foundation
import GatewayAPI
import Testing
import XDSTesting

/// `switchboard diff` on golden cases: each case's inputs against the same inputs with a few
/// edits an operator makes, kept as `diff.txt` beside the case (`scripts/update-goldens`
/// rewrites it). The edits are listed here, so the golden shows what each one changes in Envoy.
@Suite("switchboard diff: golden changes")
struct DiffGoldenTests {
    /// Per case, text replacements in its input files.
    static let edits: [String: [(String, String)]] = [
        // A Gateway policy's timeout (inherited by two merged routes, not by the one that
        // replaces it) and a merged route policy's retries.
        "btp-merge": [
            ("connectTimeout: 15s", "connectTimeout: 20s"), ("retry: {numRetries: 4}", "retry: {numRetries: 5}"),
        ],
        // A listener policy's target removed: its status changes and the Gateway's policy applies there.
        "btp-listener-over-gateway": [
            ("kind: Gateway, name: eg, sectionName: b}", "kind: Gateway, name: eg, sectionName: missing}")
        ],
    ]

    @Test("each case's diff after its edits matches its diff.txt", arguments: edits.keys.sorted())
    func golden(_ name: String) throws {
        let golden = GoldenCase(named: name)
        let inputs = try golden.inputs()
        var edited = inputs
        for (from, to) in Self.edits[name]! {
            let before = edited.map(\.contents)
            edited = edited.map { ($0.path, $0.contents.replacingOccurrences(of: from, with: to)) }
            try #require(edited.map(\.contents) != before, "\(name): no input contains \"\(from)\"")
        }
        let options = PolicySwitches(now: Date(timeIntervalSince1970: 1_780_000_000))
        let result = try ConfigDiff.diff(old: ResourceSet.load(inputs), new: ResourceSet.load(edited), options: options)
        #expect(result.changed)
        if let difference = try golden.compare(result.lines.joined(separator: "\n") + "\n", with: "diff.txt") {
            Issue.record("\(difference)")
        }
    }
}
