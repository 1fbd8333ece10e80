import EnvoyAPI
import GatewayIR
import XDSCache

/// Every Gateway's global rate limits as the `RateLimitConfig` resources envoyproxy/ratelimit
/// fetches over ADS (`CONFIG_TYPE=GRPC_XDS_SOTW`, node `envoy-ratelimit`), as Envoy Gateway
/// serves them: one per domain, named for it, holding the descriptor trees of
/// `GlobalRateLimit.serviceDomains`, which Switchboard's own service enforces too.
public enum RateLimitServiceConfig {
    public typealias Config = Ratelimit_Config_Ratelimit_V3_RateLimitConfig
    typealias Descriptor = Ratelimit_Config_Ratelimit_V3_RateLimitDescriptor

    public static func configs(_ gateways: [GatewayConfig]) -> [Config] {
        GlobalRateLimit.serviceDomains(gateways).map { domain, descriptors in
            var config = Config()
            config.name = domain
            config.domain = domain
            config.descriptors = descriptors.map(descriptor)
            return config
        }
    }

    /// The snapshot of the `envoy-ratelimit` node group: every domain's configuration, none when
    /// no Gateway has a global rate limit (a connected service then drops what it had).
    public static func snapshot(_ gateways: [GatewayConfig]) throws -> Snapshot {
        try Snapshot(try configs(gateways).map { try Resource($0) })
    }

    static func descriptor(_ node: GlobalRateLimit.ServiceDescriptor) -> Descriptor {
        var descriptor = Descriptor()
        descriptor.key = node.key
        descriptor.value = node.value ?? ""
        descriptor.shadowMode = node.shadowMode
        if let limit = node.limit {
            descriptor.rateLimit.requestsPerUnit = limit.requests
            descriptor.rateLimit.unit = unit(limit.unit)
        }
        descriptor.descriptors = node.children.map(Self.descriptor)
        return descriptor
    }

    static func unit(_ name: String) -> Ratelimit_Config_Ratelimit_V3_RateLimitUnit {
        switch name {
        case "SECOND": .second
        case "MINUTE": .minute
        case "HOUR": .hour
        case "DAY": .day
        case "WEEK": .week
        case "MONTH": .month
        case "YEAR": .year
        default: .unknown
        }
    }
}
