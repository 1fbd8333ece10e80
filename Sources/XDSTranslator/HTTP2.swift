import EnvoyAPI
import GatewayIR
import SwiftProtobuf

/// ClusterPolicy.http2 → the upstream HTTP/2 settings: window sizes, concurrent streams, what an
/// invalid message ends, and connection keepalive pings. Part of the HTTP protocol options.
enum HTTP2 {
    static func options(_ ir: ClusterPolicy.HTTP2) -> Envoy_Config_Core_V3_Http2ProtocolOptions {
        var http2 = Envoy_Config_Core_V3_Http2ProtocolOptions()
        http2.initialStreamWindowSize = Google_Protobuf_UInt32Value(UInt32(ir.initialStreamWindowSize))
        http2.initialConnectionWindowSize = Google_Protobuf_UInt32Value(UInt32(ir.initialConnectionWindowSize))
        if let streams = ir.maxConcurrentStreams {
            http2.maxConcurrentStreams = Google_Protobuf_UInt32Value(UInt32(streams))
        }
        if let terminate = ir.terminateStreamOnInvalidMessage {
            http2.overrideStreamErrorOnInvalidHTTPMessage = Google_Protobuf_BoolValue(terminate)
        }
        if ir.keepaliveInterval != nil || ir.keepaliveTimeout != nil || ir.keepaliveIdleInterval != nil {
            var keepalive = Envoy_Config_Core_V3_KeepaliveSettings()
            if let interval = ir.keepaliveInterval { keepalive.interval = Google_Protobuf_Duration(interval) }
            if let timeout = ir.keepaliveTimeout { keepalive.timeout = Google_Protobuf_Duration(timeout) }
            if let jitter = ir.keepaliveIntervalJitter { keepalive.intervalJitter.value = Double(jitter) }
            if let idle = ir.keepaliveIdleInterval { keepalive.connectionIdleInterval = Google_Protobuf_Duration(idle) }
            http2.connectionKeepalive = keepalive
        }
        return http2
    }
}
