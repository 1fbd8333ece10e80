/// What an unquoted scalar reads as under YAML 1.1, the YAML Kubernetes reads: null, a boolean,
/// a number, or (everything else) a string. The loader uses it to say "write it in quotes", and
/// CanonicalText to keep quotes on a string that would otherwise read back as something else.
public enum PlainScalar {
    public static let nullWords: Set<String> = ["", "~", "null", "Null", "NULL"]
    public static let boolWords: Set<String> = [
        "true", "True", "TRUE", "false", "False", "FALSE", "yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON",
        "off", "Off", "OFF",
    ]

    /// Whether plain `text` reads as a number, a boolean or null.
    public static func readsAsNonString(_ text: String) -> Bool {
        isNull(text) || isBool(text) || isNumber(text)
    }

    /// Whether a string written plain could read back as something else to some YAML 1.1 reader:
    /// what `readsAsNonString` says, and also a timestamp (`2036-01-01T00:00:00Z`) and the
    /// merge key `<<` and value key `=`. Writers quote these; readers of Kubernetes YAML take them
    /// as strings.
    public static func needsQuotes(_ text: String) -> Bool {
        readsAsNonString(text) || text == "<<" || text == "=" || isTimestamp(text)
    }

    /// YAML 1.1's timestamp: `2001-12-14`, or a date with a time after `T`, `t` or blanks,
    /// seconds' fraction optional, then `Z` or an offset (`-5`, `+05:30`) optional.
    public static func isTimestamp(_ text: String) -> Bool {
        var rest = Substring(text)
        func digits(_ range: ClosedRange<Int>) -> Bool {
            let run = rest.prefix { $0.isASCII && $0.isNumber }
            guard range.contains(run.count) else { return false }
            rest = rest.dropFirst(run.count)
            return true
        }
        func take(_ character: Character) -> Bool {
            guard rest.first == character else { return false }
            rest = rest.dropFirst()
            return true
        }
        guard digits(4...4), take("-") else { return false }
        let afterYear = rest
        if digits(2...2), take("-"), digits(2...2), rest.isEmpty { return true }
        rest = afterYear
        guard digits(1...2), take("-"), digits(1...2) else { return false }
        if !take("T") && !take("t") {
            let blanks = rest.prefix { $0 == " " || $0 == "\t" }
            guard !blanks.isEmpty else { return false }
            rest = rest.dropFirst(blanks.count)
        }
        guard digits(1...2), take(":"), digits(2...2), take(":"), digits(2...2) else { return false }
        if take(".") { _ = digits(0...Int.max) }
        if rest.isEmpty { return true }
        rest = rest.drop { $0 == " " || $0 == "\t" }
        if take("Z") { return rest.isEmpty }
        guard take("+") || take("-"), digits(1...2) else { return false }
        if take(":") { guard digits(2...2) else { return false } }
        return rest.isEmpty
    }

    /// `nullWords.contains(text)`, without hashing each value read: null words are short.
    public static func isNull(_ text: String) -> Bool {
        text.utf8.count <= 4 && nullWords.contains(text)
    }

    /// `boolWords.contains(text)`, without hashing each value read: most values are longer, or
    /// start with another letter.
    public static func isBool(_ text: String) -> Bool {
        guard let first = text.utf8.first, text.utf8.count <= 5 else { return false }
        switch first {
        case UInt8(ascii: "t"), UInt8(ascii: "T"), UInt8(ascii: "f"), UInt8(ascii: "F"), UInt8(ascii: "y"),
            UInt8(ascii: "Y"), UInt8(ascii: "n"), UInt8(ascii: "N"), UInt8(ascii: "o"), UInt8(ascii: "O"):
            return boolWords.contains(text)
        default:
            return false
        }
    }

    /// Whether plain `text` reads as an integer or a float. YAML 1.1's forms, with `_` allowed
    /// between digits: decimal, `0b` binary, `0x` hexadecimal, `0`/`0o` octal, base 60 (`1:30`,
    /// `190:20:30.15`), decimals with or without a fraction and an exponent (`5.`, `-.5`,
    /// `+12e03`), `.inf` with a sign or none, `.nan`. One pass over the bytes, no regular
    /// expression: it runs for every plain value the loader reads. `1.2.3`, `10.0.0.0`, `30s`,
    /// `inf` and `-infinity` are strings.
    public static func isNumber(_ text: String) -> Bool {
        // Most values start with a letter: they are done before any copy.
        guard let start = text.utf8.first,
            isDigit(start) || start == UInt8(ascii: "+") || start == UInt8(ascii: "-") || start == UInt8(ascii: ".")
        else { return false }
        var bytes = Array(text.utf8)[...]
        if let first = bytes.first, first == UInt8(ascii: "+") || first == UInt8(ascii: "-") {
            bytes = bytes.dropFirst()
            if ["inf", "Inf", "INF"].contains(where: { bytes.elementsEqual(".\($0)".utf8) }) { return true }
        } else if [".inf", ".Inf", ".INF", ".nan", ".NaN", ".NAN"].contains(where: { bytes.elementsEqual($0.utf8) }) {
            return true
        }
        guard !bytes.isEmpty else { return false }
        if bytes.count > 2, bytes.first == UInt8(ascii: "0") {
            let digits = bytes.dropFirst(2)
            switch bytes[bytes.startIndex + 1] {
            case UInt8(ascii: "b"): return digitsOnly(digits) { $0 == UInt8(ascii: "0") || $0 == UInt8(ascii: "1") }
            case UInt8(ascii: "o"): return digitsOnly(digits) { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "7") }
            case UInt8(ascii: "x"): return digitsOnly(digits) { isHexDigit($0) }
            default: break
            }
        }
        if bytes.contains(UInt8(ascii: ":")) { return isBase60(bytes) }
        return isDecimal(bytes)
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        isDigit(byte) || (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "f"))
    }

    /// At least one digit, and nothing but digits and `_`.
    private static func digitsOnly(_ bytes: ArraySlice<UInt8>, _ digit: (UInt8) -> Bool) -> Bool {
        bytes.contains(where: digit) && bytes.allSatisfy { digit($0) || $0 == UInt8(ascii: "_") }
    }

    /// `digits[.digits][e[+-]digits]` or `.digits[e[+-]digits]`: one dot at most, a digit before
    /// the exponent.
    private static func isDecimal(_ bytes: ArraySlice<UInt8>) -> Bool {
        var index = bytes.startIndex
        var digits = 0
        let first = bytes[index]
        guard isDigit(first) || first == UInt8(ascii: ".") else { return false }
        func skipDigits() {
            while index < bytes.endIndex, isDigit(bytes[index]) || bytes[index] == UInt8(ascii: "_") {
                if isDigit(bytes[index]) { digits += 1 }
                index += 1
            }
        }
        skipDigits()
        if index < bytes.endIndex, bytes[index] == UInt8(ascii: ".") {
            index += 1
            skipDigits()
        }
        guard digits > 0 else { return false }
        guard index < bytes.endIndex else { return true }
        guard bytes[index] | 0x20 == UInt8(ascii: "e") else { return false }
        index += 1
        if index < bytes.endIndex, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
            index += 1
        }
        let exponent = bytes[index...]
        return !exponent.isEmpty && exponent.allSatisfy(isDigit)
    }

    /// `digits(:[0-5]?[0-9])+[.digits]`: hours, minutes and seconds of YAML 1.1.
    private static func isBase60(_ bytes: ArraySlice<UInt8>) -> Bool {
        var parts = bytes.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
        guard parts.count > 1, let head = parts.first, let lead = head.first, isDigit(lead),
            head.allSatisfy({ isDigit($0) || $0 == UInt8(ascii: "_") })
        else { return false }
        var last = parts.removeLast()
        if let dot = last.firstIndex(of: UInt8(ascii: ".")) {
            guard last[(dot + 1)...].allSatisfy({ isDigit($0) || $0 == UInt8(ascii: "_") }) else { return false }
            last = last[..<dot]
        }
        return (parts.dropFirst() + [last]).allSatisfy { part in
            (1...2).contains(part.count) && part.allSatisfy(isDigit)
                && (part.count == 1 || part.first! <= UInt8(ascii: "5"))
        }
    }
}
