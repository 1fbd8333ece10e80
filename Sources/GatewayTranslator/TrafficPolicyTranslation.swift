import GatewayAPI
import GatewayIR

/// A BackendTrafficPolicy's settings → the cluster and route IR, as Envoy Gateway's
/// `clustersettings.go` and route translation decide them (docs/envoy-gateway-mapping.md §2.1–2.14).
enum TrafficPolicyTranslation {
    static func clusterPolicy(_ settings: TrafficSettings, hostname: String) -> ClusterPolicy {
        var policy = ClusterPolicy()
        if let lb = settings.loadBalancer {
            switch lb.type {
            case .roundRobin: policy.balancer = .roundRobin
            case .random: policy.balancer = .random
            case .consistentHash: policy.balancer = .maglev(tableSize: lb.tableSize)
            case .leastRequest, .backendUtilization: policy.balancer = .leastRequest
            }
            policy.slowStartWindow = lb.slowStartWindow?.duration
            policy.overrideHeaders = lb.overrideHeaders
            switch lb.zoneAware {
            case .preferLocal(let minimum, let percent, let force):
                policy.zoneAware = .preferLocal(
                    minClusterSize: minimum, routingEnabledPercent: percent, forceLocalZoneMinSize: force)
            case .weightedZones(let weights): policy.zoneAware = .weightedZones(weights)
            case nil: break
            }
        }
        if let check = settings.healthCheck {
            policy.panicThreshold = check.panicThreshold
            if let active = check.active { policy.healthCheck = healthCheck(active, hostname: hostname) }
            if let passive = check.passive {
                policy.outlierDetection = ClusterPolicy.OutlierDetection(
                    interval: passive.interval.duration, baseEjectionTime: passive.baseEjectionTime.duration,
                    splitExternalLocalOriginErrors: passive.splitExternalLocalOriginErrors,
                    maxEjectionPercent: passive.maxEjectionPercent,
                    consecutiveLocalOriginFailures: passive.consecutiveLocalOriginFailures,
                    consecutive5xx: passive.consecutive5XxErrors,
                    consecutiveGatewayErrors: passive.consecutiveGatewayErrors,
                    failurePercentageThreshold: passive.failurePercentageThreshold,
                    alwaysEjectOne: passive.alwaysEjectOneEndpoint)
            }
        }
        if let breaker = settings.circuitBreaker {
            policy.thresholds = ClusterPolicy.Thresholds(
                maxConnections: breaker.maxConnections, maxPendingRequests: breaker.maxPendingRequests,
                maxRequests: breaker.maxParallelRequests, maxRetries: breaker.maxParallelRetries,
                perHostMaxConnections: breaker.perEndpointMaxConnections,
                retryBudgetPercent: breaker.retryBudget?.percent,
                retryBudgetMinConcurrency: breaker.retryBudget?.minRetryConcurrency)
            policy.maxRequestsPerConnection = breaker.maxRequestsPerConnection
        }
        if let timeout = settings.timeout {
            if let connect = timeout.connectTimeout?.duration { policy.connectTimeout = connect }
            policy.idleTimeout = timeout.connectionIdleTimeout?.duration
            policy.maxConnectionDuration = timeout.maxConnectionDuration?.duration
        }
        if let keepalive = settings.tcpKeepalive {
            policy.keepalive = ClusterPolicy.Keepalive(
                probes: keepalive.probes, idleTime: keepalive.idleTime?.duration, interval: keepalive.interval?.duration
            )
        }
        if let connection = settings.connection {
            if let limit = connection.bufferLimit { policy.bufferLimit = limit }
            policy.preconnectPerEndpoint = connection.perEndpointPercent.map { Double($0) / 100 }
            policy.preconnectPredictive = connection.predictivePercent.map { Double($0) / 100 }
        }
        if let dns = settings.dns {
            if let rate = dns.refreshRate?.duration { policy.dnsRefreshRate = rate }
            if let respect = dns.respectTTL { policy.respectDNSTTL = respect }
            switch dns.lookupFamily {
            case "IPv4": policy.dnsLookupFamily = .v4Only
            case "IPv6": policy.dnsLookupFamily = .v6Only
            case "IPv6Preferred": policy.dnsLookupFamily = .auto
            case "IPv4AndIPv6": policy.dnsLookupFamily = .all
            default: break
            }
        }
        if let http2 = settings.http2 {
            if let size = http2.initialStreamWindowSize { policy.http2.initialStreamWindowSize = size }
            if let size = http2.initialConnectionWindowSize { policy.http2.initialConnectionWindowSize = size }
            policy.http2.maxConcurrentStreams = http2.maxConcurrentStreams
            policy.http2.terminateStreamOnInvalidMessage = http2.onInvalidMessage.map { $0 == "TerminateStream" }
            policy.http2.keepaliveInterval = http2.keepaliveInterval?.duration
            policy.http2.keepaliveTimeout = http2.keepaliveTimeout?.duration
            policy.http2.keepaliveIntervalJitter = http2.keepaliveIntervalJitter
            policy.http2.keepaliveIdleInterval = http2.keepaliveIdleInterval?.duration
        }
        policy.proxyProtocol = settings.proxyProtocol.flatMap(ClusterPolicy.ProxyProtocolVersion.init(rawValue:))
        policy.useClientProtocol = settings.useClientProtocol ?? false
        return policy
    }

    static func healthCheck(_ active: TrafficSettings.HealthCheck.Active, hostname: String) -> ClusterPolicy.HealthCheck
    {
        func payload(_ value: TrafficSettings.Payload?) -> ClusterPolicy.HealthCheck.Payload? {
            guard let value else { return nil }
            if let binary = value.binary { return .binary(binary) }
            return .text(value.text ?? "")
        }
        let kind: ClusterPolicy.HealthCheck.Kind =
            switch active.type {
            case .http:
                .http(
                    host: active.hostname ?? hostname, path: active.path, method: active.method,
                    expected: ranges(active.expectedStatuses.isEmpty ? [200] : active.expectedStatuses),
                    retriable: ranges(active.retriableStatuses), send: payload(active.requestBody),
                    receive: payload(active.expectedResponse))
            case .tcp: .tcp(send: payload(active.tcpSend), receive: payload(active.tcpReceive))
            case .grpc: .grpc(service: active.grpcService ?? "")
            }
        return ClusterPolicy.HealthCheck(
            timeout: active.timeout.duration, interval: active.interval.duration,
            initialJitter: active.initialJitter?.duration,
            unhealthyThreshold: active.unhealthyThreshold, healthyThreshold: active.healthyThreshold, kind: kind,
            port: active.port)
    }

    /// Status codes as sorted, merged half-open ranges: [200, 201, 300] → [200, 202), [300, 301).
    static func ranges(_ codes: [Int]) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        for code in Set(codes).sorted() {
            if let last = ranges.last, last.upperBound == code {
                ranges[ranges.count - 1] = last.lowerBound..<(code + 1)
            } else {
                ranges.append(code..<(code + 1))
            }
        }
        return ranges
    }

    /// The route-level part: retry and request timeout (unless the HTTPRoute rule sets its own,
    /// which wins), hash keys, idle and stream timeouts, faults and local rate limits.
    /// What a policy gives each route of a rule, worked out once per rule rather than per match
    /// and hostname. An invalid policy makes the routes answer 500 instead of half-apply
    /// (Envoy Gateway's rule).
    enum RouteShare {
        case applies(retry: Route.RetryPolicy?, timeout: Duration?, policy: RoutePolicy)
        case invalid

        init(_ effective: (settings: TrafficSettings, problems: [String])) {
            self = effective.problems.isEmpty ? TrafficPolicyTranslation.routeShare(effective.settings) : .invalid
        }

        /// An HTTPRoute rule's own retry and timeout win over the policy's.
        func apply(to route: inout Route) {
            switch self {
            case .applies(let retry, let timeout, let policy):
                if route.retry == nil { route.retry = retry }
                if route.timeout == nil { route.timeout = timeout }
                route.policy = policy
            case .invalid:
                route.action = .directResponse(status: 500)
            }
        }
    }

    static func routeShare(_ settings: TrafficSettings) -> RouteShare {
        var policy = RoutePolicy()
        policy.idleTimeout = settings.timeout?.streamIdleTimeout?.duration
        policy.maxStreamDuration = settings.timeout?.maxStreamDuration?.duration
        if let lb = settings.loadBalancer, lb.type == .consistentHash {
            switch lb.hashKey {
            case .sourceIP: policy.hashKeys = [.sourceIP]
            case .headers(let names): policy.hashKeys = names.map { .header($0) }
            case .queryParams(let names): policy.hashKeys = names.map { .queryParameter($0) }
            case .cookie(let name, let ttl, let attributes):
                let sorted = attributes.keys.sorted().map {
                    RoutePolicy.HashKey.CookieAttribute(name: $0, value: attributes[$0]!)
                }
                policy.hashKeys = [.cookie(name: name, ttl: ttl?.duration, attributes: sorted)]
            case nil: break
            }
        }
        if let fault = settings.faultInjection {
            policy.fault = RoutePolicy.Fault(
                delay: fault.delay?.duration, delayPercent: fault.delayPercentage,
                abortHTTPStatus: fault.abortHTTPStatus,
                abortGRPCStatus: fault.abortGRPCStatus, abortPercent: fault.abortPercentage)
        }
        if let rules = settings.rateLimit?.local { policy.rateLimit = rateLimit(rules) }
        if let rules = settings.rateLimit?.global { policy.globalRateLimit = globalRateLimit(rules) }
        return .applies(
            retry: settings.retry.map(retryPolicy), timeout: settings.timeout?.requestTimeout?.duration, policy: policy)
    }

    /// Triggers and codes sorted and de-duplicated, as Envoy Gateway writes them.
    static func retryPolicy(_ retry: TrafficSettings.Retry) -> Route.RetryPolicy {
        var policy = Route.RetryPolicy()
        policy.numRetries = retry.numRetries
        policy.numAttemptsPerPriority = retry.numAttemptsPerPriority
        if let retryOn = retry.retryOn {
            if !retryOn.triggers.isEmpty { policy.triggers = Array(Set(retryOn.triggers)).sorted() }
            policy.statusCodes = Array(Set(retryOn.statusCodes)).sorted()
        }
        policy.perTryTimeout = retry.perRetryTimeout?.duration
        policy.backOffBase = retry.backOffBase?.duration
        policy.backOffMax = retry.backOffMax?.duration
        return policy
    }

    static func rateLimit(_ rules: [TrafficSettings.RateLimit.Rule]) -> RoutePolicy.RateLimit {
        typealias IR = RoutePolicy.RateLimit
        func bucket(_ rule: TrafficSettings.RateLimit.Rule) -> IR.Bucket {
            IR.Bucket(
                requests: rule.requests,
                fillInterval: .seconds(TrafficSettings.RateLimit.Rule.unitSeconds[rule.unit] ?? 1))
        }
        let base = rules.first { $0.selectors.isEmpty }
        let defaultBucket = base.map(bucket) ?? IR.Bucket(requests: Int(UInt32.max), fillInterval: .seconds(1))
        var irRules: [IR.Rule] = []
        for (index, rule) in rules.filter({ !$0.selectors.isEmpty }).enumerated() {
            var entries: [IR.Entry] = []
            var methods: [(String, Bool)] = []
            var match = 0
            for selector in rule.selectors {
                for header in selector.headers {
                    entries.append(entry(header, key: "rule-\(index)-match-\(match)", query: false))
                    match += 1
                }
                methods += selector.methods
                if let path = selector.path {
                    entries.append(
                        IR.Entry(
                            key: "rule-\(index)-path", value: "rule-\(index)-path",
                            source: .headerMatch(
                                name: ":path", value: path.value, regex: path.type == "RegularExpression",
                                invert: path.invert,
                                prefix: path.type == "PathPrefix")))
                }
                if let cidr = selector.sourceCIDR {
                    entries.append(
                        IR.Entry(
                            key: "rule-\(index)-masked-remote-address", value: cidr.value,
                            source: .maskedRemoteAddress(cidr: cidr.value, invert: cidr.invert)))
                    if cidr.type == "Distinct" {
                        entries.append(
                            IR.Entry(key: "rule-\(index)-remote-address", value: nil, source: .remoteAddress))
                    }
                }
                for param in selector.queryParams {
                    entries.append(entry(param, key: "rule-\(index)-match-\(match)", query: true))
                    match += 1
                }
            }
            // A request has one method: a rule naming several is one descriptor per method.
            let variants: [[IR.Entry]] =
                methods.isEmpty
                ? [entries]
                : methods.map { method, invert in
                    entries + [
                        IR.Entry(
                            key: "rule-\(index)-method", value: "rule-\(index)-method",
                            source: .headerMatch(
                                name: ":method", value: method, regex: false, invert: invert, prefix: false))
                    ]
                }
            for variant in variants {
                irRules.append(
                    IR.Rule(entries: variant, bucket: bucket(rule)))
            }
        }
        return IR(defaultBucket: defaultBucket, rules: irRules, headersOff: base?.xRateLimitHeaders == "Off")
    }

    /// Global rules with Envoy Gateway's descriptor keys: `rule-<n>-match-<m>` for headers, then
    /// query parameters (numbered on after the headers), `rule-<n>-path`, the client address, and
    /// `rule-<n>-match--1` for a rule without selectors; `<n>` counts shared and unshared rules
    /// apart, since they go to different domains. A rule's selectors fold into one. The domain is
    /// set where the route meets its listener.
    static func globalRateLimit(_ rules: [TrafficSettings.RateLimit.Rule]) -> GlobalRateLimit {
        typealias Entry = RoutePolicy.RateLimit.Entry
        var counts = (shared: 0, unshared: 0)
        return GlobalRateLimit(
            domain: "",
            rules: rules.map { rule in
                let index = rule.shared ? counts.shared : counts.unshared
                if rule.shared { counts.shared += 1 } else { counts.unshared += 1 }
                let selectors = rule.selectors
                let headers = selectors.flatMap(\.headers)
                var entries = headers.enumerated().map { match, header in
                    entry(header, key: "rule-\(index)-match-\(match)", query: false)
                }
                // A later selector's path and address replace an earlier one's, as Envoy Gateway folds them.
                if let path = selectors.compactMap(\.path).last {
                    entries.append(
                        Entry(
                            key: "rule-\(index)-path", value: "rule-\(index)-path",
                            source: .headerMatch(
                                name: ":path", value: path.value, regex: path.type == "RegularExpression",
                                invert: path.invert, prefix: path.type == "PathPrefix")))
                }
                if let cidr = selectors.compactMap(\.sourceCIDR).last {
                    let canonical = CIDR.canonical(cidr.value) ?? cidr.value
                    entries.append(
                        Entry(
                            key: "masked_remote_address", value: canonical,
                            source: .maskedRemoteAddress(cidr: canonical, invert: cidr.invert)))
                    if cidr.type == "Distinct" {
                        entries.append(Entry(key: "remote_address", value: nil, source: .remoteAddress))
                    }
                }
                for (offset, param) in selectors.flatMap(\.queryParams).enumerated() {
                    entries.append(entry(param, key: "rule-\(index)-match-\(headers.count + offset)", query: true))
                }
                let methods = selectors.flatMap(\.methods)
                if entries.isEmpty && methods.isEmpty {
                    let key = "rule-\(index)-match--1"
                    entries.append(Entry(key: key, value: key, source: .genericKey))
                }
                // The method comes after the headers; one descriptor per method.
                let descriptors =
                    methods.isEmpty
                    ? [entries]
                    : methods.map { method, invert in
                        var variant = entries
                        variant.insert(
                            Entry(
                                key: "rule-\(index)-method", value: "rule-\(index)-method",
                                source: .headerMatch(
                                    name: ":method", value: method, regex: false, invert: invert, prefix: false)),
                            at: headers.count)
                        return variant
                    }
                var ir = GlobalRateLimit.Rule(
                    name: rule.name, descriptors: descriptors, requests: UInt32(rule.requests),
                    unit: rule.unit.uppercased(), shared: rule.shared,
                    shadowMode: rule.shadowMode, headersOff: rule.xRateLimitHeaders == "Off")
                ir.limitFromMetadata = rule.limitFromMetadata.map {
                    GlobalRateLimit.MetadataKey(namespace: $0.namespace, key: $0.key)
                }
                ir.requestCost = rule.requestCost.map(cost)
                ir.responseCost = rule.responseCost.map(cost)
                return ir
            })
    }

    private static func cost(_ cost: TrafficSettings.RateLimit.Cost) -> GlobalRateLimit.Cost {
        switch cost {
        case .number(let number): .number(number)
        case .metadata(let key): .metadata(GlobalRateLimit.MetadataKey(namespace: key.namespace, key: key.key))
        }
    }

    private static func entry(_ match: TrafficSettings.RateLimit.Match, key: String, query: Bool)
        -> RoutePolicy.RateLimit.Entry
    {
        if match.type == "Distinct" { return .init(key: key, value: nil, source: .headerValue(name: match.name)) }
        let regex = match.type == "RegularExpression"
        let source: RoutePolicy.RateLimit.Entry.Source =
            query
            ? .queryMatch(name: match.name, value: match.value ?? "", regex: regex, invert: match.invert)
            : .headerMatch(
                name: match.name, value: match.value ?? "", regex: regex, invert: match.invert, prefix: false)
        return .init(key: key, value: key, source: source)
    }
}
