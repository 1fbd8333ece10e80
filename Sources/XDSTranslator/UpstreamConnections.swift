import EnvoyAPI
import GatewayIR
import SwiftProtobuf

/// How Envoy holds connections to a cluster's endpoints: circuit-breaker thresholds, the HTTP
/// protocol options (HTTP/2 settings, idle and lifetime limits, requests per connection, the
/// client's protocol), TCP keepalive, preconnecting and PROXY protocol (docs/envoy-gateway-mapping.md §2.6–2.12).
enum UpstreamConnections {
    typealias Thresholds = Envoy_Config_Cluster_V3_CircuitBreakers.Thresholds

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

    /// `typed_extension_protocol_options[HttpProtocolOptions]`, or nil when Envoy's defaults do.
    static func httpProtocolOptions(_ ir: ClusterPolicy, http2: Bool) -> Envoy_Extensions_Upstreams_Http_V3_HttpProtocolOptions? {
        var options = Envoy_Extensions_Upstreams_Http_V3_HttpProtocolOptions()
        var needed = false
        if ir.idleTimeout != nil || ir.maxConnectionDuration != nil || ir.maxRequestsPerConnection != nil {
            var common = Envoy_Config_Core_V3_HttpProtocolOptions()
            if let idle = ir.idleTimeout { common.idleTimeout = Google_Protobuf_Duration(idle) }
            if let lifetime = ir.maxConnectionDuration { common.maxConnectionDuration = Google_Protobuf_Duration(lifetime) }
            if let requests = ir.maxRequestsPerConnection {
                common.maxRequestsPerConnection = Google_Protobuf_UInt32Value(UInt32(requests))
            }
            options.commonHTTPProtocolOptions = common
            needed = true
        }
        if ir.useClientProtocol {
            var config = Envoy_Extensions_Upstreams_Http_V3_HttpProtocolOptions.UseDownstreamHttpConfig()
            config.httpProtocolOptions = Envoy_Config_Core_V3_Http1ProtocolOptions()
            config.http2ProtocolOptions = http2Options(ir.http2)
            options.useDownstreamProtocolConfig = config
            return options
        }
        if http2 {
            options.explicitHTTPConfig.http2ProtocolOptions = http2Options(ir.http2)
            return options
        }
        guard needed else { return nil }
        options.explicitHTTPConfig.httpProtocolOptions = Envoy_Config_Core_V3_Http1ProtocolOptions()
        return options
    }

    static func http2Options(_ ir: ClusterPolicy.HTTP2) -> Envoy_Config_Core_V3_Http2ProtocolOptions {
        var http2 = Envoy_Config_Core_V3_Http2ProtocolOptions()
        http2.initialStreamWindowSize = Google_Protobuf_UInt32Value(UInt32(ir.initialStreamWindowSize))
        http2.initialConnectionWindowSize = Google_Protobuf_UInt32Value(UInt32(ir.initialConnectionWindowSize))
        if let streams = ir.maxConcurrentStreams { http2.maxConcurrentStreams = Google_Protobuf_UInt32Value(UInt32(streams)) }
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

    /// Keepalive times are whole seconds in Envoy's API.
    static func tcpKeepalive(_ ir: ClusterPolicy.Keepalive) -> Envoy_Config_Core_V3_TcpKeepalive {
        var keepalive = Envoy_Config_Core_V3_TcpKeepalive()
        if let probes = ir.probes { keepalive.keepaliveProbes = Google_Protobuf_UInt32Value(UInt32(probes)) }
        if let idle = ir.idleTime { keepalive.keepaliveTime = Google_Protobuf_UInt32Value(UInt32(idle.components.seconds)) }
        if let interval = ir.interval {
            keepalive.keepaliveInterval = Google_Protobuf_UInt32Value(UInt32(interval.components.seconds))
        }
        return keepalive
    }

    /// PROXY protocol wraps the plain socket.
    static func proxyProtocolSocket(version: ClusterPolicy.ProxyProtocolVersion) throws -> Envoy_Config_Core_V3_TransportSocket {
        var inner = Envoy_Config_Core_V3_TransportSocket()
        inner.name = "envoy.transport_sockets.raw_buffer"
        inner.typedConfig = try .deterministic(Envoy_Extensions_TransportSockets_RawBuffer_V3_RawBuffer())
        var upstream = Envoy_Extensions_TransportSockets_ProxyProtocol_V3_ProxyProtocolUpstreamTransport()
        upstream.config.version = version == .v2 ? .v2 : .v1
        upstream.transportSocket = inner
        var socket = Envoy_Config_Core_V3_TransportSocket()
        socket.name = "envoy.transport_sockets.upstream_proxy_protocol"
        socket.typedConfig = try .deterministic(upstream)
        return socket
    }
}
