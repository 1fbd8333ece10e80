/// A route's `parentRefs[]` entry: the Gateway (and listener) it attaches to.
public struct ParentReference: Sendable, Equatable {
    public var namespace: String
    public var name: String
    public var sectionName: String?
    public var port: Int?

    /// `parentRefs` of a route spec; the namespace defaults to the route's own.
    static func list(_ spec: ObjectReader, namespace: String) -> [ParentReference] {
        spec.objects("parentRefs").compactMap { ref in
            ref.allowOnly(["group", "kind", "namespace", "name", "sectionName", "port"])
            guard let name = ref.string("name", required: true) else { return nil }
            return ParentReference(
                namespace: ref.string("namespace") ?? namespace, name: name, sectionName: ref.string("sectionName"),
                port: ref.int("port", range: 1...65535))
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
