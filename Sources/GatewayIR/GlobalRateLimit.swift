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

extension GlobalRateLimit {
    /// One node of the rate limit service's descriptor trees, the shape envoyproxy/ratelimit reads
    /// (`RateLimitConfig`): the rate limit service and the xDS it is served both come from these.
    public struct ServiceDescriptor: Sendable, Hashable {
        public var key: String
        /// Nil matches any value: a `Distinct` selector counts each value apart.
        public var value: String?
        /// On the last node of a rule's chain.
        public var limit: Limit?
        public var shadowMode: Bool
        /// Kept out of the `x-ratelimit-*` headers (a rule's `xRateLimitHeaders: Off`); the
        /// RateLimitConfig has no field for it.
        public var headersOff: Bool
        public var children: [ServiceDescriptor]

        public struct Limit: Sendable, Hashable {
            public var requests: UInt32
            /// `SECOND` … `YEAR`.
            public var unit: String
        }

        public init(key: String, value: String?, shadowMode: Bool = false, children: [ServiceDescriptor] = []) {
            self.key = key
            self.value = value
            self.shadowMode = shadowMode
            self.headersOff = false
            self.children = children
        }

        /// Same keys and values all the way down; limits aside, as Envoy Gateway compares them.
        func sameShape(as other: Self) -> Bool {
            key == other.key && value == other.value && children.count == other.children.count
                && zip(children, other.children).allSatisfy { $0.sameShape(as: $1) }
        }
    }

    /// The limits of every global rate limit rule in `configs`, as Envoy Gateway gives them to the
    /// rate limit service, by domain (a listener, or a shared rule's policy), sorted: under each
    /// domain a node for the route (or the shared rule), and under it one chain per rule, whose
    /// last node holds the limit. The keys and values are those the routes' actions send, so every
    /// descriptor Envoy sends finds its rule.
    public static func serviceDomains(_ configs: [GatewayConfig]) -> [(
        domain: String, descriptors: [ServiceDescriptor]
    )] {
        var domains: [String: [ServiceDescriptor]] = [:]
        for config in configs {
            for listener in config.listeners {
                for host in listener.virtualHosts {
                    for route in host.routes {
                        guard let global = route.policy.globalRateLimit else { continue }
                        for rule in global.rules {
                            let domain = rule.shared ? policyDomain(ofRule: rule.name) : global.domain
                            add(rule, under: rule.shared ? rule.name : route.name, to: &domains[domain, default: []])
                        }
                    }
                }
            }
        }
        return domains.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    private static func add(_ rule: Rule, under top: String, to nodes: inout [ServiceDescriptor]) {
        // Every method variant has the same keys and values: one chain serves them all.
        guard let entries = rule.descriptors.first else { return }
        var chain: ServiceDescriptor?
        for entry in entries.reversed() {
            var node = ServiceDescriptor(key: entry.key, value: entry.value, shadowMode: rule.shadowMode)
            if let below = chain {
                node.children = [below]
            } else {
                node.limit = .init(requests: rule.requests, unit: rule.unit)
                node.headersOff = rule.headersOff
            }
            chain = node
        }
        guard let chain else { return }
        let index =
            nodes.firstIndex { $0.key == top && $0.value == top }
            ?? {
                nodes.append(ServiceDescriptor(key: top, value: top))
                return nodes.count - 1
            }()
        // The same chain twice (a route on two hostnames) is one.
        if !nodes[index].children.contains(where: { $0.sameShape(as: chain) }) { nodes[index].children.append(chain) }
    }
}
