/// One counter to raise: a fixed window's key, by how much, and how long the key must outlive
/// the window.
public struct CounterIncrement: Sendable, Hashable {
    public var key: String
    public var hits: UInt64
    public var expirySeconds: Int64

    public init(key: String, hits: UInt64, expirySeconds: Int64) {
        self.key = key
        self.hits = hits
        self.expirySeconds = expirySeconds
    }
}

/// Why a store could not count. The service then answers with an error, and each Envoy lets the
/// request through or refuses it as its `failure_mode_deny` says.
public enum CounterStoreError: Error, Equatable, CustomStringConvertible {
    /// The store is not reachable or did not answer in time; `detail` says which.
    case unavailable(String)
    /// The in-memory store holds as many counters as it may (distinct values of a `Distinct`
    /// selector, e.g. one per client address), none of them expired.
    case full(Int)

    public var description: String {
        switch self {
        case .unavailable(let detail): "the rate limit counters are unavailable: \(detail)"
        case .full(let keys):
            "the in-memory rate limit counters are full (\(keys) live windows); raise --ratelimit-max-keys or use Redis"
        }
    }
}

/// Where fixed-window counts live: this process (one replica) or Redis (shared by any number).
public protocol CounterStore: Sendable {
    /// Raises every counter and returns each one's count after it, in order. Counters are created
    /// at zero and expire `expirySeconds` after their latest raise.
    func increment(_ increments: [CounterIncrement]) async throws(CounterStoreError) -> [UInt64]
}
