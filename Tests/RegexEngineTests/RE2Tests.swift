import Testing

@testable import RegexEngine

@Suite struct RE2Tests {
    @Test func acceptsWhatEnvoyAccepts() {
        for pattern in ["/api/v[0-9]+/.*", "^/foo(/.*)?$", "(?i)bearer .+", "", "\\d{1,3}"] {
            #expect(RE2.problem(pattern) == nil, "\(pattern)")
        }
    }

    /// Envoy Gateway's own words for the same faults (Go's regexp/syntax), RE2's fragment.
    @Test func refusesWhatRE2CannotParse() {
        #expect(RE2.problem("*.foo.bar.com") == .syntax(code: "missing argument to repetition operator", fragment: "*"))
        #expect(RE2.problem("(abc") == .syntax(code: "missing closing )", fragment: "(abc"))
        #expect(RE2.problem("[a-") == .syntax(code: "missing closing ]", fragment: "[a-"))
        #expect(RE2.problem("a**") == .syntax(code: "invalid nested repetition operator", fragment: "**"))
        #expect(RE2.problem("\\") == .syntax(code: "trailing backslash at end of expression", fragment: ""))
        // Perl look-ahead: Go and RE2 both refuse it; a look-alike engine would not.
        if case .syntax(let code, _) = RE2.problem("foo(?=bar)") {
            #expect(code == "invalid or unsupported Perl syntax")
        } else {
            Issue.record("look-ahead accepted")
        }
    }

    @Test func messageIsEnvoyGateways() {
        let pattern = "*.foo.bar.com"
        #expect(
            RE2.message(pattern, RE2.problem(pattern)!)
                == "regex \"*.foo.bar.com\" is invalid: error parsing regexp: missing argument to repetition operator: `*`"
        )
        #expect(RE2.goQuoted("a\\d\"\n") == #""a\\d\"\n""#)
    }

    /// Envoy refuses a program above 100 instructions by default: a pattern that parses can still NACK.
    @Test func refusesProgramsLargerThanEnvoyTakes() {
        let large = String(repeating: "(a|b)c", count: 40)
        guard case .tooLarge(let size) = RE2.problem(large) else {
            Issue.record("large program accepted")
            return
        }
        #expect(size > RE2.envoyMaxProgramSize)
        #expect(RE2.message(large, .tooLarge(programSize: size)).contains("program size is \(size)"))
    }

    @Test func patternsWithNULAndNonASCII() {
        #expect(RE2.problem("caf\u{e9}") == nil)
        #expect(RE2.problem("a\u{0}b") == nil)
    }

    /// As Envoy's safe_regex matchers match: the whole text, RE2 syntax.
    @Test func fullMatchIsWholeText() {
        #expect(RE2.fullMatch("/items/[0-9]+", "/items/42") == true)
        #expect(RE2.fullMatch("/items/[0-9]+", "/items/42x") == false)
        #expect(RE2.fullMatch("/items/[0-9]+", "/v1/items/42") == false)
        #expect(RE2.fullMatch("caf\u{e9}", "caf\u{e9}") == true)
        #expect(RE2.fullMatch("(", "(") == nil)
    }
}
