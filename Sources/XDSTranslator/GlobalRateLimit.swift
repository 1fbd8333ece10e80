import EnvoyAPI
import GatewayIR
import SwiftProtobuf

/// RoutePolicy.globalRateLimit → Envoy's rate limit filter, as Envoy Gateway writes it: on the
/// listener, one `envoy.filters.http.ratelimit` for the listener's domain and one
/// `envoy.filters.http.ratelimit/<ns>/<policy>` per shared policy, each asking the rate limit
/// service (`ratelimit_cluster`); on each route, `typed_per_filter_config` with the domain and
/// the actions that make its descriptors. The service's limits come from `RateLimitServiceConfig`.
enum GlobalRateLimitFilter: RouteFeature, HTTPFilterFeature {
    static let filterName = "envoy.filters.http.ratelimit"
    static let clusterName = "ratelimit_cluster"
    typealias Config = Envoy_Extensions_Filters_Http_Ratelimit_V3_RateLimit
    typealias PerRoute = Envoy_Extensions_Filters_Http_Ratelimit_V3_RateLimitPerRoute
    typealias RateLimit = Envoy_Config_Route_V3_RateLimit

    /// The filter a domain's rules go through: the listener's own, or a shared policy's.
    static func filterName(sharedDomain: String?) -> String {
        sharedDomain.map { "\(filterName)/\($0)" } ?? filterName
    }

    static func filters(for listener: HTTPListener) throws -> [EnvoyHTTPFilter] {
        guard let service = listener.rateLimitService, listener.usesGlobalRateLimit else { return [] }
        var shared = Set<String>()
        for host in listener.virtualHosts {
            for route in host.routes {
                for rule in route.policy.globalRateLimit?.rules ?? [] where rule.shared {
                    shared.insert(GlobalRateLimit.policyDomain(ofRule: rule.name))
                }
            }
        }
        // By filter name, as Envoy Gateway orders filters of one kind: the listener's own first.
        let domains: [(String, String?)] = [(listener.name, nil)] + shared.sorted().map { ($0, $0) }
        return try domains.map { domain, sharedDomain in
            var config = Config()
            config.domain = domain
            config.rateLimitService.grpcService.envoyGrpc.clusterName = clusterName
            config.rateLimitService.transportApiVersion = .v3
            config.enableXRatelimitHeaders = .draftVersion03
            config.disableXEnvoyRatelimitedHeader = true
            if let timeout = service.timeout { config.timeout = Google_Protobuf_Duration(timeout) }
            config.failureModeDeny = service.failClosed
            return try EnvoyHTTPFilter(name: filterName(sharedDomain: sharedDomain), config: config)
        }
    }

    static func apply(_ ir: Route, to route: inout EnvoyRoute) throws {
        guard let global = ir.policy.globalRateLimit else { return }
        var byFilter: [String: PerRoute] = [:]
        for rule in global.rules {
            let sharedDomain = rule.shared ? GlobalRateLimit.policyDomain(ofRule: rule.name) : nil
            let name = filterName(sharedDomain: sharedDomain)
            byFilter[name, default: PerRoute()].domain = sharedDomain ?? global.domain
            byFilter[name]!.rateLimits += rateLimits(rule, routeName: ir.name)
        }
        for (name, perRoute) in byFilter { route.typedPerFilterConfig[name] = try .deterministic(perRoute) }
    }

    /// One rate limit per descriptor of the rule, and as many again applied when the response is
    /// done when the rule charges a cost on the response.
    static func rateLimits(_ rule: GlobalRateLimit.Rule, routeName: String) -> [RateLimit] {
        let key = rule.shared ? rule.name : routeName
        var genericKey = RateLimit.Action.GenericKey()
        genericKey.descriptorKey = key
        genericKey.descriptorValue = key
        var leading = RateLimit.Action()
        leading.genericKey = genericKey
        let onRequest = rule.descriptors.map { entries in
            var rateLimit = RateLimit()
            rateLimit.actions = [leading] + entries.map(LocalRateLimit.action)
            if let metadata = rule.limitFromMetadata {
                var path = Envoy_Type_Metadata_V3_MetadataKey.PathSegment()
                path.key = metadata.key
                rateLimit.limit.dynamicMetadata.metadataKey.key = metadata.namespace
                rateLimit.limit.dynamicMetadata.metadataKey.path = [path]
            }
            if let cost = rule.requestCost { rateLimit.hitsAddend = hitsAddend(cost) }
            return rateLimit
        }
        guard let responseCost = rule.responseCost else { return onRequest }
        return onRequest
            + onRequest.map { request in
                var response = request
                response.hitsAddend = hitsAddend(responseCost)
                response.applyOnStreamDone = true
                return response
            }
    }

    static func hitsAddend(_ cost: GlobalRateLimit.Cost) -> RateLimit.HitsAddend {
        var addend = RateLimit.HitsAddend()
        switch cost {
        case .number(let number): addend.number = Google_Protobuf_UInt64Value(number)
        case .metadata(let key): addend.format = "%DYNAMIC_METADATA(\(key.namespace):\(key.key))%"
        }
        return addend
    }
}
