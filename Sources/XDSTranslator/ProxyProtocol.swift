import EnvoyAPI
import GatewayIR
import SwiftProtobuf

/// ClusterPolicy.proxyProtocol → an upstream PROXY protocol transport socket around the plain one
/// (docs/envoy-gateway-mapping.md §2.12).
enum ProxyProtocol: ClusterFeature {
    static func apply(_ backend: BackendCluster, to cluster: inout EnvoyCluster) throws {
        if let version = backend.policy.proxyProtocol {
            // A cluster negotiating HTTP by ALPN needs a TLS socket even here (UpstreamTLSSockets).
            cluster.transportSocket = try proxyProtocolSocket(
                version: version,
                around: UpstreamTLSSockets.negotiatesHTTP(backend) ? UpstreamTLSSockets.placeholderSocket() : nil)
        }
    }

    /// PROXY protocol wraps the plain socket, or the TLS one of a backendRef that speaks TLS.
    static func proxyProtocolSocket(
        version: ClusterPolicy.ProxyProtocolVersion, around socket: Envoy_Config_Core_V3_TransportSocket? = nil
    ) throws -> Envoy_Config_Core_V3_TransportSocket {
        var inner = Envoy_Config_Core_V3_TransportSocket()
        if let socket {
            inner = socket
        } else {
            inner.name = "envoy.transport_sockets.raw_buffer"
            inner.typedConfig = try .deterministic(Envoy_Extensions_TransportSockets_RawBuffer_V3_RawBuffer())
        }
        var upstream = Envoy_Extensions_TransportSockets_ProxyProtocol_V3_ProxyProtocolUpstreamTransport()
        upstream.config.version = version == .v2 ? .v2 : .v1
        upstream.transportSocket = inner
        var socket = Envoy_Config_Core_V3_TransportSocket()
        socket.name = "envoy.transport_sockets.upstream_proxy_protocol"
        socket.typedConfig = try .deterministic(upstream)
        return socket
    }
}
