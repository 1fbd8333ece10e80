import EnvoyAPI
import GatewayIR
import SwiftProtobuf

/// Listeners with a GRPCRoute count gRPC calls per method (`envoy.filters.http.grpc_stats`), as
/// Envoy Gateway configures it.
enum GRPCStats: SingleHTTPFilterFeature {
    static func filter(for listener: HTTPListener) throws -> EnvoyHTTPFilter? {
        guard listener.servesGRPC else { return nil }
        var stats = Envoy_Extensions_Filters_Http_GrpcStats_V3_FilterConfig()
        stats.emitFilterState = true
        stats.statsForAllMethods = Google_Protobuf_BoolValue(true)
        return try EnvoyHTTPFilter(name: "envoy.filters.http.grpc_stats", config: stats)
    }
}
