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

    /// The fields Envoy Gateway writes for every cluster, then each feature in `features`.
    public static func cluster(_ backend: BackendCluster) throws -> Cluster {
        let policy = backend.policy
        var cluster = Cluster()
        cluster.name = backend.name
        cluster.connectTimeout = Google_Protobuf_Duration(policy.connectTimeout)
        cluster.perConnectionBufferLimitBytes = Google_Protobuf_UInt32Value(UInt32(policy.bufferLimit))
        cluster.commonLbConfig = Envoy_Config_Cluster_V3_Cluster.CommonLbConfig()
        cluster.ignoreHealthOnHostRemoval = true
        if backend.discovery == .endpoints {
            cluster.type = .eds
            cluster.edsClusterConfig.edsConfig = .adsV3
            cluster.edsClusterConfig.serviceName = backend.name
        }
        for feature in features { try feature.apply(backend, to: &cluster) }
        return cluster
    }

    /// One locality per backendRef (`<cluster>/backend/<j>`, weighted as the backendRef), each
    /// endpoint weighted 1, as Envoy Gateway writes it. Zone-aware policies split each backendRef
    /// into a locality per zone (`locality.zone`), weighted by zone for `weightedZones`.
    public static func loadAssignment(_ backend: BackendCluster) throws -> LoadAssignment {
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
                if let metadata = group.metadata {
                    try SourceMetadata.attach(metadata, to: &locality, key: SourceMetadata.localityKey)
                }
                var weight = group.weight
                if let zone {
                    locality.locality.zone = zone
                    if case .weightedZones(let weights) = backend.policy.zoneAware { weight = weights[zone] ?? 1 }
                }
                locality.loadBalancingWeight = Google_Protobuf_UInt32Value(UInt32(weight))
                let endpoints =
                    backend.policy.zoneAware == nil ? group.endpoints : group.endpoints.filter { $0.zone == zone }
                let socketMatch = UpstreamTLSSockets.endpointMetadata(backend, index)
                locality.lbEndpoints = endpoints.map { endpoint in
                    var lbEndpoint = Envoy_Config_Endpoint_V3_LbEndpoint()
                    lbEndpoint.endpoint.address.socketAddress.address = endpoint.host
                    lbEndpoint.endpoint.address.socketAddress.portValue = UInt32(endpoint.port)
                    lbEndpoint.loadBalancingWeight = Google_Protobuf_UInt32Value(1)
                    if let port = backend.policy.healthCheck?.port {
                        lbEndpoint.endpoint.healthCheckConfig.portValue = UInt32(port)
                    }
                    if endpoint.draining { lbEndpoint.healthStatus = .draining }
                    if let socketMatch { lbEndpoint.metadata = socketMatch }
                    return lbEndpoint
                }
                assignment.endpoints.append(locality)
            }
        }
        return assignment
    }

}
