/// A route's global rate limit rules: Envoy asks the rate limit service about each request, which
/// counts it against limits every Envoy shares (docs/envoy-gateway-mapping.md, BackendTrafficPolicy
/// `rateLimit.global`).
public struct GlobalRateLimit: Sendable, Hashable, Codable {
    public struct Rule: Sendable, Hashable, Codable {
        /// `<policy-ns>/<policy-name>/rule/<index>`, as Envoy Gateway names it.
        public var name: String
        /// The descriptor entries a request produces after the leading generic key (the route's
        /// name, or the rule's when shared), in Envoy Gateway's order: headers, method, path, client
        /// address, query parameters; `rule-<n>-match--1` alone for a rule without selectors.
        /// Exact and inverted matches give a fixed value, Distinct ones the request's own (`value`
        /// nil). One list per method the rule names (a request has one method), else one.
        public var descriptors: [[RoutePolicy.RateLimit.Entry]]
        public var requests: UInt32
        /// `SECOND` … `YEAR`.
        public var unit: String
        public var shared: Bool
        public var shadowMode: Bool
        /// `Off` keeps this rule's counts out of the `x-ratelimit-*` headers.
        public var headersOff: Bool
        /// The limit read from the request's dynamic metadata instead (namespace, key).
        public var limitFromMetadata: MetadataKey?
        public var requestCost: Cost?
        public var responseCost: Cost?

        public init(
            name: String, descriptors: [[RoutePolicy.RateLimit.Entry]], requests: UInt32, unit: String, shared: Bool,
            shadowMode: Bool, headersOff: Bool
        ) {
            self.name = name
            self.descriptors = descriptors
            self.requests = requests
            self.unit = unit
            self.shared = shared
            self.shadowMode = shadowMode
            self.headersOff = headersOff
        }
    }

    public struct MetadataKey: Sendable, Hashable, Codable {
        public var namespace: String
        public var key: String

        public init(namespace: String, key: String) {
            self.namespace = namespace
            self.key = key
        }
    }

    /// What a request counts for: a number (0 checks without counting), or a number read from
    /// its dynamic metadata.
    public enum Cost: Sendable, Hashable, Codable {
        case number(UInt64)
        case metadata(MetadataKey)
    }

    /// The domain of the route's unshared rules: its listener, `<gw-ns>/<gw>/<listener>`.
    public var domain: String
    public var rules: [Rule]

    public init(domain: String, rules: [Rule]) {
        self.domain = domain
        self.rules = rules
    }

    /// A shared rule's domain: its policy, `<ns>/<name>` (the rule's name without `/rule/<i>`).
    public static func policyDomain(ofRule name: String) -> String {
        let parts = name.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count >= 3, parts[parts.count - 2] == "rule" else { return name }
        return parts.dropLast(2).joined(separator: "/")
    }
}

/// Where Envoy reaches the rate limit service, and how it treats it: `switchboard serve`'s
/// rate limit flags. Nil in a Gateway's IR when the service is not running.
public struct GlobalRateLimitService: Sendable, Hashable, Codable {
    public var host: String
    public var port: Int
    /// How long Envoy waits for a decision; nil leaves Envoy's default (20 ms).
    public var timeout: Duration?
    /// Refuse requests (500) when the service fails, instead of letting them through.
    public var failClosed: Bool

    public init(host: String, port: Int, timeout: Duration? = nil, failClosed: Bool = false) {
        self.host = host
        self.port = port
        self.timeout = timeout
        self.failClosed = failClosed
    }
}
