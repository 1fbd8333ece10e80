#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Formats the Gateway API and Envoy Gateway CRDs give string fields, checked as the API server
/// checks them: what they refuse, Envoy refuses too (a NACK that also holds back every other
/// change in the same push), so it must stop at `validate`, with the field named.
public enum StringFormat: Sendable {
    /// `HTTPHeaderName`: an RFC 7230 token, at most 256 characters.
    case headerName
    /// A `PathPrefix` or `Exact` path match value, or a path rewrite: absolute, normalised, and
    /// made of URI path characters only.
    case httpPath
    /// An IPv4 or IPv6 address, as written in a Backend's `ip.address`.
    case ipAddress
    /// Free text that Envoy still needs to be non-empty, without line breaks or NUL, at most
    /// `maxLength` bytes (header values, query parameter names).
    case text(maxLength: Int)
    /// A DNS name (RFC 1123), lowercase, at most 253 characters; `*.` may lead when allowed.
    case hostname(wildcard: Bool)

    /// What is wrong with `text`, said for the operator; nil when it is valid.
    public func problem(_ text: String) -> String? {
        switch self {
        case .headerName:
            if text.isEmpty { return "must not be empty" }
            if text.utf8.count > 256 { return "is \(text.utf8.count) characters long: header names have at most 256" }
            if text.utf8.allSatisfy(Self.isTokenCharacter) { return nil }
            return "\"\(Self.shorten(text))\" is not a valid header name: use letters, digits and !#$%&'*+-.^_`|~ only"
        case .httpPath:
            return Self.pathProblem(text)
        case .text(let maxLength):
            if text.isEmpty { return "must not be empty" }
            if text.utf8.count > maxLength {
                return "is \(text.utf8.count) bytes long: at most \(maxLength) are allowed"
            }
            if text.unicodeScalars.contains(where: { ["\0", "\r", "\n"].contains($0) }) {
                return "\"\(Self.shorten(text))\" contains a line break or NUL, which HTTP does not allow: remove it"
            }
            return nil
        case .ipAddress:
            if Self.isIPAddress(text) { return nil }
            return
                "\"\(Self.shorten(text))\" is not an IP address: write an IPv4 (192.0.2.10) or IPv6 (2001:db8::10) address, or use fqdn for a name"
        case .hostname(let wildcard):
            if text.utf8.count > 253 { return "is \(text.utf8.count) characters long: hostnames have at most 253" }
            var name = Substring(text)
            if wildcard, name.hasPrefix("*.") { name = name.dropFirst(2) }
            let labels = name.split(separator: ".", omittingEmptySubsequences: false)
            if !name.isEmpty, labels.allSatisfy({ Self.isLabel($0) }) { return nil }
            return
                "\"\(Self.shorten(text))\" is not a valid hostname: use lowercase letters, digits, '-' and '.', each label "
                + "starting and ending with a letter or digit" + (wildcard ? " (a leading \"*.\" is allowed)" : "")
        }
    }

    static func shorten(_ text: String) -> String {
        let printable = text.unicodeScalars.map {
            $0.properties.generalCategory == .control ? "\\u{\(String($0.value, radix: 16))}" : String($0)
        }.joined()
        return printable.count > 80 ? printable.prefix(80) + "…" : printable
    }

    static func isTokenCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default:
            "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }

    static func isLabel(_ label: Substring, maxLength: Int = 63) -> Bool {
        let bytes = Array(label.utf8)
        func alphanumeric(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        }
        guard let first = bytes.first, let last = bytes.last, bytes.count <= maxLength, alphanumeric(first),
            alphanumeric(last)
        else {
            return false
        }
        return bytes.allSatisfy { alphanumeric($0) || $0 == UInt8(ascii: "-") }
    }

    static func isIPAddress(_ text: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, text, &v4) == 1 || inet_pton(AF_INET6, text, &v6) == 1
    }

    /// The Gateway API's rules for `Exact` and `PathPrefix` values.
    static func pathProblem(_ path: String) -> String? {
        // Plain loops over the bytes: String's `contains` goes through NSString here, and the
        // generic `firstRange(of:)` is not specialized; either was a sixth of decoding a route file.
        let bytes = Array(path.utf8)
        if bytes.count > 1024 { return "is \(bytes.count) characters long: paths have at most 1024" }
        guard bytes.first == UInt8(ascii: "/") else { return "\"\(shorten(path))\" must start with \"/\"" }
        for part in ["//", "/./", "/../", "%2f", "%2F", "#"] where contains(bytes, part.utf8) {
            return "\"\(shorten(path))\" must not contain \"\(part)\""
        }
        for end in ["/..", "/."]
        where bytes.count >= end.utf8.count && bytes.suffix(end.utf8.count).elementsEqual(end.utf8) {
            return "\"\(shorten(path))\" must not end with \"\(end)\""
        }
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < bytes.count, isHexDigit(bytes[index + 1]), isHexDigit(bytes[index + 2]) else {
                    return "\"\(shorten(path))\" has a '%' not followed by two hex digits"
                }
                index += 3
                continue
            }
            guard isPathCharacter(byte) else {
                return "\"\(shorten(path))\" contains a character paths may not hold unencoded: "
                    + "use letters, digits, -/._~!$&'()*+,;=:@ and %XX escapes"
            }
            index += 1
        }
        return nil
    }

    private static func contains(_ bytes: [UInt8], _ part: String.UTF8View) -> Bool {
        let part = Array(part)
        guard bytes.count >= part.count else { return false }
        for start in 0...(bytes.count - part.count) {
            var matched = 0
            while matched < part.count, bytes[start + matched] == part[matched] { matched += 1 }
            if matched == part.count { return true }
        }
        return false
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"),
            UInt8(ascii: "A")...UInt8(ascii: "F"):
            true
        default: false
        }
    }

    /// RFC 3986's unreserved and sub-delims characters, ':', '@' and '/'.
    private static func isPathCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        case UInt8(ascii: "-"), UInt8(ascii: "/"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"),
            UInt8(ascii: "!"), UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "("),
            UInt8(ascii: ")"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: ","), UInt8(ascii: ";"),
            UInt8(ascii: "="), UInt8(ascii: ":"), UInt8(ascii: "@"):
            true
        default: false
        }
    }
}

extension ObjectReader {
    /// The strings of a list field that have `format`; each other one gets a diagnostic.
    public func strings(_ key: String, format: StringFormat) -> [String] {
        list(key).enumerated().compactMap { index, node in
            guard let text = node.text, !Self.isPlainNonString(node) else {
                context.report(
                    at: context.location(of: node), .wrongType, "\(field(key))[\(index)]", Self.notAString(node))
                return nil
            }
            guard let problem = format.problem(text) else { return text }
            context.report(at: context.location(of: node), .notAllowed, "\(field(key))[\(index)]", problem)
            return nil
        }
    }

    /// A string field that must have `format`; nil, with a diagnostic naming the field, when it
    /// does not.
    public func string(_ key: String, required: Bool = false, format: StringFormat) -> String? {
        guard let text = string(key, required: required) else { return nil }
        if let problem = format.problem(text) {
            report(key, .notAllowed, problem)
            return nil
        }
        return text
    }
}
