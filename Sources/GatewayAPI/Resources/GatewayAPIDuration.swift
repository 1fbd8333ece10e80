/// A Gateway API duration (`GEP-2257`): one to four `<number><unit>` parts, units h, m, s, ms,
/// as in `1h30m` or `500ms`. Kept in milliseconds.
public struct GatewayAPIDuration: Sendable, Equatable, CustomStringConvertible {
    public var milliseconds: Int

    public init(milliseconds: Int) {
        self.milliseconds = milliseconds
    }

    /// As a Swift `Duration`, for the IR and the clock.
    public var duration: Duration { .milliseconds(milliseconds) }

    /// Parses `text`, or nil when it is not of that form.
    public init?(_ text: String) {
        var total = 0
        var parts = 0
        var rest = Substring(text)
        while !rest.isEmpty {
            let digits = rest.prefix(while: \.isASCII).prefix(while: \.isNumber)
            guard (1...5).contains(digits.count), let value = Int(digits) else { return nil }
            rest = rest.dropFirst(digits.count)
            let multiplier: Int
            if rest.hasPrefix("ms") {
                multiplier = 1
                rest = rest.dropFirst(2)
            } else if let unit = rest.first, let scale = ["h": 3_600_000, "m": 60_000, "s": 1000][unit] {
                multiplier = scale
                rest = rest.dropFirst()
            } else {
                return nil
            }
            total += value * multiplier
            parts += 1
        }
        guard (1...4).contains(parts) else { return nil }
        milliseconds = total
    }

    public var description: String {
        milliseconds % 1000 == 0 ? "\(milliseconds / 1000)s" : "\(milliseconds)ms"
    }
}

extension ObjectReader {
    /// A Gateway API duration field; a malformed one is reported with examples of the form.
    public func duration(_ key: String) -> GatewayAPIDuration? {
        guard let text = string(key) else { return nil }
        guard let duration = GatewayAPIDuration(text) else {
            context.report(
                at: location, .wrongType, field(key),
                "\"\(text)\" is not a duration: use up to four <number><unit> parts with units h, m, s, ms (e.g. 10s, 1m30s, 500ms)"
            )
            return nil
        }
        return duration
    }
}
