import GatewayAPI
import Lint
import Testing
import XDSTesting

/// `switchboard lint` over the golden cases whose policies it has something to say about: the
/// findings, one line each as the command prints them, kept as `lint.txt` beside the case
/// (`scripts/update-goldens` rewrites them).
@Suite("switchboard lint: golden findings")
struct LintGoldenTests {
    static let cases = [
        "btp-features", "btp-invalid-and-precedence-details", "btp-listener-over-gateway", "btp-merge",
        "btp-precedence-and-status",
    ]

    @Test("each case's findings match its lint.txt", arguments: cases)
    func golden(_ name: String) throws {
        let resources = ResourceSet.load(try GoldenCase(named: name).inputs())
        let text = Linter.lint(resources).map(\.description).joined(separator: "\n") + "\n"
        if let difference = try GoldenCase(named: name).compare(text, with: "lint.txt") {
            Issue.record("\(difference)")
        }
    }
}
