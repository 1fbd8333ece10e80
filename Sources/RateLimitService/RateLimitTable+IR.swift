import GatewayIR

extension RateLimitTable {
    /// The limits of every global rate limit rule in `configs`, in the trees Envoy Gateway gives
    /// the rate limit service (`GlobalRateLimit.serviceDomains`), the same trees Switchboard serves
    /// a stock envoyproxy/ratelimit over xDS.
    public init(_ configs: [GatewayConfig]) {
        var domains: [String: [Node]] = [:]
        for (domain, descriptors) in GlobalRateLimit.serviceDomains(configs) {
            domains[domain] = descriptors.map(Node.init)
        }
        self.init(domains: domains)
    }
}

extension RateLimitTable.Node {
    init(_ descriptor: GlobalRateLimit.ServiceDescriptor) {
        self.init(
            key: descriptor.key, value: descriptor.value,
            limit: descriptor.limit.flatMap { limit in
                RateLimit.Unit(rawValue: limit.unit).map { RateLimit(requestsPerUnit: limit.requests, unit: $0) }
            },
            shadowMode: descriptor.shadowMode, headersOff: descriptor.headersOff,
            children: descriptor.children.map(Self.init))
    }
}
