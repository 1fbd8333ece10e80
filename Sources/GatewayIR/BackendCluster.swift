/// The effective configuration of one upstream cluster, in Envoy's terms but free of protobuf:
/// what the Gateway translator decided, ready for the xDS translator to write out.
///
/// One cluster per route rule, named as Envoy Gateway names it (`httproute/<ns>/<name>/rule/<i>`).
public struct BackendCluster: Sendable, Hashable, Codable {
    /// How Envoy finds the endpoints.
    public enum Discovery: String, Sendable, Hashable, Codable {
        /// Addresses known to the control plane, sent as a ClusterLoadAssignment over ADS (EDS).
        case endpoints
        /// Host names Envoy resolves itself (a DNS cluster with an inline assignment).
        case dns
    }

    public enum UpstreamProtocol: String, Sendable, Hashable, Codable {
        case http1
        case http2
        /// Whole connections (TCPRoute, TLSRoute): no HTTP options, and TLS without ALPN.
        case tcp
        /// Datagrams (UDPRoute).
        case udp
    }

    /// A cluster's fields but its policy, in one shared box (`CopyOnWrite`): every translation
    /// copies each cluster from the translator's memo into its Gateway's config, and the Envoy
    /// translator fingerprints each. Encoded as the cluster itself, with its policy.
    struct Fields: Sendable, Hashable, Codable {
        var name: String
        var discovery: Discovery
        var upstreamProtocol: UpstreamProtocol
        var groups: [EndpointGroup]
        var metadata: ResourceMetadata?
    }

    private var fields: CopyOnWrite<Fields>
    /// Beside the fields, not in their box: the translator keeps each rule's cluster as resolved
    /// and again with the policy its listener gives it, and with the policy in the box the two
    /// were two boxes of the same fields (2.9 MB at 10000 routes).
    private var policyBox = BackendCluster.noPolicy

    public var name: String {
        get { fields.value.name }
        _modify { yield &fields.value.name }
    }
    public var discovery: Discovery {
        get { fields.value.discovery }
        _modify { yield &fields.value.discovery }
    }
    public var upstreamProtocol: UpstreamProtocol {
        get { fields.value.upstreamProtocol }
        _modify { yield &fields.value.upstreamProtocol }
    }
    /// One group per backendRef, in order: its locality in the load assignment.
    public var groups: [EndpointGroup] {
        get { fields.value.groups }
        _modify { yield &fields.value.groups }
    }
    public var policy: ClusterPolicy {
        get { policyBox.wrappedValue }
        set { policyBox.wrappedValue = newValue }
    }
    /// The policy's box, to share one among equal policies (`OutOfLine`).
    public var sharedPolicy: OutOfLine<ClusterPolicy> {
        get { policyBox }
        set { policyBox = newValue }
    }
    /// The route and rule it serves.
    public var metadata: ResourceMetadata? {
        get { fields.value.metadata }
        _modify { yield &fields.value.metadata }
    }

    public init(
        name: String, discovery: Discovery, upstreamProtocol: UpstreamProtocol = .http1, groups: [EndpointGroup]
    ) {
        fields = CopyOnWrite(
            Fields(name: name, discovery: discovery, upstreamProtocol: upstreamProtocol, groups: groups))
    }

    private enum PolicyKey: String, CodingKey { case policy }

    public init(from decoder: any Decoder) throws {
        fields = CopyOnWrite(try Fields(from: decoder))
        policyBox = try decoder.container(keyedBy: PolicyKey.self).decode(OutOfLine.self, forKey: .policy)
    }

    public func encode(to encoder: any Encoder) throws {
        try fields.value.encode(to: encoder)
        var container = encoder.container(keyedBy: PolicyKey.self)
        try container.encode(policyBox, forKey: .policy)
    }

    /// One box for every cluster without a policy of its own.
    private static let noPolicy = OutOfLine(wrappedValue: ClusterPolicy())
}

/// The endpoints of one backendRef, with the backendRef's weight.
public struct EndpointGroup: Sendable, Hashable, Codable {
    public var weight: Int
    public var endpoints: [Endpoint]
    /// The Service (with its port as section) or Backend the endpoints come from.
    public var metadata: ResourceMetadata?
    /// TLS to these endpoints; nil for plaintext.
    public var tls: UpstreamTLS? {
        get { tlsBox?.wrappedValue }
        set { tlsBox = newValue.map { OutOfLine(wrappedValue: $0) } }
    }
    /// Out of line when there is one: most endpoints are plaintext, and inline it was 128 of the
    /// group's 208 bytes, in every cluster of the IR and the translator's memo.
    private var tlsBox: OutOfLine<UpstreamTLS>?

    public init(weight: Int, endpoints: [Endpoint], metadata: ResourceMetadata? = nil) {
        self.weight = weight
        self.endpoints = endpoints
        self.metadata = metadata
    }

    private enum CodingKeys: String, CodingKey {
        case weight, endpoints, metadata
        case tlsBox = "tls"
    }
}

public struct Endpoint: Sendable, Hashable, Codable {
    /// An IP address, or a host name for DNS clusters.
    public var host: String
    public var port: Int
    /// The endpoint is shutting down: Envoy sends it no new requests.
    public var draining: Bool
    /// The zone it runs in, when known (zone-aware load balancing splits localities by it).
    public var zone: String?

    public init(host: String, port: Int, draining: Bool = false, zone: String? = nil) {
        self.host = host
        self.port = port
        self.draining = draining
        self.zone = zone
    }
}
