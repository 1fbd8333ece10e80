/// The IR reads and writes itself as the two-stage goldens keep it (`ir.yaml`): durations as
/// seconds with a unit (`10s`, `0.25s`), exact to the nanosecond, instead of the standard
/// library's `[seconds, attoseconds]`. Synthesized coding in this module picks these overloads.
extension KeyedEncodingContainer {
    mutating func encode(_ value: Duration, forKey key: Key) throws {
        try encode(IRDuration.text(value), forKey: key)
    }

    mutating func encodeIfPresent(_ value: Duration?, forKey key: Key) throws {
        if let value { try encode(value, forKey: key) }
    }
}

extension KeyedDecodingContainer {
    func decode(_ type: Duration.Type, forKey key: Key) throws -> Duration {
        let text = try decode(String.self, forKey: key)
        guard let duration = IRDuration.parse(text) else {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: self, debugDescription: "\(text) is not a duration in seconds (e.g. 10s, 0.25s)")
        }
        return duration
    }

    func decodeIfPresent(_ type: Duration.Type, forKey key: Key) throws -> Duration? {
        try contains(key) && !decodeNil(forKey: key) ? decode(type, forKey: key) : nil
    }
}

enum IRDuration {
    static func text(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let nanoseconds = attoseconds / 1_000_000_000
        guard nanoseconds != 0 else { return "\(seconds)s" }
        var fraction = String(nanoseconds)
        fraction = String(repeating: "0", count: 9 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return "\(seconds).\(fraction)s"
    }

    static func parse(_ text: String) -> Duration? {
        guard text.hasSuffix("s") else { return nil }
        let parts = text.dropLast().split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let seconds = Int64(parts[0]) else { return nil }
        guard parts.count == 2 else { return .seconds(seconds) }
        let digits = parts[1]
        guard (1...9).contains(digits.count), digits.allSatisfy(\.isASCII), let fraction = Int64(digits) else {
            return nil
        }
        var nanoseconds = fraction
        for _ in digits.count..<9 { nanoseconds *= 10 }
        return .seconds(seconds) + .nanoseconds(nanoseconds)
    }
}
