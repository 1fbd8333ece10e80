/// What a BackendTrafficPolicy field is when no policy writes it: the CRD's defaults (applied
/// when their parent object is written, as Envoy Gateway's loader and Kubernetes apply them),
/// the values Envoy Gateway's translator writes, and Envoy's own (docs/envoy-gateway-mapping.md).
struct DefaultSetting: Sendable {
    enum When: Sendable {
        /// Whenever the field is not written.
        case always
        /// When the object holding it is written (a CRD default), and `unless` is not.
        case within(String, unless: String? = nil)
        /// When `feature` is not written at all (an Envoy Gateway or Envoy default).
        case absent(String)
    }

    var field: String
    var value: String
    var by: String
    var when: When

    static let crd = "CRD default"
    static let envoyGateway = "Envoy Gateway default"
    static let envoy = "Envoy default"

    /// In the order `explain` lists them, by feature.
    static let catalog: [DefaultSetting] = [
        .init(field: "loadBalancer.type", value: "LeastRequest", by: envoyGateway, when: .absent("loadBalancer")),
        .init(
            field: "loadBalancer.consistentHash.tableSize", value: "65537", by: crd,
            when: .within("loadBalancer.consistentHash")),
        .init(
            field: "loadBalancer.slowStart", value: "none (a new endpoint takes its full share at once)",
            by: envoyGateway, when: .always),
        .init(field: "retry", value: "none (no retries)", by: envoyGateway, when: .absent("retry")),
        .init(field: "retry.numRetries", value: "2", by: crd, when: .within("retry")),
        .init(
            field: "retry.retryOn.triggers",
            value: "[connect-failure, refused-stream, unavailable, cancelled, retriable-status-codes]",
            by: envoyGateway, when: .within("retry")),
        .init(
            field: "retry.retryOn.httpStatusCodes", value: "[503]", by: envoyGateway,
            when: .within("retry", unless: "retry.retryOn")),
        // Envoy Gateway drops the 503 default once retryOn is written.
        .init(field: "retry.retryOn.httpStatusCodes", value: "[]", by: envoyGateway, when: .within("retry.retryOn")),
        .init(
            field: "retry.perRetry.timeout", value: "none (the route's timeout bounds every try)", by: envoy,
            when: .within("retry")),
        .init(field: "retry.perRetry.backOff.baseInterval", value: "25ms", by: envoy, when: .within("retry")),
        .init(
            field: "retry.perRetry.backOff.maxInterval", value: "10 × baseInterval", by: envoy, when: .within("retry")),
        .init(field: "timeout.tcp.connectTimeout", value: "10s", by: envoyGateway, when: .always),
        .init(field: "timeout.http.connectionIdleTimeout", value: "1h", by: envoy, when: .always),
        .init(
            field: "timeout.http.requestTimeout", value: "none (Envoy's route timeout: 15s)", by: envoy, when: .always),
        .init(
            field: "timeout.http.maxConnectionDuration", value: "none (a connection lasts until it is idle)", by: envoy,
            when: .always),
        .init(field: "circuitBreaker.maxConnections", value: "1024", by: envoy, when: .absent("circuitBreaker")),
        .init(field: "circuitBreaker.maxConnections", value: "1024", by: crd, when: .within("circuitBreaker")),
        .init(field: "circuitBreaker.maxPendingRequests", value: "1024", by: envoy, when: .absent("circuitBreaker")),
        .init(field: "circuitBreaker.maxPendingRequests", value: "1024", by: crd, when: .within("circuitBreaker")),
        .init(field: "circuitBreaker.maxParallelRequests", value: "1024", by: envoy, when: .absent("circuitBreaker")),
        .init(field: "circuitBreaker.maxParallelRequests", value: "1024", by: crd, when: .within("circuitBreaker")),
        .init(
            field: "circuitBreaker.maxParallelRetries", value: "1024", by: envoyGateway, when: .absent("circuitBreaker")
        ),
        .init(field: "circuitBreaker.maxParallelRetries", value: "1024", by: crd, when: .within("circuitBreaker")),
        .init(field: "healthCheck.active", value: "none (no active checks)", by: envoyGateway, when: .always),
        .init(field: "healthCheck.active.timeout", value: "1s", by: crd, when: .within("healthCheck.active")),
        .init(field: "healthCheck.active.interval", value: "3s", by: crd, when: .within("healthCheck.active")),
        .init(field: "healthCheck.active.unhealthyThreshold", value: "3", by: crd, when: .within("healthCheck.active")),
        .init(field: "healthCheck.active.healthyThreshold", value: "1", by: crd, when: .within("healthCheck.active")),
        .init(field: "healthCheck.passive", value: "none (no outlier detection)", by: envoyGateway, when: .always),
        .init(field: "healthCheck.passive.interval", value: "3s", by: crd, when: .within("healthCheck.passive")),
        .init(
            field: "healthCheck.passive.baseEjectionTime", value: "30s", by: crd, when: .within("healthCheck.passive")),
        .init(
            field: "healthCheck.passive.maxEjectionPercent", value: "10", by: crd, when: .within("healthCheck.passive")),
        .init(
            field: "healthCheck.passive.consecutive5XxErrors", value: "5", by: crd, when: .within("healthCheck.passive")
        ),
        .init(
            field: "healthCheck.passive.consecutiveLocalOriginFailures", value: "5", by: crd,
            when: .within("healthCheck.passive")),
        .init(field: "healthCheck.panicThreshold", value: "50", by: envoy, when: .always),
        .init(field: "connection.bufferLimit", value: "32768", by: envoy, when: .always),
        .init(field: "tcpKeepalive", value: "none (the OS's keepalive settings)", by: envoyGateway, when: .always),
        .init(field: "dns.dnsRefreshRate", value: "30s", by: envoyGateway, when: .always),
        .init(field: "dns.respectDnsTtl", value: "true", by: envoyGateway, when: .always),
        .init(field: "dns.lookupFamily", value: "IPv4Preferred", by: envoyGateway, when: .always),
        .init(field: "rateLimit", value: "none", by: envoyGateway, when: .absent("rateLimit")),
        .init(field: "faultInjection", value: "none", by: envoyGateway, when: .absent("faultInjection")),
    ]

    /// Whether this default is what applies, given the fields written (`written` holds every
    /// written path and each of its parents).
    func applies(written: Set<String>) -> Bool {
        guard !written.contains(field) else { return false }
        switch when {
        case .always: return !written.contains(where: { $0.hasPrefix(field + ".") })
        case .within(let parent, let unless): return written.contains(parent) && !written.contains(unless ?? "")
        case .absent(let feature): return !written.contains(feature)
        }
    }
}
