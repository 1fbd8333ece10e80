/// A route's `parentRefs[]` entry: the Gateway (and listener) it attaches to.
public struct ParentReference: Sendable, Equatable {
    /// The namespace it names, or the route's own.
    public var namespace: String
    public var name: String
    public var sectionName: String?
    public var port: Int?
    /// As written, for status to echo: Gateway API compares a status parentRef with the spec's.
    public var written = Written()

    public struct Written: Sendable, Equatable {
        public var group: String?
        public var kind: String?
        public var namespace: String?

        public init(group: String? = nil, kind: String? = nil, namespace: String? = nil) {
            self.group = group
            self.kind = kind
            self.namespace = namespace
        }
    }

    public init(namespace: String, name: String, sectionName: String?, port: Int?, written: Written = Written()) {
        self.namespace = namespace
        self.name = name
        self.sectionName = sectionName
        self.port = port
        self.written = written
    }

    /// Whether it names a Gateway (group and kind default to Gateway API's Gateway); other
    /// parents (ListenerSet, a mesh Service) are not Switchboard's to serve.
    public var isGateway: Bool {
        (written.group ?? "gateway.networking.k8s.io") == "gateway.networking.k8s.io"
            && (written.kind ?? "Gateway") == "Gateway"
    }

    /// `parentRefs` of a route spec; the namespace defaults to the route's own.
    static func list(_ spec: ObjectReader, namespace: String) -> [ParentReference] {
        spec.objects("parentRefs").compactMap { ref in
            ref.allowOnly(["group", "kind", "namespace", "name", "sectionName", "port"])
            guard let name = ref.string("name", required: true) else { return nil }
            let written = Written(
                group: ref.string("group"), kind: ref.string("kind"), namespace: ref.string("namespace"))
            return ParentReference(
                namespace: written.namespace ?? namespace, name: name, sectionName: ref.string("sectionName"),
                port: ref.int("port", range: 1...65535), written: written)
        }
    }
}

/// A route rule's `backendRefs[]` entry, with the CRD defaults: kind Service, weight 1, and the
/// route's namespace.
public struct BackendReference: Sendable, Equatable {
    public var group: String
    public var kind: String
    public var namespace: String
    public var name: String
    public var port: Int?
    public var weight: Int

    static func list(_ rule: ObjectReader, namespace: String) -> [BackendReference] {
        rule.objects("backendRefs").compactMap { reader in
            reader.allowOnly(["group", "kind", "namespace", "name", "port", "weight", "filters"])
            guard let name = reader.string("name", required: true) else { return nil }
            return BackendReference(
                group: reader.string("group") ?? "", kind: reader.string("kind") ?? "Service",
                namespace: reader.string("namespace") ?? namespace, name: name,
                port: reader.int("port", range: 1...65535),
                weight: reader.int("weight", range: 0...1_000_000) ?? 1)
        }
    }
}
