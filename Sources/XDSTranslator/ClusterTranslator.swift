import EnvoyAPI
import GatewayIR
import SwiftProtobuf
import XDSCache

/// BackendCluster → Envoy Cluster and ClusterLoadAssignment, with the defaults Envoy Gateway
/// writes for every cluster whether or not a policy applies (mapping doc §2.0), so that its
/// users' expectations and dashboards carry over.
public enum ClusterTranslator {
    public typealias Cluster = Envoy_Config_Cluster_V3_Cluster
    public typealias LoadAssignment = Envoy_Config_Endpoint_V3_ClusterLoadAssignment

    /// Envoy Gateway's defaults for a cluster no policy touches.
    enum Defaults {
        static let connectTimeoutSeconds: Int64 = 10
        static let perConnectionBufferLimitBytes: UInt32 = 32768
        static let maxRetries: UInt32 = 1024
        static let http2InitialStreamWindowSize: UInt32 = 65536
        static let http2InitialConnectionWindowSize: UInt32 = 1_048_576
    }

    public static func cluster(_ backend: BackendCluster) throws -> Cluster {
        var cluster = Cluster()
        cluster.name = backend.name
        cluster.connectTimeout = Google_Protobuf_Duration(seconds: Defaults.connectTimeoutSeconds)
        cluster.perConnectionBufferLimitBytes = Google_Protobuf_UInt32Value(Defaults.perConnectionBufferLimitBytes)
        cluster.commonLbConfig = Envoy_Config_Cluster_V3_Cluster.CommonLbConfig()
        cluster.dnsLookupFamily = .v4Preferred
        cluster.ignoreHealthOnHostRemoval = true

        var threshold = Envoy_Config_Cluster_V3_CircuitBreakers.Thresholds()
        threshold.maxRetries = Google_Protobuf_UInt32Value(Defaults.maxRetries)
        cluster.circuitBreakers.thresholds = [threshold]

        cluster.loadBalancingPolicy = try leastRequestPolicy()

        switch backend.discovery {
        case .endpoints:
            cluster.type = .eds
            cluster.edsClusterConfig.edsConfig = .adsV3
            cluster.edsClusterConfig.serviceName = backend.name
        case .dns:
            // Envoy resolves the host names itself (the `envoy.cluster.dns` extension that
            // replaced STRICT_DNS); the endpoints travel inline, not over EDS.
            var dns = Envoy_Extensions_Clusters_Dns_V3_DnsCluster()
            dns.dnsRefreshRate = Google_Protobuf_Duration(seconds: 30)
            dns.respectDnsTtl = true
            dns.dnsLookupFamily = .v4Preferred
            cluster.clusterType.name = "envoy.cluster.dns"
            cluster.clusterType.typedConfig = try .deterministic(dns)
            cluster.loadAssignment = loadAssignment(backend)
        }

        if backend.upstreamProtocol == .http2 {
            var options = Envoy_Extensions_Upstreams_Http_V3_HttpProtocolOptions()
            var http2 = Envoy_Config_Core_V3_Http2ProtocolOptions()
            http2.initialStreamWindowSize = Google_Protobuf_UInt32Value(Defaults.http2InitialStreamWindowSize)
            http2.initialConnectionWindowSize = Google_Protobuf_UInt32Value(Defaults.http2InitialConnectionWindowSize)
            options.explicitHTTPConfig.http2ProtocolOptions = http2
            cluster.typedExtensionProtocolOptions["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"] =
                try .deterministic(options)
        }
        return cluster
    }

    /// One locality per backendRef (`<cluster>/backend/<j>`, weighted as the backendRef), each
    /// endpoint weighted 1, as Envoy Gateway writes it.
    public static func loadAssignment(_ backend: BackendCluster) -> LoadAssignment {
        var assignment = LoadAssignment()
        assignment.clusterName = backend.name
        assignment.endpoints = backend.groups.enumerated().map { index, group in
            var locality = Envoy_Config_Endpoint_V3_LocalityLbEndpoints()
            locality.locality.region = "\(backend.name)/backend/\(index)"
            locality.loadBalancingWeight = Google_Protobuf_UInt32Value(UInt32(group.weight))
            locality.lbEndpoints = group.endpoints.map { endpoint in
                var lbEndpoint = Envoy_Config_Endpoint_V3_LbEndpoint()
                lbEndpoint.endpoint.address.socketAddress.address = endpoint.host
                lbEndpoint.endpoint.address.socketAddress.portValue = UInt32(endpoint.port)
                lbEndpoint.loadBalancingWeight = Google_Protobuf_UInt32Value(1)
                if endpoint.draining { lbEndpoint.healthStatus = .draining }
                return lbEndpoint
            }
            return locality
        }
        return assignment
    }

    /// Envoy Gateway's default policy: least request, locality-weighted.
    static func leastRequestPolicy() throws -> Envoy_Config_Cluster_V3_LoadBalancingPolicy {
        var leastRequest = Envoy_Extensions_LoadBalancingPolicies_LeastRequest_V3_LeastRequest()
        leastRequest.localityLbConfig.localityWeightedLbConfig =
            Envoy_Extensions_LoadBalancingPolicies_Common_V3_LocalityLbConfig.LocalityWeightedLbConfig()
        var policy = Envoy_Config_Cluster_V3_LoadBalancingPolicy.Policy()
        policy.typedExtensionConfig.name = "envoy.load_balancing_policies.least_request"
        policy.typedExtensionConfig.typedConfig = try .deterministic(leastRequest)
        var balancing = Envoy_Config_Cluster_V3_LoadBalancingPolicy()
        balancing.policies = [policy]
        return balancing
    }
}
