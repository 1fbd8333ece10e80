import EnvoyAPI
import GatewayIR
import SwiftProtobuf

/// Listeners with a GRPCRoute bridge gRPC-Web clients to gRPC (`envoy.filters.http.grpc_web`).
enum GRPCWeb: SingleHTTPFilterFeature {
    static func filter(for listener: HTTPListener) throws -> EnvoyHTTPFilter? {
        listener.servesGRPC
            ? try EnvoyHTTPFilter(
                name: "envoy.filters.http.grpc_web", config: Envoy_Extensions_Filters_Http_GrpcWeb_V3_GrpcWeb())
            : nil
    }
}
