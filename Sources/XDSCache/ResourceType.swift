/// The xDS resource types Switchboard serves, declared in ADS order.
///
/// The order is a protocol rule, not a preference: Envoy must learn a cluster (CDS) and its
/// endpoints (EDS) before a listener (LDS) or route (RDS) points at it, and must forget them in
/// the reverse order (make-before-break). `allCases` is that order. Secrets (SDS) sit with
/// endpoints: Envoy asks for them by name once a cluster or listener needs them, and warms that
/// cluster or listener until they come (it pauses SDS, like EDS, while it applies CDS).
/// `rateLimitConfig` is not Envoy's: envoyproxy/ratelimit fetches its limits over ADS (node
/// `envoy-ratelimit`, as Envoy Gateway serves them), and no Envoy asks for it.
public enum ResourceType: Int, CaseIterable, Sendable, Comparable, CustomStringConvertible {
    case cluster
    case endpoint
    case secret
    case listener
    case route
    case rateLimitConfig

    public var typeURL: String {
        switch self {
        case .cluster: "type.googleapis.com/envoy.config.cluster.v3.Cluster"
        case .endpoint: "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment"
        case .secret: "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret"
        case .listener: "type.googleapis.com/envoy.config.listener.v3.Listener"
        case .route: "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"
        case .rateLimitConfig: "type.googleapis.com/ratelimit.config.ratelimit.v3.RateLimitConfig"
        }
    }

    /// Short name as Envoy's stats and our logs use it (`cds`, `eds`, `sds`, `lds`, `rds`; `rls`
    /// for the rate limit service's configuration).
    public var shortName: String {
        switch self {
        case .cluster: "cds"
        case .endpoint: "eds"
        case .secret: "sds"
        case .listener: "lds"
        case .route: "rds"
        case .rateLimitConfig: "rls"
        }
    }

    public var description: String { shortName }

    /// CDS, LDS and the rate limit configuration are subscribed to as a whole (wildcard); in
    /// state-of-the-world a resource missing from their response is deleted. EDS, SDS and RDS are
    /// subscribed to by name, and a missing name in a state-of-the-world response means nothing.
    public var isWildcardType: Bool { self == .cluster || self == .listener || self == .rateLimitConfig }

    /// The node id envoyproxy/ratelimit presents (Envoy Gateway's `CONFIG_GRPC_XDS_NODE_ID`), and
    /// the node group whose snapshot holds every Gateway's rate limit configuration. Gateways are
    /// `<namespace>/<name>`, so it names none of them.
    public static let rateLimitServiceNode = "envoy-ratelimit"

    public init?(typeURL: String) {
        guard let type = Self.allCases.first(where: { $0.typeURL == typeURL }) else { return nil }
        self = type
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}
