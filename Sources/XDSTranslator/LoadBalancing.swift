import EnvoyAPI
import GatewayIR
import SwiftProtobuf

/// ClusterPolicy.balancer → Cluster.load_balancing_policy (typed extensions, never the legacy
/// lb_policy), and RoutePolicy.hashKeys → RouteAction.hash_policy, as Envoy Gateway writes them.
enum LoadBalancing: ClusterFeature, RouteActionFeature {
    static func apply(_ backend: BackendCluster, to cluster: inout EnvoyCluster) throws {
        cluster.loadBalancingPolicy = try policy(backend.policy)
    }

    static func apply(_ route: Route, to action: inout EnvoyRouteAction) {
        action.hashPolicy = hashPolicies(route.policy.hashKeys)
    }

    typealias Policy = Envoy_Config_Cluster_V3_LoadBalancingPolicy
    typealias Locality = Envoy_Extensions_LoadBalancingPolicies_Common_V3_LocalityLbConfig

    static func policy(_ ir: ClusterPolicy) throws -> Policy {
        let inner = try basePolicy(ir, localityWeighted: ir.overrideHeaders.isEmpty)
        guard !ir.overrideHeaders.isEmpty else { return inner }
        // endpointOverride: the chosen policy (without locality settings) is the fallback.
        var override = Envoy_Extensions_LoadBalancingPolicies_OverrideHost_V3_OverrideHost()
        override.overrideHostSources = ir.overrideHeaders.map { header in
            var source = Envoy_Extensions_LoadBalancingPolicies_OverrideHost_V3_OverrideHost.OverrideHostSource()
            source.header = header
            return source
        }
        override.fallbackPolicy = inner
        return try policy("envoy.load_balancing_policies.override_host", override)
    }

    private static func basePolicy(_ ir: ClusterPolicy, localityWeighted: Bool) throws -> Policy {
        var locality = Locality()
        if case .preferLocal(let minimum, let percent, let force) = ir.zoneAware {
            var zoneAware = Locality.ZoneAwareLbConfig()
            zoneAware.minClusterSize = Google_Protobuf_UInt64Value(UInt64(minimum))
            if let percent { zoneAware.routingEnabled.value = Double(percent) }
            if let force { zoneAware.forceLocalZone.minSize = Google_Protobuf_UInt32Value(UInt32(force)) }
            locality.zoneAwareLbConfig = zoneAware
        } else {
            locality.localityWeightedLbConfig = Locality.LocalityWeightedLbConfig()
        }
        var slowStart: Envoy_Extensions_LoadBalancingPolicies_Common_V3_SlowStartConfig?
        if let window = ir.slowStartWindow {
            slowStart = .init()
            slowStart!.slowStartWindow = Google_Protobuf_Duration(window)
        }
        switch ir.balancer {
        case .leastRequest:
            var config = Envoy_Extensions_LoadBalancingPolicies_LeastRequest_V3_LeastRequest()
            if localityWeighted { config.localityLbConfig = locality }
            if let slowStart { config.slowStartConfig = slowStart }
            return try policy("envoy.load_balancing_policies.least_request", config)
        case .roundRobin:
            var config = Envoy_Extensions_LoadBalancingPolicies_RoundRobin_V3_RoundRobin()
            if localityWeighted { config.localityLbConfig = locality }
            if let slowStart { config.slowStartConfig = slowStart }
            return try policy("envoy.load_balancing_policies.round_robin", config)
        case .random:
            var config = Envoy_Extensions_LoadBalancingPolicies_Random_V3_Random()
            if localityWeighted { config.localityLbConfig = locality }
            return try policy("envoy.load_balancing_policies.random", config)
        case .maglev(let tableSize):
            var config = Envoy_Extensions_LoadBalancingPolicies_Maglev_V3_Maglev()
            config.tableSize = Google_Protobuf_UInt64Value(UInt64(tableSize))
            // Maglev ignores locality weights unless zones are weighted.
            if case .weightedZones = ir.zoneAware {
                config.localityWeightedLbConfig = Locality.LocalityWeightedLbConfig()
            }
            return try policy("envoy.load_balancing_policies.maglev", config)
        }
    }

    private static func policy(_ name: String, _ config: some SwiftProtobuf.Message) throws -> Policy {
        var entry = Policy.Policy()
        entry.typedExtensionConfig.name = name
        entry.typedExtensionConfig.typedConfig = try .deterministic(config)
        var policy = Policy()
        policy.policies = [entry]
        return policy
    }

    static func hashPolicies(_ keys: [RoutePolicy.HashKey]) -> [Envoy_Config_Route_V3_RouteAction.HashPolicy] {
        keys.map { key in
            var hash = Envoy_Config_Route_V3_RouteAction.HashPolicy()
            switch key {
            case .sourceIP: hash.connectionProperties.sourceIp = true
            case .header(let name): hash.header.headerName = name
            case .queryParameter(let name): hash.queryParameter.name = name
            case .cookie(let name, let ttl, let attributes):
                hash.cookie.name = name
                if let ttl { hash.cookie.ttl = Google_Protobuf_Duration(ttl) }
                hash.cookie.attributes = attributes.map { attribute in
                    var cookieAttribute = Envoy_Config_Route_V3_RouteAction.HashPolicy.CookieAttribute()
                    cookieAttribute.name = attribute.name
                    cookieAttribute.value = attribute.value
                    return cookieAttribute
                }
            }
            return hash
        }
    }
}
