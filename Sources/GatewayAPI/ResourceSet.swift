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

    /// Parses and decodes `files` (path, contents), in the given order.
    public static func load(_ files: [(path: String, contents: String)]) -> ResourceSet {
        var set = ResourceSet()
        var seen: [String: SourceLocation] = [:]
        for file in files {
            let parsed = ManifestParser.parse(file.contents, file: file.path)
            for object in parsed.objects {
                guard let group = knownKinds[object.kind] else {
                    var message = "unknown kind \"\(object.kind)\""
                    if let suggestion = Suggestion.closest(to: object.kind, in: knownKinds.keys) {
                        message += " (did you mean \"\(suggestion)\"?)"
                    }
                    parsed.context.report(at: object.location, .unknownKind, "kind", message)
                    continue
                }
                let apiGroup = object.apiVersion.split(separator: "/").dropLast().joined(separator: "/")
                if apiGroup != group {
                    let expected = group.isEmpty ? "v1" : "\(group)/<version>"
                    parsed.context.report(
                        at: object.location, .notAllowed, "apiVersion",
                        "\(object.kind) belongs to apiVersion \(expected), not \"\(object.apiVersion)\"")
                    continue
                }
                let key = "\(object.kind)/\(object.namespace)/\(object.name)"
                if let first = seen[key] {
                    parsed.context.report(
                        at: object.location, .duplicateName, "metadata.name",
                        "\(object.kind) \(object.namespace)/\(object.name) is already defined at \(first)")
                    continue
                }
                seen[key] = object.location
                set.metadata[key] = (object.labels, object.creationTimestamp)
                switch object.kind {
                case "GatewayClass":
                    if let gatewayClass = GatewayClass(object) { set.gatewayClasses.append(gatewayClass) }
                case "GRPCRoute":
                    if let route = GRPCRoute(object) { set.grpcRoutes.append(route) }
                case "Gateway":
                    if let gateway = Gateway(object) { set.gateways.append(gateway) }
                case "HTTPRoute":
                    if let route = HTTPRoute(object) { set.httpRoutes.append(route) }
                case "TLSRoute", "TCPRoute", "UDPRoute":
                    if let kind = Layer4Route.Kind(rawValue: object.kind), let route = Layer4Route(object, kind: kind) {
                        set.layer4Routes.append(route)
                    }
                case "Backend":
                    if let backend = Backend(object) { set.backends.append(backend) }
                case "Service":
                    if let service = Service(object) { set.services.append(service) }
                case "EndpointSlice":
                    if let slice = EndpointSlice(object) { set.endpointSlices.append(slice) }
                case "Secret":
                    let secret = Secret(object)
                    set.secrets["\(secret.namespace)/\(secret.name)"] = secret
                case "Namespace":
                    set.namespaces.append(Namespace(object))
                case "ConfigMap":
                    let data = object.fields.stringMap("data")
                    set.configMapKeys["\(object.namespace)/\(object.name)"] = Set(data.keys).union(
                        object.fields.stringMap("binaryData").keys)
                    set.configMapData["\(object.namespace)/\(object.name)"] = data
                case "ClusterTrustBundle":
                    if let spec = object.spec(allowing: ["trustBundle", "signerName"]),
                        let bundle = spec.string("trustBundle", required: true)
                    {
                        set.clusterTrustBundles[object.name] = bundle
                    }
                case "BackendTLSPolicy":
                    // Like a BackendTrafficPolicy: a policy with a schema error is left out whole.
                    let before = parsed.context.diagnostics.count
                    if let policy = BackendTLSPolicy(object), parsed.context.diagnostics.count == before {
                        set.backendTLSPolicies.append(policy)
                    }
                case "ReferenceGrant":
                    if let grant = ReferenceGrant(object) { set.referenceGrants.append(grant) }
                case "BackendTrafficPolicy":
                    // A policy with a schema error is left out whole, as the API server would
                    // refuse it: half a policy must never reach Envoy.
                    let before = parsed.context.diagnostics.count
                    if let policy = BackendTrafficPolicy(object), parsed.context.diagnostics.count == before {
                        set.backendTrafficPolicies.append(policy)
                    }
                default:
                    break
                }
            }
            set.diagnostics += parsed.diagnostics
        }
        set.diagnostics.sort()
        return set
    }
}
