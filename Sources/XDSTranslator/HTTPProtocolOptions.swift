import EnvoyAPI
import GatewayIR
import SwiftProtobuf

/// The cluster's HTTP protocol options: idle and lifetime limits, requests per connection, the
/// upstream protocol (HTTP/2 settings from `HTTP2`), or the client's own protocol
/// (docs/envoy-gateway-mapping.md §2.8–2.11).
enum HTTPProtocolOptions: ClusterFeature {
    static let extensionName = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"

    static func apply(_ backend: BackendCluster, to cluster: inout EnvoyCluster) throws {
        guard backend.upstreamProtocol == .http1 || backend.upstreamProtocol == .http2 else { return }
        if var options = httpProtocolOptions(
            backend.policy, http2: backend.upstreamProtocol == .http2,
            negotiated: UpstreamTLSSockets.negotiatesHTTP(backend))
        {
            // No SNI of its own: the request's Host is sent as SNI (upstream TLS).
            if UpstreamTLSSockets.requiresAutoSNI(backend) { options.upstreamHTTPProtocolOptions.autoSni = true }
            cluster.typedExtensionProtocolOptions[extensionName] = try .deterministic(options)
        }
    }

    /// `typed_extension_protocol_options[HttpProtocolOptions]`, or nil when Envoy's defaults do.
    /// `negotiated`: every endpoint speaks TLS, and ALPN picks HTTP/2 or HTTP/1.1.
    static func httpProtocolOptions(_ ir: ClusterPolicy, http2: Bool, negotiated: Bool = false)
        -> Envoy_Extensions_Upstreams_Http_V3_HttpProtocolOptions?
    {
        var options = Envoy_Extensions_Upstreams_Http_V3_HttpProtocolOptions()
        var needed = false
        if ir.idleTimeout != nil || ir.maxConnectionDuration != nil || ir.maxRequestsPerConnection != nil {
            var common = Envoy_Config_Core_V3_HttpProtocolOptions()
            if let idle = ir.idleTimeout { common.idleTimeout = Google_Protobuf_Duration(idle) }
            if let lifetime = ir.maxConnectionDuration {
                common.maxConnectionDuration = Google_Protobuf_Duration(lifetime)
            }
            if let requests = ir.maxRequestsPerConnection {
                common.maxRequestsPerConnection = Google_Protobuf_UInt32Value(UInt32(requests))
            }
            options.commonHTTPProtocolOptions = common
            needed = true
        }
        if ir.useClientProtocol {
            var config = Envoy_Extensions_Upstreams_Http_V3_HttpProtocolOptions.UseDownstreamHttpConfig()
            config.httpProtocolOptions = Envoy_Config_Core_V3_Http1ProtocolOptions()
            config.http2ProtocolOptions = HTTP2.options(ir.http2)
            options.useDownstreamProtocolConfig = config
            return options
        }
        if http2 {
            options.explicitHTTPConfig.http2ProtocolOptions = HTTP2.options(ir.http2)
            return options
        }
        if negotiated {
            options.autoConfig.httpProtocolOptions = Envoy_Config_Core_V3_Http1ProtocolOptions()
            options.autoConfig.http2ProtocolOptions = HTTP2.options(ir.http2)
            return options
        }
        guard needed else { return nil }
        options.explicitHTTPConfig.httpProtocolOptions = Envoy_Config_Core_V3_Http1ProtocolOptions()
        return options
    }
}
