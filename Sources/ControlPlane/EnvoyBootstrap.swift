import Foundation

/// The Envoy bootstrap that points an Envoy at Switchboard: everything over one ADS stream, the
/// Gateway named in `node.cluster`.
public struct EnvoyBootstrap: Sendable {
    public var xdsHost: String
    public var xdsPort: Int
    /// `<namespace>/<gateway>`.
    public var gateway: String
    public var nodeID: String
    public var delta: Bool
    public var adminPort: Int

    public init(xdsHost: String, xdsPort: Int, gateway: String, nodeID: String? = nil, delta: Bool = false, adminPort: Int = 19901) {
        self.xdsHost = xdsHost
        self.xdsPort = xdsPort
        self.gateway = gateway
        self.nodeID = nodeID ?? "envoy-" + gateway.split(separator: "/").joined(separator: "-")
        self.delta = delta
        self.adminPort = adminPort
    }

    /// YAML Envoy reads with `-c`. The xDS cluster is STRICT_DNS so a host name (a compose
    /// service, a Kubernetes Service) works as well as an address; gRPC needs HTTP/2.
    public func yaml() -> String {
        """
        node:
          id: \(quoted(nodeID))
          cluster: \(quoted(gateway))
        dynamic_resources:
          ads_config:
            api_type: \(delta ? "DELTA_GRPC" : "GRPC")
            transport_api_version: V3
            set_node_on_first_message_only: true
            grpc_services:
            - envoy_grpc:
                cluster_name: xds_cluster
          cds_config:
            ads: {}
            resource_api_version: V3
          lds_config:
            ads: {}
            resource_api_version: V3
        static_resources:
          clusters:
          - name: xds_cluster
            type: STRICT_DNS
            connect_timeout: 1s
            load_assignment:
              cluster_name: xds_cluster
              endpoints:
              - lb_endpoints:
                - endpoint:
                    address:
                      socket_address: {address: \(quoted(xdsHost)), port_value: \(xdsPort)}
            typed_extension_protocol_options:
              envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
                "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
                explicit_http_config:
                  http2_protocol_options: {}
        admin:
          address:
            socket_address: {address: 127.0.0.1, port_value: \(adminPort)}

        """
    }

    private func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
