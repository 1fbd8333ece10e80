import FoundationEssentials

/// The Envoy bootstrap that points an Envoy at Switchboard: everything over one ADS stream, the
/// Gateway named in `node.cluster`.
public struct EnvoyBootstrap: Sendable {
    /// Where Switchboard serves ADS, as Envoy reaches it. More than one (replicas without a load
    /// balancer in front) become endpoints of the one xDS cluster; Envoy reconnects to another when
    /// its stream breaks.
    public var xdsAddresses: [XDSAddress]
    /// `<namespace>/<gateway>`.
    public var gateway: String
    public var nodeID: String
    public var delta: Bool
    /// Envoy's admin listener: loopback unless the admin port must be published (a container).
    public var adminHost: String
    public var adminPort: Int
    /// Reach Switchboard over TLS: the CA that signed its certificate, and for mTLS Envoy's own.
    public var tls: TLS?
    /// Envoy pings Switchboard every `interval` (whole seconds; Envoy Gateway's 30 s) and drops a
    /// connection whose answer has not come within `timeout` (5 s), then reconnects, to another
    /// replica if there is one: a control plane that vanished without closing the connection is
    /// noticed. `serve` accepts pings down to `--min-client-ping-interval` (15 s).
    public var keepalive = Keepalive()

    public struct Keepalive: Sendable {
        public var intervalSeconds: Int
        public var timeoutSeconds: Int

        public init(intervalSeconds: Int = 30, timeoutSeconds: Int = 5) {
            self.intervalSeconds = intervalSeconds
            self.timeoutSeconds = timeoutSeconds
        }
    }

    public struct TLS: Sendable {
        public var caPath: String
        public var certificatePath: String?
        public var privateKeyPath: String?

        public init(caPath: String, certificatePath: String? = nil, privateKeyPath: String? = nil) {
            self.caPath = caPath
            self.certificatePath = certificatePath
            self.privateKeyPath = privateKeyPath
        }
    }

    public struct XDSAddress: Sendable {
        public var host: String
        public var port: Int

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }
    }

    public init(
        xdsAddresses: [XDSAddress], gateway: String, nodeID: String? = nil, delta: Bool = false,
        adminHost: String = "127.0.0.1", adminPort: Int = 19901
    ) {
        precondition(!xdsAddresses.isEmpty, "an Envoy bootstrap needs an xDS address")
        self.xdsAddresses = xdsAddresses
        self.gateway = gateway
        self.nodeID = nodeID ?? "envoy-" + gateway.split(separator: "/").joined(separator: "-")
        self.delta = delta
        self.adminHost = adminHost
        self.adminPort = adminPort
    }

    /// The largest HTTP/2 frame Envoy takes from Switchboard (SETTINGS_MAX_FRAME_SIZE, identifier
    /// 5, which Envoy has no named option for). At HTTP/2's default of 16 KiB, a push of 1000
    /// clusters is about 48 DATA frames a stream, and the server's work per frame was most of what
    /// a push cost in user space; at 1 MiB a response is one frame. Measured with the benchmark's
    /// client advertising the same (`ads-load`, 1000 streams, 1000 clusters): server CPU of a push
    /// about a third less.
    public static let maxFrameSize = 1 << 20

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
        \(endpoints)
            typed_extension_protocol_options:
              envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
                "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
                explicit_http_config:
                  http2_protocol_options:
                    custom_settings_parameters: [{identifier: 5, value: \(Self.maxFrameSize)}]
                    connection_keepalive: {interval: \(keepalive.intervalSeconds)s, timeout: \(keepalive.timeoutSeconds)s}
        \(transportSocket)admin:
          address:
            socket_address: {address: \(quoted(adminHost)), port_value: \(adminPort)}

        """
    }

    /// The xDS cluster's endpoints, indented for their place in `yaml()`.
    private var endpoints: String {
        xdsAddresses.map { address in
            """
                    - endpoint:
                        address:
                          socket_address: {address: \(quoted(address.host)), port_value: \(address.port)}
            """
        }.joined(separator: "\n")
    }

    /// The xDS cluster's TLS socket, indented for its place in `yaml()`.
    private var transportSocket: String {
        guard let tls else { return "" }
        var lines = [
            "    transport_socket:",
            "      name: envoy.transport_sockets.tls",
            "      typed_config:",
            "        \"@type\": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
            "        sni: \(quoted(xdsAddresses[0].host))",
            "        common_tls_context:",
            "          validation_context:",
            "            trusted_ca: {filename: \(quoted(tls.caPath))}",
        ]
        if let certificate = tls.certificatePath, let key = tls.privateKeyPath {
            lines += [
                "          tls_certificates:",
                "          - certificate_chain: {filename: \(quoted(certificate))}",
                "            private_key: {filename: \(quoted(key))}",
            ]
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private func quoted(_ text: String) -> String {
        "\"" + text.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"") + "\""
    }
}
