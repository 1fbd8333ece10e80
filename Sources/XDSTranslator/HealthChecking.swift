import EnvoyAPI
import FoundationEssentials
import GatewayIR
import SwiftProtobuf

/// Active health checks → Cluster.health_checks[0] (docs/envoy-gateway-mapping.md §2.3).
enum HealthChecking: ClusterFeature {
    static func apply(_ backend: BackendCluster, to cluster: inout EnvoyCluster) {
        if let check = backend.policy.healthCheck { cluster.healthChecks = [healthCheck(check)] }
    }

    static func healthCheck(_ ir: ClusterPolicy.HealthCheck) -> Envoy_Config_Core_V3_HealthCheck {
        var check = Envoy_Config_Core_V3_HealthCheck()
        check.timeout = Google_Protobuf_Duration(ir.timeout)
        check.interval = Google_Protobuf_Duration(ir.interval)
        if let jitter = ir.initialJitter { check.initialJitter = Google_Protobuf_Duration(jitter) }
        check.unhealthyThreshold = Google_Protobuf_UInt32Value(UInt32(ir.unhealthyThreshold))
        check.healthyThreshold = Google_Protobuf_UInt32Value(UInt32(ir.healthyThreshold))
        switch ir.kind {
        case .http(let host, let path, let method, let expected, let retriable, let send, let receive):
            var http = Envoy_Config_Core_V3_HealthCheck.HttpHealthCheck()
            http.host = host
            http.path = path
            if let method { http.method = Self.method(method) }
            http.expectedStatuses = expected.map(range)
            http.retriableStatuses = retriable.map(range)
            if let send { http.send = payload(send) }
            if let receive { http.receive = [payload(receive)] }
            check.httpHealthCheck = http
        case .tcp(let send, let receive):
            var tcp = Envoy_Config_Core_V3_HealthCheck.TcpHealthCheck()
            if let send { tcp.send = payload(send) }
            if let receive { tcp.receive = [payload(receive)] }
            check.tcpHealthCheck = tcp
        case .grpc(let service):
            var grpc = Envoy_Config_Core_V3_HealthCheck.GrpcHealthCheck()
            grpc.serviceName = service
            check.grpcHealthCheck = grpc
        }
        return check
    }

    static func method(_ name: String) -> Envoy_Config_Core_V3_RequestMethod {
        switch name {
        case "GET": .get
        case "HEAD": .head
        case "POST": .post
        case "PUT": .put
        case "DELETE": .delete
        case "OPTIONS": .options
        case "TRACE": .trace
        case "PATCH": .patch
        default: .methodUnspecified
        }
    }

    static func range(_ codes: Range<Int>) -> Envoy_Type_V3_Int64Range {
        var range = Envoy_Type_V3_Int64Range()
        range.start = Int64(codes.lowerBound)
        range.end = Int64(codes.upperBound)
        return range
    }

    /// Text payloads are hex in Envoy's API.
    static func payload(_ ir: ClusterPolicy.HealthCheck.Payload) -> Envoy_Config_Core_V3_HealthCheck.Payload {
        var payload = Envoy_Config_Core_V3_HealthCheck.Payload()
        switch ir {
        case .text(let text): payload.text = text.utf8.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        case .binary(let bytes): payload.binary = Data(bytes)
        }
        return payload
    }
}
