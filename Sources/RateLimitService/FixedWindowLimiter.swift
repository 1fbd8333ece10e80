/// Decides requests against fixed windows, as envoyproxy/ratelimit does, so that Envoy's
/// `x-ratelimit-*` headers and a shared Redis read the same with either service.
///
/// A window starts at a multiple of its unit in Unix time; its key is the domain, each entry's
/// key and value, and the window's start, joined by `_`.
public struct FixedWindowLimiter: Sendable {
    /// One descriptor of a request: entries in order, and the hits it costs when it says (zero
    /// only checks).
    public struct Descriptor: Sendable, Hashable {
        public var entries: [Entry]
        public var hitsAddend: UInt64?
        /// The limit Envoy read from the request's dynamic metadata: it replaces the table's.
        public var limitOverride: RateLimit?

        public struct Entry: Sendable, Hashable {
            public var key: String
            public var value: String
            public init(key: String, value: String) {
                self.key = key
                self.value = value
            }
        }

        public init(entries: [Entry], hitsAddend: UInt64? = nil, limitOverride: RateLimit? = nil) {
            self.entries = entries
            self.hitsAddend = hitsAddend
            self.limitOverride = limitOverride
        }
    }

    public enum Code: String, Sendable, Hashable {
        case ok = "OK"
        case overLimit = "OVER_LIMIT"
    }

    public struct Status: Sendable, Hashable {
        public var code: Code
        /// Nil when no limit applies to the descriptor.
        public var limit: RateLimit?
        public var remaining: UInt32
        /// Seconds until the window ends; nil without a limit.
        public var resetSeconds: Int64?
        /// Over its limit, but in shadow mode: let through.
        public var shadowed = false
        /// Its limit stays out of the `x-ratelimit-*` headers.
        public var headersOff = false
    }

    public struct Decision: Sendable, Hashable {
        public var overall: Code
        public var statuses: [Status]
    }

    public let store: any CounterStore
    private let now: @Sendable () -> Int64

    /// - Parameter now: Unix time in whole seconds (tests step their own).
    public init(store: any CounterStore, now: @escaping @Sendable () -> Int64) {
        self.store = store
        self.now = now
    }

    /// Counts the request in every window its descriptors fall under and says whether it is over
    /// any. `hitsAddend` is the request's own (Envoy sends 0 for one request).
    public func decide(domain: String, descriptors: [Descriptor], hitsAddend: UInt64 = 0, table: RateLimitTable)
        async throws(CounterStoreError) -> Decision
    {
        let now = now()
        let matches = descriptors.map { descriptor -> RateLimitTable.Match? in
            if let limit = descriptor.limitOverride, table.domains[domain] != nil {
                return RateLimitTable.Match(limit: limit, shadowMode: false)
            }
            return table.match(domain: domain, entries: descriptor.entries.map { ($0.key, $0.value) })
        }
        var increments: [CounterIncrement] = []
        for (descriptor, match) in zip(descriptors, matches) {
            guard let match else { continue }
            let window = match.limit.unit.seconds
            increments.append(
                CounterIncrement(
                    key: Self.key(domain: domain, entries: descriptor.entries, windowStart: now / window * window),
                    hits: descriptor.hitsAddend ?? max(1, hitsAddend), expirySeconds: window))
        }
        var counts = try await store.increment(increments)[...]
        var statuses: [Status] = []
        var overall = Code.ok
        for match in matches {
            guard let match else {
                statuses.append(Status(code: .ok, limit: nil, remaining: 0, resetSeconds: nil))
                continue
            }
            let count = counts.removeFirst()
            let limit = match.limit
            let reset = limit.unit.seconds - now % limit.unit.seconds
            if count > UInt64(limit.requestsPerUnit) {
                if !match.shadowMode { overall = .overLimit }
                statuses.append(
                    Status(
                        code: match.shadowMode ? .ok : .overLimit, limit: limit, remaining: 0, resetSeconds: reset,
                        shadowed: match.shadowMode, headersOff: match.headersOff))
            } else {
                statuses.append(
                    Status(
                        code: .ok, limit: limit, remaining: limit.requestsPerUnit - UInt32(count), resetSeconds: reset,
                        headersOff: match.headersOff))
            }
        }
        return Decision(overall: overall, statuses: statuses)
    }

    /// `<domain>_<key>_<value>_…_<window start>`, envoyproxy/ratelimit's key with no prefix.
    static func key(domain: String, entries: [Descriptor.Entry], windowStart: Int64) -> String {
        var key = domain + "_"
        for entry in entries { key += entry.key + "_" + entry.value + "_" }
        return key + String(windowStart)
    }
}
