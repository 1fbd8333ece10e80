import EnvoyAPI
import GatewayIR
import SwiftProtobuf

/// ClusterPolicy.preconnect* → Cluster.preconnect_policy: connections opened ahead of requests.
enum Preconnect: ClusterFeature {
    static func apply(_ backend: BackendCluster, to cluster: inout EnvoyCluster) {
        let policy = backend.policy
        if let ratio = policy.preconnectPerEndpoint {
            cluster.preconnectPolicy.perUpstreamPreconnectRatio = Google_Protobuf_DoubleValue(ratio)
        }
        if let ratio = policy.preconnectPredictive {
            cluster.preconnectPolicy.predictivePreconnectRatio = Google_Protobuf_DoubleValue(ratio)
        }
    }
}
