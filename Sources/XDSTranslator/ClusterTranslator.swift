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
        name(backend, &cluster)
        cluster.connectTimeout = Google_Protobuf_Duration(policy.connectTimeout)
        cluster.perConnectionBufferLimitBytes = Google_Protobuf_UInt32Value(UInt32(policy.bufferLimit))
        cluster.commonLbConfig = Envoy_Config_Cluster_V3_Cluster.CommonLbConfig()
        cluster.ignoreHealthOnHostRemoval = true
        if backend.discovery == .endpoints { cluster.type = .eds }
        for feature in features { try feature.apply(backend, to: &cluster) }
        return cluster
    }

    /// The fields that name a cluster: its name and, for EDS, the load assignment it loads. With
    /// its source tag (SourceMetadata), all that an EDS cluster without upstream TLS does not share
    /// with every other cluster of its policy (`ClusterTemplates`).
    static func name(_ backend: BackendCluster, _ cluster: inout Cluster) {
        cluster.name = backend.name
        if backend.discovery == .endpoints {
            cluster.edsClusterConfig.edsConfig = .adsV3
            cluster.edsClusterConfig.serviceName = backend.name
        }
    }

    /// One locality per backendRef (`<cluster>/backend/<j>`, weighted as the backendRef), each
    /// endpoint weighted 1, as Envoy Gateway writes it. Zone-aware policies split each backendRef
    /// into a locality per zone (`locality.zone`), weighted by zone for `weightedZones`.
    public static func loadAssignment(_ backend: BackendCluster) throws -> LoadAssignment {
        var assignment = LoadAssignment()
        assignment.clusterName = backend.name
        for planned in localities(backend) {
            let group = backend.groups[planned.group]
            var locality = Envoy_Config_Endpoint_V3_LocalityLbEndpoints()
            locality.locality.region = region(backend, planned.group)
            if let metadata = group.metadata {
                try SourceMetadata.attach(metadata, to: &locality, key: SourceMetadata.localityKey)
            }
            if let zone = planned.zone { locality.locality.zone = zone }
            locality.loadBalancingWeight = Google_Protobuf_UInt32Value(UInt32(planned.weight))
            let socketMatch = UpstreamTLSSockets.endpointMetadata(backend, planned.group)
            let healthCheckPort = backend.policy.healthCheck?.port
            locality.lbEndpoints = planned.endpoints.map { endpoint in
                var lbEndpoint = Envoy_Config_Endpoint_V3_LbEndpoint()
                lbEndpoint.endpoint.address.socketAddress.address = endpoint.host
                lbEndpoint.endpoint.address.socketAddress.portValue = UInt32(endpoint.port)
                lbEndpoint.loadBalancingWeight = Google_Protobuf_UInt32Value(1)
                if let healthCheckPort { lbEndpoint.endpoint.healthCheckConfig.portValue = UInt32(healthCheckPort) }
                if endpoint.draining { lbEndpoint.healthStatus = .draining }
                if let socketMatch { lbEndpoint.metadata = socketMatch }
                return lbEndpoint
            }
            assignment.endpoints.append(locality)
        }
        return assignment
    }

    /// One locality of a load assignment: backendRef `group`'s endpoints, or those of one zone.
    struct PlannedLocality {
        var group: Int
        var zone: String?
        var weight: Int
        var endpoints: [Endpoint]
    }

    /// The localities of `backend`'s load assignment, in order: what both the message above and
    /// its encoding by hand (`encodedLoadAssignment`) are made from.
    static func localities(_ backend: BackendCluster) -> [PlannedLocality] {
        var localities: [PlannedLocality] = []
        localities.reserveCapacity(backend.groups.count)
        for (index, group) in backend.groups.enumerated() {
            guard let zoneAware = backend.policy.zoneAware else {
                localities.append(
                    PlannedLocality(group: index, zone: nil, weight: group.weight, endpoints: group.endpoints))
                continue
            }
            var zones: [String?] = []
            for endpoint in group.endpoints where !zones.contains(endpoint.zone) { zones.append(endpoint.zone) }
            for zone in zones {
                var weight = group.weight
                if let zone, case .weightedZones(let weights) = zoneAware { weight = weights[zone] ?? 1 }
                localities.append(
                    PlannedLocality(
                        group: index, zone: zone, weight: weight, endpoints: group.endpoints.filter { $0.zone == zone })
                )
            }
        }
        return localities
    }

    static func region(_ backend: BackendCluster, _ group: Int) -> String { "\(backend.name)/backend/\(group)" }
}
