import EnvoyAPI
import GatewayIR
import SwiftProtobuf

/// ClusterPolicy.panicThreshold → common_lb_config.healthy_panic_threshold (docs/envoy-gateway-mapping.md §2.5).
enum PanicThreshold: ClusterFeature {
    static func apply(_ backend: BackendCluster, to cluster: inout EnvoyCluster) {
        // Envoy's default is 50%: written only when it differs (Envoy Gateway's rule).
        if let panic = backend.policy.panicThreshold, panic != 50 {
            cluster.commonLbConfig.healthyPanicThreshold.value = Double(panic)
        }
    }
}
