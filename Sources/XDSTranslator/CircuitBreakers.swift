import EnvoyAPI
import GatewayIR
import SwiftProtobuf

/// ClusterPolicy.thresholds → Cluster.circuit_breakers (docs/envoy-gateway-mapping.md §2.6).
enum CircuitBreakers: ClusterFeature {
    typealias Thresholds = Envoy_Config_Cluster_V3_CircuitBreakers.Thresholds

    static func apply(_ backend: BackendCluster, to cluster: inout EnvoyCluster) {
        cluster.circuitBreakers = circuitBreakers(backend.policy.thresholds)
    }

    /// Envoy Gateway always writes one threshold with `max_retries: 1024`; a policy's circuit
    /// breaker sets all four limits (CRD defaults 1024) and the per-endpoint connection limit.
    static func circuitBreakers(_ ir: ClusterPolicy.Thresholds?) -> Envoy_Config_Cluster_V3_CircuitBreakers {
        var breakers = Envoy_Config_Cluster_V3_CircuitBreakers()
        var threshold = Thresholds()
        threshold.maxRetries = Google_Protobuf_UInt32Value(1024)
        if let ir {
            threshold.maxConnections = Google_Protobuf_UInt32Value(UInt32(ir.maxConnections))
            threshold.maxPendingRequests = Google_Protobuf_UInt32Value(UInt32(ir.maxPendingRequests))
            threshold.maxRequests = Google_Protobuf_UInt32Value(UInt32(ir.maxRequests))
            threshold.maxRetries = Google_Protobuf_UInt32Value(UInt32(ir.maxRetries))
            if let percent = ir.retryBudgetPercent {
                threshold.retryBudget.budgetPercent.value = percent
                if let minimum = ir.retryBudgetMinConcurrency, minimum != 3 {
                    threshold.retryBudget.minRetryConcurrency = Google_Protobuf_UInt32Value(UInt32(minimum))
                }
            }
            if let perHost = ir.perHostMaxConnections {
                var host = Thresholds()
                host.maxConnections = Google_Protobuf_UInt32Value(UInt32(perHost))
                breakers.perHostThresholds = [host]
            }
        }
        breakers.thresholds = [threshold]
        return breakers
    }
}
