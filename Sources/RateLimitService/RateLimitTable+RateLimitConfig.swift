import EnvoyAPI

extension RateLimitTable {
    /// The limits in envoyproxy/ratelimit's own configuration messages, read as a stock ratelimit
    /// reads them from xDS: a domain's configurations add up, a descriptor without a value matches
    /// any, a descriptor without a limit only leads to others. The message has no place for a
    /// rule's `xRateLimitHeaders: Off`, so every limit shows in the headers.
    public init(rateLimitConfigs: [Ratelimit_Config_Ratelimit_V3_RateLimitConfig]) {
        var domains: [String: [Node]] = [:]
        for config in rateLimitConfigs { domains[config.domain, default: []] += config.descriptors.map(Node.init) }
        self.init(domains: domains)
    }
}

extension RateLimitTable.Node {
    init(_ descriptor: Ratelimit_Config_Ratelimit_V3_RateLimitDescriptor) {
        // The configuration numbers its units as Envoy's messages do.
        let unit = RateLimit.Unit(number: descriptor.rateLimit.unit.rawValue)
        self.init(
            key: descriptor.key, value: descriptor.value.isEmpty ? nil : descriptor.value,
            limit: descriptor.hasRateLimit
                ? unit.map { RateLimit(requestsPerUnit: descriptor.rateLimit.requestsPerUnit, unit: $0) } : nil,
            shadowMode: descriptor.shadowMode, children: descriptor.descriptors.map(Self.init))
    }
}
