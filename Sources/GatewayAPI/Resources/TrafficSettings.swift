import FoundationEssentials

/// What a BackendTrafficPolicy asks of Envoy, every field decoded with the CRD's defaults and
/// limits (docs/envoy-gateway-mapping.md §1.3–1.14). Nil means "not given": the translator then writes Envoy
/// Gateway's defaults.
public struct TrafficSettings: Sendable, Equatable {
    public var loadBalancer: LoadBalancer?
    public var retry: Retry?
    public var healthCheck: HealthCheck?
    public var circuitBreaker: CircuitBreaker?
    public var timeout: Timeout?
    public var tcpKeepalive: TCPKeepalive?
    public var connection: Connection?
    public var dns: DNS?
    public var http2: HTTP2?
    /// `V1` or `V2`.
    public var proxyProtocol: String?
    public var useClientProtocol: Bool?
    public var rateLimit: RateLimit?
    public var faultInjection: FaultInjection?

    /// What this server cannot do for these settings (set by the translator, which knows the
    /// server's options): global rate limits without the rate limit service.
    public var serverProblems: [String] = []

    /// Why Envoy Gateway's translator would refuse these settings, as it words them
    /// (`Retry: baseInterval cannot be set to 0s`): the policy is then Invalid and its routes answer 500.
    public var problems: [String] {
        // In the order Envoy Gateway checks them.
        serverProblems + (rateLimit?.problems ?? []).map { "RateLimit: \($0)" } + bandwidthLimitProblems
            + (loadBalancer?.problems ?? []).map { "LoadBalancer: \($0)" }
            + (retry?.problems ?? []).map { "Retry: \($0)" }
            + (connection?.problems ?? []).map { "BackendConnection: \($0)" } + referenceProblems
            + requestBufferProblems
    }

    /// Envoy's bandwidth filter counts whole KiB per second: less is no limit it can keep.
    /// Envoy Gateway reports the first direction that falls short.
    static func bandwidthProblem(_ bandwidth: ObjectReader) -> String? {
        ["request", "response"].lazy.compactMap { direction -> String? in
            guard let limit = bandwidth.object(direction)?.object("limit"), let bytes = limit.quantity("value") else {
                return nil
            }
            let unit = limit.scalar("unit") ?? "Second"
            let seconds = ["Minute": 60, "Hour": 3600][unit] ?? 1
            guard bytes / (seconds * 1024) == 0 else { return nil }
            return "\(direction): bandwidth limit of \(bytes) bytes per \(unit) is below the minimum of 1 KiB/s"
        }.first
    }

    static let clusterFields = [
        "loadBalancer", "retry", "proxyProtocol", "tcpKeepalive", "healthCheck", "circuitBreaker", "timeout",
        "connection", "dns",
        "http2",
    ]

    /// Fields Switchboard does not translate yet, checked as Envoy Gateway's translator checks
    /// them: a policy it would refuse is refused here too, not waved through with a warning.
    public var bandwidthLimitProblems: [String] = []
    public var requestBufferProblems: [String] = []
    /// References to other resources that do not resolve (a translator finds them: it sees every
    /// resource), in Envoy Gateway's words.
    public var referenceProblems: [String] = []

    public init() {}

    init(_ spec: ObjectReader) {
        if let bandwidth = spec.object("bandwidthLimit") {
            bandwidthLimitProblems = Self.bandwidthProblem(bandwidth).map { ["BandwidthLimit: \($0)"] } ?? []
        }
        if let buffer = spec.object("requestBuffer"), let limit = buffer.quantity("limit"), limit > Self.uint32Max {
            requestBufferProblems = [
                "RequestBuffer: limit value \(Quantity.canonical(limit, binary: buffer.isBinaryQuantity("limit"))) is out of range, must be between 0 and \(Self.uint32Max)"
            ]
        }
        loadBalancer = spec.object("loadBalancer").flatMap(LoadBalancer.init)
        retry = spec.object("retry").map(Retry.init)
        healthCheck = spec.object("healthCheck").map(HealthCheck.init)
        circuitBreaker = spec.object("circuitBreaker").map(CircuitBreaker.init)
        timeout = spec.object("timeout").map(Timeout.init)
        tcpKeepalive = spec.object("tcpKeepalive").map { keepalive in
            keepalive.allowOnly(["probes", "idleTime", "interval"])
            return TCPKeepalive(
                probes: keepalive.int("probes", range: 0...Self.uint32Max), idleTime: keepalive.duration("idleTime"),
                interval: keepalive.duration("interval"))
        }
        connection = spec.object("connection").map(Connection.init)
        dns = spec.object("dns").map { dns in
            dns.allowOnly(
                ["dnsRefreshRate", "respectDnsTtl", "lookupFamily"], aliases: ["refreshRate": "dnsRefreshRate"])
            return DNS(
                refreshRate: dns.duration("dnsRefreshRate"), respectTTL: dns.bool("respectDnsTtl"),
                lookupFamily: dns.oneOf(
                    "lookupFamily", ["IPv4", "IPv6", "IPv4Preferred", "IPv6Preferred", "IPv4AndIPv6"]))
        }
        http2 = spec.object("http2").map(HTTP2.init)
        if let proxy = spec.object("proxyProtocol") {
            proxy.allowOnly(["version"])
            proxyProtocol = proxy.oneOf("version", ["V1", "V2"], required: true)
        }
        useClientProtocol = spec.bool("useClientProtocol")
        rateLimit = spec.object("rateLimit").map(RateLimit.init)
        faultInjection = spec.object("faultInjection").flatMap(FaultInjection.init)
        if let connection, connection.predictivePercent != nil,
            loadBalancer?.type != .random && loadBalancer?.type != .roundRobin
        {
            spec.report(
                "connection", .notAllowed,
                "connection.preconnect.predictivePercent needs loadBalancer.type Random or RoundRobin")
        }
    }

    static let uint32Max = Int(UInt32.max)

    // MARK: Load balancing

    public struct LoadBalancer: Sendable, Equatable {
        public enum Kind: String, Sendable, CaseIterable {
            case consistentHash = "ConsistentHash"
            case leastRequest = "LeastRequest"
            case random = "Random"
            case roundRobin = "RoundRobin"
            case backendUtilization = "BackendUtilization"
        }

        public enum HashKey: Sendable, Equatable {
            case sourceIP
            case headers([String])
            case cookie(name: String, ttl: GatewayAPIDuration?, attributes: [String: String])
            case queryParams([String])
        }

        public var type: Kind
        public var hashKey: HashKey?
        /// Maglev table size, a prime; 65537 by default.
        public var tableSize = 65537
        public var slowStartWindow: GatewayAPIDuration?
        /// Headers whose value names the endpoint to use (`endpointOverride.extractFrom`).
        public var overrideHeaders: [String] = []
        public var zoneAware: ZoneAware?
        public var problems: [String] = []

        public enum ZoneAware: Sendable, Equatable {
            /// Prefer endpoints in Envoy's own zone.
            case preferLocal(minEndpoints: Int, percentEnabled: Int?, forceMinEndpointsInZone: Int?)
            /// Spread traffic over zones by weight (zones not listed weigh 1).
            case weightedZones([String: Int])
        }

        init?(_ reader: ObjectReader) {
            reader.allowOnly(
                [
                    "type", "consistentHash", "backendUtilization", "dynamicModule", "endpointOverride", "slowStart",
                    "zoneAware",
                ],
                aliases: [
                    "policy": "type", "lbPolicy": "type", "ringHash": "consistentHash", "maglev": "consistentHash",
                ])
            guard let type = reader.oneOf("type", Kind.allCases.map(\.rawValue), required: true).flatMap(Kind.init)
            else {
                return nil
            }
            self.type = type
            if type == .backendUtilization { problems.append("BackendUtilization is not supported by Switchboard yet") }
            if let hash = reader.object("consistentHash") {
                if type != .consistentHash {
                    reader.report("consistentHash", .notAllowed, "consistentHash needs type ConsistentHash")
                }
                hash.allowOnly(["type", "header", "headers", "cookie", "queryParams", "tableSize"])
                let kind = hash.oneOf(
                    "type", ["SourceIP", "Header", "Headers", "Cookie", "QueryParams"], required: true)
                switch kind {
                case "SourceIP": hashKey = .sourceIP
                case "Header":
                    hashKey = hash.object("header", required: true).flatMap { header in
                        header.allowOnly(["name"])
                        return header.string("name", required: true, format: .headerName).map { .headers([$0]) }
                    }
                case "Headers":
                    let names = hash.objects("headers", required: true).compactMap { header in
                        header.allowOnly(["name"])
                        return header.string("name", required: true, format: .headerName)
                    }
                    hashKey = .headers(names)
                case "Cookie":
                    hashKey = hash.object("cookie", required: true).flatMap { cookie in
                        cookie.allowOnly(["name", "ttl", "attributes"])
                        return cookie.string("name", required: true, format: .headerName).map {
                            .cookie(name: $0, ttl: cookie.duration("ttl"), attributes: cookie.stringMap("attributes"))
                        }
                    }
                case "QueryParams":
                    let names = hash.objects("queryParams", required: true).compactMap { param in
                        param.allowOnly(["name"])
                        return param.string("name", required: true, format: .text(maxLength: 256))
                    }
                    hashKey = .queryParams(names)
                default: break
                }
                if let size = hash.int("tableSize", range: 2...5_000_011) {
                    tableSize = size
                    if !Self.isPrime(size) { problems.append("ConsistentHash: invalid TableSize value \(size)") }
                }
            } else if type == .consistentHash {
                reader.report("consistentHash", .missingField, "is required when type is ConsistentHash")
            }
            if let slowStart = reader.object("slowStart") {
                slowStart.allowOnly(["window"])
                slowStartWindow = slowStart.duration("window")
                if slowStartWindow == nil, !slowStart.has("window") {
                    slowStart.report("window", .missingField, "is required")
                }
                if type == .random || type == .consistentHash {
                    reader.report("slowStart", .notAllowed, "slowStart works only with RoundRobin and LeastRequest")
                }
            }
            if let override = reader.object("endpointOverride") {
                override.allowOnly(["extractFrom"])
                overrideHeaders = override.objects("extractFrom", required: true).compactMap { source in
                    source.allowOnly(["header"])
                    return source.string("header", required: true)
                }
            }
            if let zone = reader.object("zoneAware") {
                zone.allowOnly(["preferLocal", "weightedZones"])
                if zone.has("preferLocal") && zone.has("weightedZones") {
                    zone.report(nil, .notAllowed, "preferLocal and weightedZones cannot be combined")
                }
                if let local = zone.object("preferLocal") {
                    local.allowOnly(["force", "minEndpointsThreshold", "percentageEnabled"])
                    if type == .consistentHash || type == .backendUtilization {
                        zone.report("preferLocal", .notAllowed, "preferLocal is not allowed with \(type.rawValue)")
                    }
                    var forceMinimum: Int?
                    if let force = local.object("force") {
                        force.allowOnly(["minEndpointsInZoneThreshold"])
                        forceMinimum =
                            force.int("minEndpointsInZoneThreshold", range: 0...TrafficSettings.uint32Max) ?? 1
                    }
                    zoneAware = .preferLocal(
                        minEndpoints: local.int("minEndpointsThreshold", range: 0...Int.max) ?? 6,
                        percentEnabled: local.int("percentageEnabled", range: 0...100),
                        forceMinEndpointsInZone: forceMinimum)
                } else if zone.has("weightedZones") {
                    var weights: [String: Int] = [:]
                    for entry in zone.objects("weightedZones") {
                        entry.allowOnly(["zone", "weight"])
                        if let name = entry.string("zone", required: true),
                            let weight = entry.int("weight", required: true, range: 0...TrafficSettings.uint32Max)
                        {
                            weights[name] = weight
                        }
                    }
                    zoneAware = .weightedZones(weights)
                }
            }
            if reader.has("dynamicModule") {
                reader.report("dynamicModule", .notAllowed, "dynamicModule is not supported by Switchboard")
            }
        }

        static func isPrime(_ n: Int) -> Bool {
            guard n >= 2 else { return false }
            var divisor = 2
            while divisor * divisor <= n {
                if n % divisor == 0 { return false }
                divisor += 1
            }
            return true
        }
    }

    // MARK: Retry

    public struct Retry: Sendable, Equatable {
        public static let triggers = [
            "5xx", "gateway-error", "reset", "reset-before-request", "connect-failure", "retriable-4xx",
            "refused-stream",
            "retriable-status-codes", "cancelled", "deadline-exceeded", "internal", "resource-exhausted", "unavailable",
        ]

        public var numRetries = 2
        public var numAttemptsPerPriority: Int?
        /// Present when `retryOn` was given (even empty): it replaces the default status codes.
        public var retryOn: (triggers: [String], statusCodes: [Int])?
        public var perRetryTimeout: GatewayAPIDuration?
        public var backOffBase: GatewayAPIDuration?
        public var backOffMax: GatewayAPIDuration?
        /// Values the schema allows but Envoy Gateway's translator refuses (the policy is Invalid).
        public var problems: [String] = []

        public static func == (lhs: Self, rhs: Self) -> Bool {
            lhs.numRetries == rhs.numRetries && lhs.numAttemptsPerPriority == rhs.numAttemptsPerPriority
                && lhs.retryOn?.triggers == rhs.retryOn?.triggers
                && lhs.retryOn?.statusCodes == rhs.retryOn?.statusCodes
                && (lhs.retryOn == nil) == (rhs.retryOn == nil) && lhs.perRetryTimeout == rhs.perRetryTimeout
                && lhs.backOffBase == rhs.backOffBase && lhs.backOffMax == rhs.backOffMax
        }

        init(_ reader: ObjectReader) {
            reader.allowOnly(
                ["numRetries", "numAttemptsPerPriority", "retryOn", "perRetry"],
                aliases: [
                    "perRetryTimeout": "perRetry.timeout", "perTryTimeout": "perRetry.timeout",
                    "attempts": "numRetries",
                    "retries": "numRetries", "retryBackOff": "perRetry.backOff", "backoff": "perRetry.backOff",
                ])
            numRetries = reader.int("numRetries", range: 0...Int(Int32.max)) ?? 2
            numAttemptsPerPriority = reader.int("numAttemptsPerPriority", range: 0...Int(Int32.max))
            if reader.value("retryOn")?.kind == .scalar {
                reader.report(
                    "retryOn", .wrongType,
                    "retryOn is an object here: {triggers: [5xx, reset], httpStatusCodes: [503]}, not Envoy's comma-separated list"
                )
            } else if reader.has("retryOn") {
                if let retryOn = reader.object("retryOn") {
                    retryOn.allowOnly(
                        ["triggers", "httpStatusCodes"], aliases: ["retriableStatusCodes": "httpStatusCodes"])
                    let triggers = retryOn.strings("triggers").enumerated().compactMap { index, trigger -> String? in
                        guard Self.triggers.contains(trigger) else {
                            var message =
                                "\"\(trigger)\" is not allowed: must be one of \(Self.triggers.joined(separator: ", "))"
                            if let suggestion = Suggestion.closest(to: trigger, in: Self.triggers) {
                                message += " (did you mean \"\(suggestion)\"?)"
                            }
                            retryOn.report("triggers", .notAllowed, "triggers[\(index)]: \(message)")
                            return nil
                        }
                        return trigger
                    }
                    self.retryOn = (triggers, HTTPStatus.list(retryOn, "httpStatusCodes"))
                }
            }
            if let perRetry = reader.object("perRetry") {
                perRetry.allowOnly(
                    ["timeout", "backOff"], aliases: ["backoff": "backOff", "perTryTimeout": "timeout"])
                perRetryTimeout = perRetry.duration("timeout")
                if let backOff = perRetry.object("backOff") {
                    backOff.allowOnly(["baseInterval", "maxInterval"])
                    backOffBase = backOff.duration("baseInterval")
                    backOffMax = backOff.duration("maxInterval")
                    if backOffBase?.milliseconds == 0 { problems.append("baseInterval cannot be set to 0s") }
                    if backOffMax?.milliseconds == 0 { problems.append("maxInterval cannot be set to 0s") }
                    if let base = backOffBase, let max = backOffMax, max.milliseconds < base.milliseconds {
                        problems.append("maxInterval cannot be less than baseInterval")
                    }
                }
            }
        }
    }

    // MARK: Health checks

    public struct Payload: Sendable, Equatable {
        public var text: String?
        /// Base64 as written in YAML.
        public var binary: [UInt8]?

        static func read(_ reader: ObjectReader?) -> Payload? {
            guard let reader else { return nil }
            reader.allowOnly(["type", "text", "binary"])
            switch reader.oneOf("type", ["Text", "Binary"], required: true) {
            case "Text":
                return Payload(text: reader.string("text", required: true) ?? "", binary: nil)
            case "Binary":
                guard let text = reader.string("binary", required: true) else { return nil }
                guard let bytes = Data(base64Encoded: text).map(Array.init) else {
                    reader.report("binary", .wrongType, "\"\(text)\" is not base64")
                    return nil
                }
                return Payload(text: nil, binary: bytes)
            default:
                return nil
            }
        }
    }

    public struct HealthCheck: Sendable, Equatable {
        public struct Active: Sendable, Equatable {
            public enum Kind: String, Sendable {
                case http = "HTTP"
                case tcp = "TCP"
                case grpc = "GRPC"
            }
            public var timeout = GatewayAPIDuration(milliseconds: 1000)
            public var interval = GatewayAPIDuration(milliseconds: 3000)
            public var initialJitter: GatewayAPIDuration?
            public var unhealthyThreshold = 3
            public var healthyThreshold = 1
            public var type: Kind = .http
            public var hostname: String?
            public var path = "/"
            public var method: String?
            public var expectedStatuses: [Int] = []
            public var retriableStatuses: [Int] = []
            public var expectedResponse: Payload?
            public var requestBody: Payload?
            public var tcpSend: Payload?
            public var tcpReceive: Payload?
            public var grpcService: String?
            public var port: Int?
        }

        public struct Passive: Sendable, Equatable {
            public var splitExternalLocalOriginErrors = false
            public var interval = GatewayAPIDuration(milliseconds: 3000)
            public var consecutiveLocalOriginFailures = 5
            public var consecutiveGatewayErrors: Int?
            public var consecutive5XxErrors = 5
            public var baseEjectionTime = GatewayAPIDuration(milliseconds: 30000)
            public var maxEjectionPercent = 10
            public var failurePercentageThreshold: Int?
            public var alwaysEjectOneEndpoint = false
        }

        public var active: Active?
        public var passive: Passive?
        public var panicThreshold: Int?

        init(_ reader: ObjectReader) {
            reader.allowOnly(
                ["active", "passive", "panicThreshold"],
                aliases: ["outlierDetection": "passive", "http": "active.http"])
            panicThreshold = reader.int("panicThreshold", range: 0...100)
            if let active = reader.object("active") {
                active.allowOnly(
                    [
                        "timeout", "interval", "initialJitter", "unhealthyThreshold", "healthyThreshold", "type",
                        "http", "tcp", "grpc",
                        "overrides", "healthCheckLog",
                    ],
                    aliases: [
                        "path": "http.path", "expectedStatuses": "http.expectedStatuses", "port": "overrides.port",
                    ])
                var check = Active()
                if let timeout = active.duration("timeout") { check.timeout = timeout }
                if let interval = active.duration("interval") { check.interval = interval }
                check.initialJitter = active.duration("initialJitter")
                check.unhealthyThreshold = active.int("unhealthyThreshold", range: 1...TrafficSettings.uint32Max) ?? 3
                check.healthyThreshold = active.int("healthyThreshold", range: 1...TrafficSettings.uint32Max) ?? 1
                let type = active.oneOf("type", ["HTTP", "TCP", "GRPC"], required: true).flatMap(Active.Kind.init)
                check.type = type ?? .http
                if let http = active.object("http") {
                    if type != .http { active.report("http", .notAllowed, "http is allowed only with type HTTP") }
                    http.allowOnly([
                        "hostname", "path", "method", "expectedStatuses", "retriableStatuses", "expectedResponse",
                        "requestBody",
                    ])
                    check.hostname = http.string("hostname")
                    check.path = http.string("path", required: true) ?? "/"
                    check.method = http.oneOf(
                        "method", ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH"])
                    check.expectedStatuses = HTTPStatus.list(http, "expectedStatuses")
                    check.retriableStatuses = HTTPStatus.list(http, "retriableStatuses")
                    check.expectedResponse = Payload.read(http.object("expectedResponse"))
                    check.requestBody = Payload.read(http.object("requestBody"))
                    if check.requestBody != nil, check.method != "POST", check.method != "PUT" {
                        http.report("requestBody", .notAllowed, "requestBody needs method POST or PUT")
                    }
                } else if type == .http {
                    active.report("http", .missingField, "is required when type is HTTP (at least http.path)")
                }
                if let tcp = active.object("tcp") {
                    if type != .tcp { active.report("tcp", .notAllowed, "tcp is allowed only with type TCP") }
                    tcp.allowOnly(["send", "receive"])
                    check.tcpSend = Payload.read(tcp.object("send"))
                    check.tcpReceive = Payload.read(tcp.object("receive"))
                } else if type == .tcp {
                    active.report("tcp", .missingField, "is required when type is TCP")
                }
                if let grpc = active.object("grpc") {
                    if type != .grpc { active.report("grpc", .notAllowed, "grpc is allowed only with type GRPC") }
                    grpc.allowOnly(["service"])
                    check.grpcService = grpc.string("service")
                }
                if let overrides = active.object("overrides") {
                    overrides.allowOnly(["port"])
                    check.port = overrides.int("port", required: true, range: 1...65535)
                }
                self.active = check
            }
            if let passive = reader.object("passive") {
                passive.allowOnly(
                    [
                        "splitExternalLocalOriginErrors", "interval", "consecutiveLocalOriginFailures",
                        "consecutiveGatewayErrors",
                        "consecutive5XxErrors", "baseEjectionTime", "maxEjectionPercent", "failurePercentageThreshold",
                        "alwaysEjectOneEndpoint",
                    ],
                    aliases: [
                        "consecutive5xx": "consecutive5XxErrors", "consecutive5xxErrors": "consecutive5XxErrors",
                        "consecutiveGatewayFailure": "consecutiveGatewayErrors",
                        "alwaysEjectOneHost": "alwaysEjectOneEndpoint",
                    ])
                var check = Passive()
                check.splitExternalLocalOriginErrors = passive.bool("splitExternalLocalOriginErrors") ?? false
                if let interval = passive.duration("interval") { check.interval = interval }
                let uint32 = 0...TrafficSettings.uint32Max
                check.consecutiveLocalOriginFailures = passive.int("consecutiveLocalOriginFailures", range: uint32) ?? 5
                check.consecutiveGatewayErrors = passive.int("consecutiveGatewayErrors", range: uint32)
                check.consecutive5XxErrors = passive.int("consecutive5XxErrors", range: uint32) ?? 5
                if let base = passive.duration("baseEjectionTime") { check.baseEjectionTime = base }
                check.maxEjectionPercent = passive.int("maxEjectionPercent", range: 0...100) ?? 10
                check.failurePercentageThreshold = passive.int("failurePercentageThreshold", range: 0...100)
                check.alwaysEjectOneEndpoint = passive.bool("alwaysEjectOneEndpoint") ?? false
                self.passive = check
            }
        }
    }

    // MARK: Circuit breaker, timeouts, connections

    public struct CircuitBreaker: Sendable, Equatable {
        public var maxConnections = 1024
        public var maxPendingRequests = 1024
        public var maxParallelRequests = 1024
        public var maxParallelRetries = 1024
        public var maxRequestsPerConnection: Int?
        public var perEndpointMaxConnections: Int?
        /// Percent (0–100, fractional allowed) and minimum retry concurrency (default 3).
        public var retryBudget: (percent: Double, minRetryConcurrency: Int)?

        public static func == (lhs: Self, rhs: Self) -> Bool {
            lhs.maxConnections == rhs.maxConnections && lhs.maxPendingRequests == rhs.maxPendingRequests
                && lhs.maxParallelRequests == rhs.maxParallelRequests
                && lhs.maxParallelRetries == rhs.maxParallelRetries
                && lhs.maxRequestsPerConnection == rhs.maxRequestsPerConnection
                && lhs.perEndpointMaxConnections == rhs.perEndpointMaxConnections
                && lhs.retryBudget?.percent == rhs.retryBudget?.percent
                && lhs.retryBudget?.minRetryConcurrency == rhs.retryBudget?.minRetryConcurrency
        }

        init(_ reader: ObjectReader) {
            reader.allowOnly(
                [
                    "maxConnections", "maxPendingRequests", "maxParallelRequests", "maxParallelRetries",
                    "maxRequestsPerConnection",
                    "perEndpoint", "retryBudget",
                ],
                aliases: [
                    "maxRequests": "maxParallelRequests", "maxRetries": "maxParallelRetries",
                    "maxPendingRequest": "maxPendingRequests", "maxConnection": "maxConnections",
                ])
            let range = 0...TrafficSettings.uint32Max
            maxConnections = reader.int("maxConnections", range: range) ?? 1024
            maxPendingRequests = reader.int("maxPendingRequests", range: range) ?? 1024
            maxParallelRequests = reader.int("maxParallelRequests", range: range) ?? 1024
            maxParallelRetries = reader.int("maxParallelRetries", range: range) ?? 1024
            maxRequestsPerConnection = reader.int("maxRequestsPerConnection", range: range)
            if let perEndpoint = reader.object("perEndpoint") {
                perEndpoint.allowOnly(["maxConnections"])
                perEndpointMaxConnections = perEndpoint.int("maxConnections", range: range) ?? 1024
            }
            if let budget = reader.object("retryBudget") {
                budget.allowOnly(["percent", "minRetryConcurrency"])
                let percent = budget.object("percent", required: true).flatMap(Fraction.percent)
                let minimum = budget.int("minRetryConcurrency", range: range) ?? 3
                if let percent { retryBudget = (percent, minimum) }
            }
        }
    }

    public struct Timeout: Sendable, Equatable {
        public var connectTimeout: GatewayAPIDuration?
        public var connectionIdleTimeout: GatewayAPIDuration?
        public var maxConnectionDuration: GatewayAPIDuration?
        public var requestTimeout: GatewayAPIDuration?
        public var maxStreamDuration: GatewayAPIDuration?
        public var streamIdleTimeout: GatewayAPIDuration?

        init(_ reader: ObjectReader) {
            reader.allowOnly(
                ["tcp", "http"],
                aliases: [
                    "connectTimeout": "tcp.connectTimeout", "requestTimeout": "http.requestTimeout",
                    "idleTimeout": "http.connectionIdleTimeout", "request": "http.requestTimeout",
                ])
            if let tcp = reader.object("tcp") {
                tcp.allowOnly(["connectTimeout"])
                connectTimeout = tcp.duration("connectTimeout")
            }
            if let http = reader.object("http") {
                http.allowOnly(
                    [
                        "connectionIdleTimeout", "maxConnectionDuration", "requestTimeout", "maxStreamDuration",
                        "streamIdleTimeout",
                    ],
                    aliases: ["idleTimeout": "connectionIdleTimeout", "timeout": "requestTimeout"])
                connectionIdleTimeout = http.duration("connectionIdleTimeout")
                maxConnectionDuration = http.duration("maxConnectionDuration")
                requestTimeout = http.duration("requestTimeout")
                maxStreamDuration = http.duration("maxStreamDuration")
                streamIdleTimeout = http.duration("streamIdleTimeout")
            }
        }
    }

    public struct TCPKeepalive: Sendable, Equatable {
        public var probes: Int?
        public var idleTime: GatewayAPIDuration?
        public var interval: GatewayAPIDuration?
    }

    public struct Connection: Sendable, Equatable {
        public var bufferLimit: Int?
        public var perEndpointPercent: Int?
        public var predictivePercent: Int?
        public var problems: [String] = []

        init(_ reader: ObjectReader) {
            reader.allowOnly(["bufferLimit", "socketBufferLimit", "preconnect"])
            // The CRD takes any quantity; Envoy Gateway's translator refuses one above 32 bits.
            if let limit = reader.quantity("bufferLimit") {
                if limit <= TrafficSettings.uint32Max {
                    bufferLimit = limit
                } else {
                    problems.append(
                        "BufferLimit value \(Quantity.canonical(limit, binary: reader.isBinaryQuantity("bufferLimit"))) is out of range"
                    )
                }
            }
            if let preconnect = reader.object("preconnect") {
                preconnect.allowOnly(["perEndpointPercent", "predictivePercent"])
                perEndpointPercent = preconnect.int("perEndpointPercent", range: 100...300)
                predictivePercent = preconnect.int("predictivePercent", range: 100...TrafficSettings.uint32Max)
            }
        }
    }

    public struct DNS: Sendable, Equatable {
        public var refreshRate: GatewayAPIDuration?
        public var respectTTL: Bool?
        public var lookupFamily: String?
    }

    public struct HTTP2: Sendable, Equatable {
        public var initialStreamWindowSize: Int?
        public var initialConnectionWindowSize: Int?
        public var maxConcurrentStreams: Int?
        /// `TerminateConnection` (the default) or `TerminateStream`.
        public var onInvalidMessage: String?
        public var keepaliveInterval: GatewayAPIDuration?
        public var keepaliveTimeout: GatewayAPIDuration?
        public var keepaliveIntervalJitter: Int?
        public var keepaliveIdleInterval: GatewayAPIDuration?

        init(_ reader: ObjectReader) {
            reader.allowOnly(
                [
                    "initialStreamWindowSize", "initialConnectionWindowSize", "maxConcurrentStreams",
                    "onInvalidMessage",
                    "connectionKeepalive",
                ])
            let window = 65535...2_147_483_647
            initialStreamWindowSize = reader.quantity("initialStreamWindowSize", range: window)
            initialConnectionWindowSize = reader.quantity("initialConnectionWindowSize", range: window)
            maxConcurrentStreams = reader.int("maxConcurrentStreams", range: 1...2_147_483_647)
            onInvalidMessage = reader.oneOf("onInvalidMessage", ["TerminateConnection", "TerminateStream"])
            if let keepalive = reader.object("connectionKeepalive") {
                keepalive.allowOnly(["interval", "timeout", "intervalJitter", "idleInterval"])
                keepaliveInterval = keepalive.duration("interval")
                keepaliveTimeout = keepalive.duration("timeout")
                keepaliveIntervalJitter = keepalive.int("intervalJitter", range: 0...100)
                keepaliveIdleInterval = keepalive.duration("idleInterval")
                if let interval = keepaliveInterval, let timeout = keepaliveTimeout,
                    timeout.milliseconds >= interval.milliseconds
                {
                    keepalive.report("timeout", .outOfRange, "timeout must be shorter than interval")
                }
            }
        }
    }
}

/// HTTP status code lists (`expectedStatuses`, `httpStatusCodes`): each 100–599.
enum HTTPStatus {
    static func list(_ reader: ObjectReader, _ key: String) -> [Int] {
        reader.list(key).enumerated().compactMap { index, node in
            guard let text = node.text, let code = Int(text), (100...599).contains(code) else {
                reader.report(key, .outOfRange, "\(key)[\(index)] must be an HTTP status code from 100 to 599")
                return nil
            }
            return code
        }
    }
}

/// Gateway API `Fraction {numerator, denominator = 100}` as a percentage.
enum Fraction {
    static func percent(_ reader: ObjectReader) -> Double? {
        reader.allowOnly(["numerator", "denominator"])
        guard let numerator = reader.int("numerator", required: true, range: 0...Int(Int32.max)) else { return nil }
        let denominator = reader.int("denominator", range: 1...Int(Int32.max)) ?? 100
        guard numerator <= denominator else {
            reader.report("numerator", .outOfRange, "numerator must not exceed denominator (\(denominator))")
            return nil
        }
        return Double(numerator) * 100 / Double(denominator)
    }
}
