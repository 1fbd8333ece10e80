/// Every failure the control plane reports, to the CLI, the logs and `/status`: what kind it is,
/// a message that says what went wrong and what to do, and the error underneath, if any.
public struct ControlPlaneError: Error, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable {
        /// A `--config` path that does not exist or cannot be read.
        case unreadableConfiguration
        /// A Gateway's translation exceeds `--max-resources`.
        case resourceLimit
        /// The translated resources could not become a snapshot (a translator bug: report it).
        case snapshot
        /// `serve` could not load its configuration the first time.
        case initialLoad
        /// The admin server's token or TLS files are unusable.
        case adminCredentials
        /// A running server's admin address did not answer as expected.
        case adminRequest
    }

    public var code: Code
    public var message: String
    public var underlying: (any Error & Sendable)?

    public init(_ code: Code, _ message: String, underlying: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    /// `error` itself when it is one, else `code` with `message` around it.
    static func wrapping(_ error: any Error, as code: Code, _ message: String) -> ControlPlaneError {
        error as? ControlPlaneError ?? ControlPlaneError(code, "\(message): \(error)", underlying: error)
    }

    public var description: String { message }
}
