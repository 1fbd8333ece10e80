/// A limit on requests in a fixed window.
public struct RateLimit: Sendable, Hashable {
    /// A window's length, as Envoy's rate limit API names it (`SECOND` … `YEAR`).
    public enum Unit: String, Sendable, Hashable, CaseIterable {
        case second = "SECOND"
        case minute = "MINUTE"
        case hour = "HOUR"
        case day = "DAY"
        case week = "WEEK"
        case month = "MONTH"
        case year = "YEAR"

        /// The window in seconds. A month is 30 days and a year 365, as envoyproxy/ratelimit
        /// counts them, so both services agree on every window.
        public var seconds: Int64 {
            switch self {
            case .second: 1
            case .minute: 60
            case .hour: 3600
            case .day: 86400
            case .week: 604_800
            case .month: 2_592_000
            case .year: 31_536_000
            }
        }
    }

    public var requestsPerUnit: UInt32
    public var unit: Unit

    public init(requestsPerUnit: UInt32, unit: Unit) {
        self.requestsPerUnit = requestsPerUnit
        self.unit = unit
    }
}

extension RateLimit.Unit {
    /// The unit's number in Envoy's rate limit messages and envoyproxy/ratelimit's configuration,
    /// which share it (`SECOND` = 1 … `YEAR` = 6, `WEEK` = 7).
    var number: Int {
        switch self {
        case .second: 1
        case .minute: 2
        case .hour: 3
        case .day: 4
        case .month: 5
        case .year: 6
        case .week: 7
        }
    }

    init?(number: Int) {
        guard let unit = Self.allCases.first(where: { $0.number == number }) else { return nil }
        self = unit
    }
}

/// Every domain's limits as trees of descriptors, the shape envoyproxy/ratelimit reads (and
/// Envoy Gateway serves it): a request's descriptor is a list of (key, value) entries, matched
/// one tree level per entry.
public struct RateLimitTable: Sendable, Hashable {
    public struct Node: Sendable, Hashable {
        public var key: String
        /// Nil matches any value: a `Distinct` selector counts each value apart.
        public var value: String?
        public var limit: RateLimit?
        /// Counted, but never refused.
        public var shadowMode: Bool
        /// Kept out of the `x-ratelimit-*` headers (a rule's `xRateLimitHeaders: Off`).
        public var headersOff: Bool
        public var children: [Node]

        public init(
            key: String, value: String? = nil, limit: RateLimit? = nil, shadowMode: Bool = false,
            headersOff: Bool = false, children: [Node] = []
        ) {
            self.key = key
            self.value = value
            self.limit = limit
            self.shadowMode = shadowMode
            self.headersOff = headersOff
            self.children = children
        }
    }

    public struct Match: Sendable, Hashable {
        public var limit: RateLimit
        public var shadowMode: Bool
        public var headersOff = false
    }

    public var domains: [String: [Node]]

    public init(domains: [String: [Node]] = [:]) { self.domains = domains }

    /// The limit a descriptor falls under: at each level the node with the entry's key and value,
    /// else the node with its key and no value; the limit is the last entry's node's. Nil when a
    /// level has no such node or the last node has no limit (the request is not limited).
    public func match(domain: String, entries: [(key: String, value: String)]) -> Match? {
        guard !entries.isEmpty, var level = domains[domain] else { return nil }
        var node: Node?
        for (index, entry) in entries.enumerated() {
            node =
                level.first { $0.key == entry.key && $0.value == entry.value }
                ?? level.first { $0.key == entry.key && $0.value == nil }
            guard let found = node else { return nil }
            if index < entries.count - 1 { level = found.children }
        }
        guard let node, let limit = node.limit else { return nil }
        return Match(limit: limit, shadowMode: node.shadowMode, headersOff: node.headersOff)
    }
}
