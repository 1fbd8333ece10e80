/// `TLSRoute`, `TCPRoute` and `UDPRoute` (gateway.networking.k8s.io v1alpha2, and the later
/// versions Envoy Gateway v1.9 reads): routes that send whole connections (or datagrams) to
/// backends, with no request to match. A TLSRoute picks its listener by SNI (`hostnames`).
public struct Layer4Route: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case tls = "TLSRoute"
        case tcp = "TCPRoute"
        case udp = "UDPRoute"
    }

    public struct Rule: Sendable, Equatable {
        public var name: String?
        public var backendRefs: [BackendReference]
    }

    public var kind: Kind
    public var name: String
    public var namespace: String
    public var parentRefs: [ParentReference]
    /// SNI names (TLSRoute only).
    public var hostnames: [String]
    public var rules: [Rule]
    public var location: SourceLocation

    init?(_ object: ManifestObject, kind: Kind) {
        let allowed =
            kind == .tls
            ? ["parentRefs", "hostnames", "rules", "useDefaultGateways"]
            : ["parentRefs", "rules", "useDefaultGateways"]
        guard let spec = object.spec(allowing: allowed) else { return nil }
        self.kind = kind
        name = object.name
        namespace = object.namespace
        location = object.location
        parentRefs = ParentReference.list(spec, namespace: object.namespace)
        hostnames = kind == .tls ? spec.strings("hostnames", format: .hostname(wildcard: true)) : []
        let readers = spec.objects("rules", required: true)
        if readers.count > 16 { spec.report("rules", .outOfRange, "at most 16 rules") }
        rules = readers.map { rule in
            rule.allowOnly(["name", "backendRefs"])
            return Rule(
                name: rule.string("name"), backendRefs: BackendReference.list(rule, namespace: object.namespace))
        }
    }
}
