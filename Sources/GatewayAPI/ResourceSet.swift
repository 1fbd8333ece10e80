/// Everything read from the operator's files, by kind, with every problem found on the way.
/// Invalid objects are left out and reported; valid ones are kept, so one bad file never takes
/// down the rest.
public struct ResourceSet: Sendable {
    public var gatewayClasses: [GatewayClass] = []
    public var gateways: [Gateway] = []
    public var httpRoutes: [HTTPRoute] = []
    public var grpcRoutes: [GRPCRoute] = []
    /// TLSRoutes, TCPRoutes and UDPRoutes.
    public var layer4Routes: [Layer4Route] = []
    public var backends: [Backend] = []
    public var services: [Service] = []
    public var endpointSlices: [EndpointSlice] = []
    public var referenceGrants: [ReferenceGrant] = []
    public var backendTrafficPolicies: [BackendTrafficPolicy] = []
    public var backendTLSPolicies: [BackendTLSPolicy] = []
    public var namespaces: [Namespace] = []
    /// By `<ns>/<name>`.
    public var secrets: [String: Secret] = [:]
    /// The keys of each ConfigMap (`data` and `binaryData`), by `<ns>/<name>`: what a policy's
    /// references into it need (the values are read when a feature uses them).
    public var configMapKeys: [String: Set<String>] = [:]
    /// Each ConfigMap's `data`, by `<ns>/<name>`: CA bundles for BackendTLSPolicy.
    public var configMapData: [String: [String: String]] = [:]
    /// Each ClusterTrustBundle's `spec.trustBundle` (PEM), by name (they have no namespace).
    public var clusterTrustBundles: [String: String] = [:]
    /// Labels and creation times of Gateways and routes, by `<Kind>/<ns>/<name>`: what policy
    /// target selectors and tie-breaks read.
    public var metadata: [String: (labels: [String: String], creationTimestamp: String)] = [:]
    public var diagnostics: [Diagnostic] = []

    public init() {}

    /// Kinds this loader knows. ConfigMaps are kept as their keys (policies reference them for
    /// response bodies) and their `data` (CA bundles), so files written for Envoy Gateway load.
    static let knownKinds: [String: String] = [
        "GatewayClass": "gateway.networking.k8s.io", "Gateway": "gateway.networking.k8s.io",
        "HTTPRoute": "gateway.networking.k8s.io", "GRPCRoute": "gateway.networking.k8s.io",
        "TLSRoute": "gateway.networking.k8s.io", "TCPRoute": "gateway.networking.k8s.io",
        "UDPRoute": "gateway.networking.k8s.io", "BackendTLSPolicy": "gateway.networking.k8s.io",
        "ReferenceGrant": "gateway.networking.k8s.io", "Backend": "gateway.envoyproxy.io",
        "BackendTrafficPolicy": "gateway.envoyproxy.io", "Service": "", "EndpointSlice": "discovery.k8s.io",
        "Secret": "", "Namespace": "", "ConfigMap": "", "ClusterTrustBundle": "certificates.k8s.io",
    ]
}
