import EnvoyAPI
import GatewayIR
import SwiftProtobuf

/// Envoy Gateway's default access log: a JSON line per request from the connection manager,
/// and one per connection that no route took (response flag `NR`) from the listener itself,
/// both to the same file (`/dev/stdout` unless the server is told otherwise), in its format.
enum AccessLog: ListenerFeature {
    static func apply(_ ir: HTTPListener, to listener: inout ListenerTranslator.Listener, hcm: inout HCM) throws {
        guard let path = ir.accessLogPath else { return }
        var noRoute = try log(path: path)
        noRoute.filter.responseFlagFilter.flags = ["NR"]
        listener.accessLog = [noRoute]
        hcm.accessLog = [try log(path: path)]
    }

    static func log(path: String) throws -> Envoy_Config_Accesslog_V3_AccessLog {
        var file = Envoy_Extensions_AccessLoggers_File_V3_FileAccessLog()
        file.path = path
        var format = Google_Protobuf_Struct()
        format.fields = jsonFormat.mapValues { Google_Protobuf_Value(stringValue: $0) }
        file.logFormat.jsonFormat = format
        var log = Envoy_Config_Accesslog_V3_AccessLog()
        log.name = "envoy.access_loggers.file"
        log.typedConfig = try .deterministic(file)
        return log
    }

    /// Envoy Gateway's default JSON format, field for field, so log pipelines built for it carry over.
    static let jsonFormat: [String: String] = [
        "start_time": "%START_TIME%",
        "method": "%REQ(:METHOD)%",
        "x-envoy-origin-path": "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%",
        "protocol": "%PROTOCOL%",
        "response_code": "%RESPONSE_CODE%",
        "response_flags": "%RESPONSE_FLAGS%",
        "response_code_details": "%RESPONSE_CODE_DETAILS%",
        "connection_termination_details": "%CONNECTION_TERMINATION_DETAILS%",
        "upstream_transport_failure_reason": "%UPSTREAM_TRANSPORT_FAILURE_REASON%",
        "bytes_received": "%BYTES_RECEIVED%",
        "bytes_sent": "%BYTES_SENT%",
        "duration": "%DURATION%",
        "x-envoy-upstream-service-time": "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%",
        "x-forwarded-for": "%REQ(X-FORWARDED-FOR)%",
        "user-agent": "%REQ(USER-AGENT)%",
        "x-request-id": "%REQ(X-REQUEST-ID)%",
        ":authority": "%REQ(:AUTHORITY)%",
        "upstream_host": "%UPSTREAM_HOST%",
        "upstream_cluster": "%UPSTREAM_CLUSTER%",
        "upstream_local_address": "%UPSTREAM_LOCAL_ADDRESS%",
        "downstream_local_address": "%DOWNSTREAM_LOCAL_ADDRESS%",
        "downstream_remote_address": "%DOWNSTREAM_REMOTE_ADDRESS%",
        "requested_server_name": "%REQUESTED_SERVER_NAME%",
        "route_name": "%ROUTE_NAME%",
    ]
}
