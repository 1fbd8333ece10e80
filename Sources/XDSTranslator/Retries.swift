import EnvoyAPI
import GatewayIR
import SwiftProtobuf

/// A route's retry policy → RouteAction `retry_policy`: Envoy Gateway's base (connection failures
/// and 503s, twice, on another host) overridden field by field.
enum Retries: RouteActionFeature {
    static let defaultRetryOn = "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes"

    static func apply(_ ir: Route, to action: inout EnvoyRouteAction) throws {
        if let retry = ir.retry { action.retryPolicy = try retryPolicy(retry) }
    }

    static func retryPolicy(_ ir: Route.RetryPolicy) throws -> Envoy_Config_Route_V3_RetryPolicy {
        var policy = Envoy_Config_Route_V3_RetryPolicy()
        policy.retryOn = ir.triggers.map { $0.joined(separator: ",") } ?? defaultRetryOn
        policy.retriableStatusCodes = ir.statusCodes.map(UInt32.init)
        policy.numRetries = Google_Protobuf_UInt32Value(UInt32(ir.numRetries))
        var predicate = Envoy_Config_Route_V3_RetryPolicy.RetryHostPredicate()
        predicate.name = "envoy.retry_host_predicates.previous_hosts"
        predicate.typedConfig = try .deterministic(
            Envoy_Extensions_Retry_Host_PreviousHosts_V3_PreviousHostsPredicate())
        policy.retryHostPredicate = [predicate]
        policy.hostSelectionRetryMaxAttempts = 5
        if let perPriority = ir.numAttemptsPerPriority, perPriority > 0 {
            var config = Envoy_Extensions_Retry_Priority_PreviousPriorities_V3_PreviousPrioritiesConfig()
            config.updateFrequency = Int32(perPriority)
            policy.retryPriority.name = "envoy.retry_priorities.previous_priorities"
            policy.retryPriority.typedConfig = try .deterministic(config)
        }
        if let perTry = ir.perTryTimeout { policy.perTryTimeout = Google_Protobuf_Duration(perTry) }
        if ir.backOffBase != nil || ir.backOffMax != nil {
            if let base = ir.backOffBase { policy.retryBackOff.baseInterval = Google_Protobuf_Duration(base) }
            if let max = ir.backOffMax { policy.retryBackOff.maxInterval = Google_Protobuf_Duration(max) }
        }
        return policy
    }
}
