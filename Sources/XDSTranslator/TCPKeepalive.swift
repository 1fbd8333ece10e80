import EnvoyAPI
import GatewayIR
import SwiftProtobuf

/// ClusterPolicy.keepalive → Cluster.upstream_connection_options.tcp_keepalive (docs/envoy-gateway-mapping.md §2.7).
enum TCPKeepalive: ClusterFeature {
    static func apply(_ backend: BackendCluster, to cluster: inout EnvoyCluster) {
        if let keepalive = backend.policy.keepalive {
            cluster.upstreamConnectionOptions.tcpKeepalive = tcpKeepalive(keepalive)
        }
    }

    /// Keepalive times are whole seconds in Envoy's API.
    static func tcpKeepalive(_ ir: ClusterPolicy.Keepalive) -> Envoy_Config_Core_V3_TcpKeepalive {
        var keepalive = Envoy_Config_Core_V3_TcpKeepalive()
        if let probes = ir.probes { keepalive.keepaliveProbes = Google_Protobuf_UInt32Value(UInt32(probes)) }
        if let idle = ir.idleTime {
            keepalive.keepaliveTime = Google_Protobuf_UInt32Value(UInt32(idle.components.seconds))
        }
        if let interval = ir.interval {
            keepalive.keepaliveInterval = Google_Protobuf_UInt32Value(UInt32(interval.components.seconds))
        }
        return keepalive
    }
}
