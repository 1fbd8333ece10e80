import EnvoyAPI
import GatewayIR
import SwiftProtobuf
import XDSCache

// The seams of the xDS translator. Each Envoy feature is one type in one file that conforms to
// the protocol of the resource it writes, and is named in that resource's list below: no
// self-registration, so the lists are the whole story of what a resource can carry. A feature
// reads only the IR and writes only its own fields.

typealias EnvoyCluster = Envoy_Config_Cluster_V3_Cluster
typealias EnvoyRoute = Envoy_Config_Route_V3_Route
typealias EnvoyRouteAction = Envoy_Config_Route_V3_RouteAction
typealias EnvoyHTTPFilter = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpFilter
typealias HCM = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager

/// Part of an upstream cluster.
protocol ClusterFeature: Sendable {
    static func apply(_ backend: BackendCluster, to cluster: inout EnvoyCluster) throws
}

/// Part of a route that forwards to a cluster (its RouteAction).
protocol RouteActionFeature: Sendable {
    static func apply(_ route: Route, to action: inout EnvoyRouteAction) throws
}

/// Part of every route, whatever its action (headers, per-filter configuration).
protocol RouteFeature: Sendable {
    static func apply(_ route: Route, to envoyRoute: inout EnvoyRoute) throws
}

/// HTTP filters of a listener's connection manager, those the listener needs (global rate
/// limits: one per domain).
protocol HTTPFilterFeature: Sendable {
    static func filters(for listener: HTTPListener) throws -> [EnvoyHTTPFilter]
}

/// An HTTP filter of a listener's connection manager: present when the listener needs it.
protocol SingleHTTPFilterFeature: HTTPFilterFeature {
    static func filter(for listener: HTTPListener) throws -> EnvoyHTTPFilter?
}

extension SingleHTTPFilterFeature {
    static func filters(for listener: HTTPListener) throws -> [EnvoyHTTPFilter] {
        try filter(for: listener).map { [$0] } ?? []
    }
}

/// Part of an HTTP listener: the listener itself or its connection manager.
protocol ListenerFeature: Sendable {
    static func apply(_ ir: HTTPListener, to listener: inout ListenerTranslator.Listener, hcm: inout HCM) throws
}

/// A kind of listener the IR can ask for: its Envoy listeners, and whatever they load (route
/// configurations) as snapshot resources. Listeners of different kinds on one port (HTTPS and
/// TLS) become one Envoy listener (SnapshotTranslator).
protocol ListenerKind: Sendable {
    static func listeners(_ config: GatewayConfig) throws -> [ListenerTranslator.Listener]
    static func resources(_ config: GatewayConfig, memo: inout TranslationMemo) throws -> [Resource]
}

extension ListenerKind {
    static func resources(_ config: GatewayConfig, memo: inout TranslationMemo) throws -> [Resource] { [] }
}

extension ClusterTranslator {
    /// Every cluster feature. Each writes its own fields, except UpstreamTLSSockets, which adds a
    /// placeholder TLS socket only where ProxyProtocol set none: it comes after it. Of an EDS
    /// cluster without upstream TLS, a feature reads only the policy, the upstream protocol and
    /// the source tag: the rest of such clusters is encoded once per policy (`ClusterTemplates`).
    static let features: [any ClusterFeature.Type] = [
        CircuitBreakers.self, LoadBalancing.self, HealthChecking.self, OutlierDetection.self, PanicThreshold.self,
        TCPKeepalive.self, Preconnect.self, ProxyProtocol.self, DNSResolution.self, HTTPProtocolOptions.self,
        SourceMetadata.self, UpstreamTLSSockets.self,
    ]
}

extension RouteTranslator {
    /// Every feature of a forwarding route's action.
    static let actionFeatures: [any RouteActionFeature.Type] = [
        URLRewrite.self, WebSocketUpgrade.self, Timeouts.self, Retries.self, LoadBalancing.self,
    ]

    /// Every feature of a route, whatever its action.
    static let features: [any RouteFeature.Type] = [
        HeaderModifier.self, FaultInjection.self, LocalRateLimit.self, GlobalRateLimitFilter.self, SourceMetadata.self,
    ]
}

extension ListenerTranslator {
    /// The connection manager's HTTP filters, in Envoy Gateway's order; the router is always last.
    static let httpFilters: [any HTTPFilterFeature.Type] = [
        FaultInjection.self, GRPCWeb.self, GRPCStats.self, LocalRateLimit.self, GlobalRateLimitFilter.self,
        Router.self,
    ]

    /// Every other feature of an HTTP listener.
    static let features: [any ListenerFeature.Type] = [AccessLog.self]
}

extension SnapshotTranslator {
    /// Every kind of listener a Gateway can have.
    static let listenerKinds: [any ListenerKind.Type] = [HTTPListeners.self, TCPListeners.self, UDPListeners.self]
}

extension EnvoyHTTPFilter {
    init(name: String, config: some SwiftProtobuf.Message) throws {
        self.init()
        self.name = name
        typedConfig = try .deterministic(config)
    }
}

extension Google_Protobuf_Duration {
    /// Whole seconds and nanoseconds, as protobuf durations are kept: the one conversion from
    /// Swift's Duration the translator uses.
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self.init(seconds: seconds, nanos: Int32(attoseconds / 1_000_000_000))
    }
}
