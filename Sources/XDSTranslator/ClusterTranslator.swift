import EnvoyAPI
import GatewayIR
import SwiftProtobuf
import XDSCache

/// BackendCluster → Envoy Cluster and ClusterLoadAssignment, with the defaults Envoy Gateway
/// writes for every cluster whether or not a policy applies (docs/envoy-gateway-mapping.md §2.0), so that its
/// users' expectations and dashboards carry over.
public enum ClusterTranslator {
    public typealias Cluster = Envoy_Config_Cluster_V3_Cluster
    public typealias LoadAssignment = Envoy_Config_Endpoint_V3_ClusterLoadAssignment


    public static func cluster(_ backend: BackendCluster) throws -> Cluster {
        let policy = backend.policy
        var cluster = Cluster()
        cluster.name = backend.name
        cluster.connectTimeout = Google_Protobuf_Duration(policy.connectTimeout)
        cluster.perConnectionBufferLimitBytes = Google_Protobuf_UInt32Value(UInt32(policy.bufferLimit))
        cluster.commonLbConfig = Envoy_Config_Cluster_V3_Cluster.CommonLbConfig()
        // Envoy's default is 50%: written only when it differs (Envoy Gateway's rule).
        if let panic = policy.panicThreshold, panic != 50 { cluster.commonLbConfig.healthyPanicThreshold.value = Double(panic) }
        cluster.dnsLookupFamily = lookupFamily(policy.dnsLookupFamily)
        cluster.ignoreHealthOnHostRemoval = true
        cluster.circuitBreakers = UpstreamConnections.circuitBreakers(policy.thresholds)
        cluster.loadBalancingPolicy = try LoadBalancing.policy(policy)
        if let check = policy.healthCheck { cluster.healthChecks = [HealthChecking.healthCheck(check)] }
        if let outlier = policy.outlierDetection { cluster.outlierDetection = HealthChecking.outlierDetection(outlier) }
        if let keepalive = policy.keepalive {
            cluster.upstreamConnectionOptions.tcpKeepalive = UpstreamConnections.tcpKeepalive(keepalive)
        }
        if let ratio = policy.preconnectPerEndpoint { cluster.preconnectPolicy.perUpstreamPreconnectRatio = Google_Protobuf_DoubleValue(ratio) }
        if let ratio = policy.preconnectPredictive { cluster.preconnectPolicy.predictivePreconnectRatio = Google_Protobuf_DoubleValue(ratio) }
        if let version = policy.proxyProtocol { cluster.transportSocket = try UpstreamConnections.proxyProtocolSocket(version: version) }

        switch backend.discovery {
        case .endpoints:
            cluster.type = .eds
            cluster.edsClusterConfig.edsConfig = .adsV3
            cluster.edsClusterConfig.serviceName = backend.name
        case .dns:
            // Envoy resolves the host names itself (the `envoy.cluster.dns` extension that
            // replaced STRICT_DNS); the endpoints travel inline, not over EDS.
            var dns = Envoy_Extensions_Clusters_Dns_V3_DnsCluster()
            dns.dnsRefreshRate = Google_Protobuf_Duration(policy.dnsRefreshRate)
            dns.respectDnsTtl = policy.respectDNSTTL
            dns.dnsLookupFamily =
                switch cluster.dnsLookupFamily {
                case .v4Only: .v4Only
                case .v6Only: .v6Only
                case .auto: .auto
                case .all: .all
                default: .v4Preferred
                }
            cluster.clusterType.name = "envoy.cluster.dns"
            cluster.clusterType.typedConfig = try .deterministic(dns)
            cluster.loadAssignment = loadAssignment(backend)
        }

        if let options = UpstreamConnections.httpProtocolOptions(policy, http2: backend.upstreamProtocol == .http2) {
            cluster.typedExtensionProtocolOptions["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"] =
                try .deterministic(options)
        }
        return cluster
    }

    static func lookupFamily(_ family: ClusterPolicy.DNSLookupFamily) -> Cluster.DnsLookupFamily {
        switch family {
        case .v4Only: .v4Only
        case .v6Only: .v6Only
        case .v4Preferred: .v4Preferred
        case .auto: .auto
        case .all: .all
        }
    }

    /// One locality per backendRef (`<cluster>/backend/<j>`, weighted as the backendRef), each
    /// endpoint weighted 1, as Envoy Gateway writes it. Zone-aware policies split each backendRef
    /// into a locality per zone (`locality.zone`), weighted by zone for `weightedZones`.
    public static func loadAssignment(_ backend: BackendCluster) -> LoadAssignment {
        var assignment = LoadAssignment()
        assignment.clusterName = backend.name
        for (index, group) in backend.groups.enumerated() {
            var zones: [String?] = [nil]
            if backend.policy.zoneAware != nil {
                zones = []
                for endpoint in group.endpoints where !zones.contains(endpoint.zone) { zones.append(endpoint.zone) }
            }
            for zone in zones {
                var locality = Envoy_Config_Endpoint_V3_LocalityLbEndpoints()
                locality.locality.region = "\(backend.name)/backend/\(index)"
                var weight = group.weight
                if let zone {
                    locality.locality.zone = zone
                    if case .weightedZones(let weights) = backend.policy.zoneAware { weight = weights[zone] ?? 1 }
                }
                locality.loadBalancingWeight = Google_Protobuf_UInt32Value(UInt32(weight))
                let endpoints = backend.policy.zoneAware == nil ? group.endpoints : group.endpoints.filter { $0.zone == zone }
                locality.lbEndpoints = endpoints.map { endpoint in
                    var lbEndpoint = Envoy_Config_Endpoint_V3_LbEndpoint()
                    lbEndpoint.endpoint.address.socketAddress.address = endpoint.host
                    lbEndpoint.endpoint.address.socketAddress.portValue = UInt32(endpoint.port)
                    lbEndpoint.loadBalancingWeight = Google_Protobuf_UInt32Value(1)
                    if let port = backend.policy.healthCheck?.port { lbEndpoint.endpoint.healthCheckConfig.portValue = UInt32(port) }
                    if endpoint.draining { lbEndpoint.healthStatus = .draining }
                    return lbEndpoint
                }
                assignment.endpoints.append(locality)
            }
        }
        return assignment
    }

}
