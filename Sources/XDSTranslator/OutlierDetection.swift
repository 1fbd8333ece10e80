import EnvoyAPI
import GatewayIR
import SwiftProtobuf

/// Passive health checks → Cluster.outlier_detection (docs/envoy-gateway-mapping.md §2.4).
enum OutlierDetection: ClusterFeature {
    static func apply(_ backend: BackendCluster, to cluster: inout EnvoyCluster) {
        if let outlier = backend.policy.outlierDetection { cluster.outlierDetection = outlierDetection(outlier) }
    }

    static func outlierDetection(_ ir: ClusterPolicy.OutlierDetection) -> Envoy_Config_Cluster_V3_OutlierDetection {
        var outlier = Envoy_Config_Cluster_V3_OutlierDetection()
        outlier.interval = Google_Protobuf_Duration(ir.interval)
        outlier.baseEjectionTime = Google_Protobuf_Duration(ir.baseEjectionTime)
        outlier.splitExternalLocalOriginErrors = ir.splitExternalLocalOriginErrors
        if ir.maxEjectionPercent > 0 {
            outlier.maxEjectionPercent = Google_Protobuf_UInt32Value(UInt32(ir.maxEjectionPercent))
        }
        outlier.consecutiveLocalOriginFailure = Google_Protobuf_UInt32Value(UInt32(ir.consecutiveLocalOriginFailures))
        outlier.consecutive5Xx = Google_Protobuf_UInt32Value(UInt32(ir.consecutive5xx))
        if let gateway = ir.consecutiveGatewayErrors {
            outlier.consecutiveGatewayFailure = Google_Protobuf_UInt32Value(UInt32(gateway))
            outlier.enforcingConsecutiveGatewayFailure = Google_Protobuf_UInt32Value(100)
        }
        if let threshold = ir.failurePercentageThreshold {
            outlier.failurePercentageThreshold = Google_Protobuf_UInt32Value(UInt32(threshold))
            outlier.enforcingFailurePercentage = Google_Protobuf_UInt32Value(100)
        }
        outlier.alwaysEjectOneHost = Google_Protobuf_BoolValue(ir.alwaysEjectOne)
        return outlier
    }
}
