import CRE2

/// RE2, the engine Envoy runs `safe_regex` matchers with, asked whether Envoy will take a
/// pattern. Envoy refuses one that RE2 cannot parse and one whose compiled program is larger
/// than its limit, and a refusal NACKs the whole resource carrying it: every later change to
/// that resource would be stuck. So translators drop such a pattern, with a condition, first.
public enum RE2 {
    /// Envoy's default `re2.max_program_size.error_level` (runtime), which no bootstrap of ours
    /// changes.
    public static let envoyMaxProgramSize = 100

    public enum Problem: Error, Equatable, Sendable {
        /// RE2 cannot parse the pattern: `code` in Go's `regexp/syntax` words, which Envoy
        /// Gateway's messages quote; `fragment` is the part RE2 objected to.
        case syntax(code: String, fragment: String)
        /// It parses, but compiles to a program larger than Envoy accepts.
        case tooLarge(programSize: Int)
    }

    /// Why Envoy would refuse `pattern`, or nil when it takes it.
    public static func problem(_ pattern: String) -> Problem? {
        var pattern = pattern
        let result = pattern.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { switchboard_re2_check($0.baseAddress, $0.count) }
        }
        guard result.error_code == 0 else {
            let fragment = withUnsafeBytes(of: result.error_argument) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            return .syntax(code: goErrorCode(result.error_code), fragment: fragment)
        }
        let size = Int(result.program_size)
        return size > envoyMaxProgramSize ? .tooLarge(programSize: size) : nil
    }

    /// Whether `text` matches `pattern` as a whole, as Envoy's `safe_regex` matchers match; nil
    /// when RE2 cannot compile the pattern.
    public static func fullMatch(_ pattern: String, _ text: String) -> Bool? {
        var pattern = pattern
        var text = text
        let result = pattern.withUTF8 { patternBytes in
            text.withUTF8 { textBytes in
                patternBytes.withMemoryRebound(to: CChar.self) { p in
                    textBytes.withMemoryRebound(to: CChar.self) { t in
                        switchboard_re2_full_match(p.baseAddress, p.count, t.baseAddress, t.count)
                    }
                }
            }
        }
        return result < 0 ? nil : result == 1
    }

    /// The problem as Envoy Gateway words a regex it refuses (`regex "(" is invalid: error
    /// parsing regexp: missing closing ): `(``); programs too large are our own words, since
    /// Envoy Gateway lets those through to a NACK.
    public static func message(_ pattern: String, _ problem: Problem) -> String {
        switch problem {
        case .syntax(let code, let fragment):
            "regex \(goQuoted(pattern)) is invalid: error parsing regexp: \(code): `\(fragment)`"
        case .tooLarge(let size):
            "regex \(goQuoted(pattern)) is invalid: its RE2 program size is \(size), larger than the \(envoyMaxProgramSize) Envoy accepts; simplify it"
        }
    }

    /// RE2's `ErrorCode` in the words of Go's `regexp/syntax` for the same fault.
    static func goErrorCode(_ code: Int32) -> String {
        switch code {
        case 2: "invalid escape sequence"
        case 3: "invalid character class"
        case 4: "invalid character class range"
        case 5: "missing closing ]"
        case 6: "missing closing )"
        case 7: "unexpected )"
        case 8: "trailing backslash at end of expression"
        case 9: "missing argument to repetition operator"
        case 10: "invalid repeat count"
        case 11: "invalid nested repetition operator"
        case 12: "invalid or unsupported Perl syntax"
        case 13: "invalid UTF-8"
        case 14: "invalid named capture"
        case 15: "expression too large"
        default: "regexp/syntax: internal error"
        }
    }

    /// `s` as Go's `%q` prints it: in double quotes, with `"` and `\` escaped and control
    /// characters written as escapes.
    public static func goQuoted(_ s: String) -> String {
        var quoted = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": quoted += "\\\""
            case "\\": quoted += "\\\\"
            case "\n": quoted += "\\n"
            case "\t": quoted += "\\t"
            case "\r": quoted += "\\r"
            case _ where scalar.value < 0x20 || scalar.value == 0x7f:
                quoted += "\\x" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
            default: quoted.unicodeScalars.append(scalar)
            }
        }
        return quoted + "\""
    }
}
