/// The xDS resource types Switchboard serves, declared in ADS order.
///
/// The order is a protocol rule, not a preference: Envoy must learn a cluster (CDS) and its
/// endpoints (EDS) before a listener (LDS) or route (RDS) points at it, and must forget them in
/// the reverse order (make-before-break). `allCases` is that order. Secrets (SDS) sit with
/// endpoints: Envoy asks for them by name once a cluster or listener needs them, and warms that
/// cluster or listener until they come (it pauses SDS, like EDS, while it applies CDS).
public enum ResourceType: Int, CaseIterable, Sendable, Comparable, CustomStringConvertible {
    case cluster
    case endpoint
    case secret
    case listener
    case route

    public var typeURL: String {
        switch self {
        case .cluster: "type.googleapis.com/envoy.config.cluster.v3.Cluster"
        case .endpoint: "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment"
        case .secret: "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret"
        case .listener: "type.googleapis.com/envoy.config.listener.v3.Listener"
        case .route: "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"
        }
    }

    /// Short name as Envoy's stats and our logs use it (`cds`, `eds`, `sds`, `lds`, `rds`).
    public var shortName: String {
        switch self {
        case .cluster: "cds"
        case .endpoint: "eds"
        case .secret: "sds"
        case .listener: "lds"
        case .route: "rds"
        }
    }

    public var description: String { shortName }

    /// CDS and LDS are subscribed to as a whole (wildcard); in state-of-the-world a resource
    /// missing from their response is deleted. EDS, SDS and RDS are subscribed to by name, and a
    /// missing name in a state-of-the-world response means nothing.
    public var isWildcardType: Bool { self == .cluster || self == .listener }

    public init?(typeURL: String) {
        guard let type = Self.allCases.first(where: { $0.typeURL == typeURL }) else { return nil }
        self = type
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}
