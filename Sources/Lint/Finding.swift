import GatewayAPI

/// One best-practice problem `switchboard lint` reports: which check, how bad, where, why, and
/// what to do. Every check is documented in docs/lint.md.
public struct Finding: Sendable, Hashable, Comparable, CustomStringConvertible {
    public enum Severity: String, Sendable, Hashable, Comparable {
        /// Breaks traffic as written; `lint` exits 1.
        case error
        /// Likely to hurt under failure or load.
        case warning
        /// Worth a look; often deliberate.
        case info

        public static func < (lhs: Self, rhs: Self) -> Bool {
            let order: [Self] = [.error, .warning, .info]
            return order.firstIndex(of: lhs)! < order.firstIndex(of: rhs)!
        }
    }

    /// The check's ID (`BTP001`), as docs/lint.md lists it and annotations silence it.
    public var check: String
    public var severity: Severity
    public var location: SourceLocation
    /// The field, as `kubectl explain` names it: `spec.retry.perRetry.timeout`.
    public var field: String
    /// Why it matters, in one line.
    public var message: String
    public var fix: String
    /// The object it is about (`BackendTrafficPolicy/default/retries`), whose annotation may
    /// silence it.
    public var object: String

    public init(
        check: String, severity: Severity, location: SourceLocation, field: String, message: String, fix: String,
        object: String
    ) {
        self.object = object
        self.check = check
        self.severity = severity
        self.location = location
        self.field = field
        self.message = message
        self.fix = fix
    }

    /// `path:line:col: warning BTP001: spec.retry: message; fix: …`
    public var description: String {
        "\(location): \(severity.rawValue) \(check): \(field): \(message); fix: \(fix)"
    }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.location, lhs.check) < (rhs.location, rhs.check)
    }
}
