/// How Envoy treats a cluster's connections and endpoints: everything a BackendTrafficPolicy
/// decides at the cluster level, in Envoy's terms. The defaults are what Envoy Gateway writes
/// for a cluster no policy touches (docs/envoy-gateway-mapping.md §2.0).
public struct ClusterPolicy: Sendable, Hashable, Codable {
    public enum Balancer: Sendable, Hashable, Codable {
        case leastRequest
        case roundRobin
        case random
        /// Consistent hashing; the hash key is on the route.
        case maglev(tableSize: Int)
    }

    public struct HealthCheck: Sendable, Hashable, Codable {
        public enum Payload: Sendable, Hashable, Codable {
            case text(String)
            case binary([UInt8])
        }

        public enum Kind: Sendable, Hashable, Codable {
            /// `expected`/`retriable` as half-open ranges `[start, end)`.
            case http(
                host: String, path: String, method: String?, expected: [Range<Int>], retriable: [Range<Int>],
                send: Payload?,
                receive: Payload?)
            case tcp(send: Payload?, receive: Payload?)
            case grpc(service: String)
        }

        public var timeout: Duration
        public var interval: Duration
        public var initialJitter: Duration?
        public var unhealthyThreshold: Int
        public var healthyThreshold: Int
        public var kind: Kind
        /// Health checks go to this port instead of the endpoint's.
        public var port: Int?

        public init(
            timeout: Duration, interval: Duration, initialJitter: Duration?, unhealthyThreshold: Int,
            healthyThreshold: Int,
            kind: Kind, port: Int?
        ) {
            self.timeout = timeout
            self.interval = interval
            self.initialJitter = initialJitter
            self.unhealthyThreshold = unhealthyThreshold
            self.healthyThreshold = healthyThreshold
            self.kind = kind
            self.port = port
        }
    }

    public struct OutlierDetection: Sendable, Hashable, Codable {
        public var interval: Duration
        public var baseEjectionTime: Duration
        public var splitExternalLocalOriginErrors: Bool
        public var maxEjectionPercent: Int
        public var consecutiveLocalOriginFailures: Int
        public var consecutive5xx: Int
        public var consecutiveGatewayErrors: Int?
        public var failurePercentageThreshold: Int?
        public var alwaysEjectOne: Bool

        public init(
            interval: Duration, baseEjectionTime: Duration, splitExternalLocalOriginErrors: Bool,
            maxEjectionPercent: Int,
            consecutiveLocalOriginFailures: Int, consecutive5xx: Int, consecutiveGatewayErrors: Int?,
            failurePercentageThreshold: Int?, alwaysEjectOne: Bool
        ) {
            self.interval = interval
            self.baseEjectionTime = baseEjectionTime
            self.splitExternalLocalOriginErrors = splitExternalLocalOriginErrors
            self.maxEjectionPercent = maxEjectionPercent
            self.consecutiveLocalOriginFailures = consecutiveLocalOriginFailures
            self.consecutive5xx = consecutive5xx
            self.consecutiveGatewayErrors = consecutiveGatewayErrors
            self.failurePercentageThreshold = failurePercentageThreshold
            self.alwaysEjectOne = alwaysEjectOne
        }
    }

    public struct Thresholds: Sendable, Hashable, Codable {
        public var maxConnections: Int
        public var maxPendingRequests: Int
        public var maxRequests: Int
        public var maxRetries: Int
        public var perHostMaxConnections: Int?
        public var retryBudgetPercent: Double?
        public var retryBudgetMinConcurrency: Int?

        public init(
            maxConnections: Int, maxPendingRequests: Int, maxRequests: Int, maxRetries: Int,
            perHostMaxConnections: Int?,
            retryBudgetPercent: Double?, retryBudgetMinConcurrency: Int?
        ) {
            self.maxConnections = maxConnections
            self.maxPendingRequests = maxPendingRequests
            self.maxRequests = maxRequests
            self.maxRetries = maxRetries
            self.perHostMaxConnections = perHostMaxConnections
            self.retryBudgetPercent = retryBudgetPercent
            self.retryBudgetMinConcurrency = retryBudgetMinConcurrency
        }
    }

    public struct Keepalive: Sendable, Hashable, Codable {
        public var probes: Int?
        public var idleTime: Duration?
        public var interval: Duration?

        public init(probes: Int?, idleTime: Duration?, interval: Duration?) {
            self.probes = probes
            self.idleTime = idleTime
            self.interval = interval
        }
    }

    public struct HTTP2: Sendable, Hashable, Codable {
        public var initialStreamWindowSize = 65536
        public var initialConnectionWindowSize = 1_048_576
        public var maxConcurrentStreams: Int?
        public var terminateStreamOnInvalidMessage: Bool?
        public var keepaliveInterval: Duration?
        public var keepaliveTimeout: Duration?
        public var keepaliveIntervalJitter: Int?
        public var keepaliveIdleInterval: Duration?

        public init() {}
    }

    public var balancer: Balancer = .leastRequest
    public var slowStartWindow: Duration?
    /// `endpointOverride`: headers naming the endpoint to use.
    public var overrideHeaders: [String] = []
    public var zoneAware: ZoneAware?

    public enum ZoneAware: Sendable, Hashable, Codable {
        /// `zone_aware_lb_config`; the load assignment gets a locality per zone.
        case preferLocal(minClusterSize: Int, routingEnabledPercent: Int?, forceLocalZoneMinSize: Int?)
        /// A locality per zone, weighted (zones not listed weigh 1).
        case weightedZones([String: Int])
    }
    public var healthCheck: HealthCheck?
    public var outlierDetection: OutlierDetection?
    public var panicThreshold: Int?
    /// Nil: Envoy Gateway's single threshold with only `max_retries: 1024`.
    public var thresholds: Thresholds?
    public var connectTimeout: Duration = .seconds(10)
    public var idleTimeout: Duration?
    public var maxConnectionDuration: Duration?
    public var maxRequestsPerConnection: Int?
    public var keepalive: Keepalive?
    public var bufferLimit = 32768
    public var preconnectPerEndpoint: Double?
    public var preconnectPredictive: Double?
    public var dnsRefreshRate: Duration = .seconds(30)
    public var respectDNSTTL = true
    public var dnsLookupFamily = DNSLookupFamily.v4Preferred
    public var http2 = HTTP2()
    public var proxyProtocol: ProxyProtocolVersion?
    public var useClientProtocol = false

    public init() {}

    /// Which addresses Envoy asks DNS for, as Envoy names the choices.
    public enum DNSLookupFamily: String, Sendable, Hashable, Codable {
        case v4Only = "V4_ONLY"
        case v6Only = "V6_ONLY"
        case v4Preferred = "V4_PREFERRED"
        case auto = "AUTO"
        case all = "ALL"
    }

    /// The PROXY protocol header Envoy sends before each upstream connection's data.
    public enum ProxyProtocolVersion: String, Sendable, Hashable, Codable {
        case v1 = "V1"
        case v2 = "V2"
    }
}

/// What a BackendTrafficPolicy decides per route: hash keys for consistent hashing, local rate
/// limits and faults (retry and timeouts live on `Route` itself, shared with HTTPRoute's own).
public struct RoutePolicy: Sendable, Hashable, Codable {
    public enum HashKey: Sendable, Hashable, Codable {
        public struct CookieAttribute: Sendable, Hashable, Codable {
            public var name: String
            public var value: String

            public init(name: String, value: String) {
                self.name = name
                self.value = value
            }
        }

        case sourceIP
        case header(String)
        case cookie(name: String, ttl: Duration?, attributes: [CookieAttribute])
        case queryParameter(String)
    }

    public struct Fault: Sendable, Hashable, Codable {
        public var delay: Duration?
        /// 0–100.
        public var delayPercent: Double
        public var abortHTTPStatus: Int?
        public var abortGRPCStatus: Int?
        public var abortPercent: Double

        public init(
            delay: Duration?, delayPercent: Double, abortHTTPStatus: Int?, abortGRPCStatus: Int?, abortPercent: Double
        ) {
            self.delay = delay
            self.delayPercent = delayPercent
            self.abortHTTPStatus = abortHTTPStatus
            self.abortGRPCStatus = abortGRPCStatus
            self.abortPercent = abortPercent
        }
    }

    public struct RateLimit: Sendable, Hashable, Codable {
        public struct Bucket: Sendable, Hashable, Codable {
            public var requests: Int
            public var fillInterval: Duration

            public init(requests: Int, fillInterval: Duration) {
                self.requests = requests
                self.fillInterval = fillInterval
            }
        }

        /// One descriptor entry an action produces: `key` and, for exact matches, `value`.
        public struct Entry: Sendable, Hashable, Codable {
            public enum Source: Sendable, Hashable, Codable {
                /// A header (or `:path`, `:method`) matches `value`, as exact or regex; `invert` matches when it does not.
                case headerMatch(name: String, value: String, regex: Bool, invert: Bool, prefix: Bool)
                /// The header's value itself (Distinct).
                case headerValue(name: String)
                /// The client address is inside `cidr`.
                case maskedRemoteAddress(cidr: String, invert: Bool)
                /// The client address itself (Distinct CIDR).
                case remoteAddress
                /// A query parameter matches.
                case queryMatch(name: String, value: String, regex: Bool, invert: Bool)
                /// Always the entry's value: a global rule without selectors.
                case genericKey
            }

            public var key: String
            public var value: String?
            public var source: Source

            public init(key: String, value: String?, source: Source) {
                self.key = key
                self.value = value
                self.source = source
            }
        }

        public struct Rule: Sendable, Hashable, Codable {
            public var entries: [Entry]
            public var bucket: Bucket

            public init(entries: [Entry], bucket: Bucket) {
                self.entries = entries
                self.bucket = bucket
            }
        }

        public var defaultBucket: Bucket
        public var rules: [Rule]
        public var headersOff: Bool

        public init(defaultBucket: Bucket, rules: [Rule], headersOff: Bool) {
            self.defaultBucket = defaultBucket
            self.rules = rules
            self.headersOff = headersOff
        }
    }

    public var hashKeys: [HashKey] = []
    public var fault: Fault?
    public var rateLimit: RateLimit?
    public var globalRateLimit: GlobalRateLimit?
    /// `streamIdleTimeout`.
    public var idleTimeout: Duration?
    public var maxStreamDuration: Duration?

    public init() {}
}
