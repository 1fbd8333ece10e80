/// `gateway.networking.k8s.io/v1beta1` ReferenceGrant: lets objects of the `from` kinds in other
/// namespaces refer to objects of the `to` kinds in this one (a route to a Service elsewhere).
public struct ReferenceGrant: Sendable, Equatable {
    public struct From: Sendable, Equatable {
        public var group: String
        public var kind: String
        public var namespace: String
    }

    public struct To: Sendable, Equatable {
        public var group: String
        public var kind: String
        /// Nil grants every object of the kind.
        public var name: String?
    }

    public var name: String
    public var namespace: String
    public var from: [From]
    public var to: [To]

    init?(_ object: ManifestObject) {
        guard let spec = object.spec(allowing: ["from", "to"]) else { return nil }
        from = spec.objects("from", required: true).compactMap { from in
            from.allowOnly(["group", "kind", "namespace"])
            guard let group = from.string("group", required: true), let kind = from.string("kind", required: true),
                let namespace = from.string("namespace", required: true)
            else { return nil }
            return From(group: group, kind: kind, namespace: namespace)
        }
        to = spec.objects("to", required: true).compactMap { to in
            to.allowOnly(["group", "kind", "name"])
            guard let group = to.string("group", required: true), let kind = to.string("kind", required: true) else {
                return nil
            }
            return To(group: group, kind: kind, name: to.string("name"))
        }
        name = object.name
        namespace = object.namespace
    }

    /// Whether this grant lets a `fromKind` in `fromNamespace` refer to `toKind` `name` here.
    public func permits(
        fromGroup: String, fromKind: String, fromNamespace: String, toGroup: String, toKind: String, name: String
    )
        -> Bool
    {
        from.contains { $0.group == fromGroup && $0.kind == fromKind && $0.namespace == fromNamespace }
            && to.contains { $0.group == toGroup && $0.kind == toKind && ($0.name == nil || $0.name == name) }
    }
}

extension Sequence<ReferenceGrant> {
    /// Whether a grant in `toNamespace` lets a `fromKind` in `fromNamespace` refer to `toKind`
    /// `name` there. References within one namespace need no grant; callers check that first.
    public func permit(
        fromGroup: String, fromKind: String, fromNamespace: String, toGroup: String, toKind: String,
        toNamespace: String,
        name: String
    ) -> Bool {
        contains { grant in
            grant.namespace == toNamespace
                && grant.permits(
                    fromGroup: fromGroup, fromKind: fromKind, fromNamespace: fromNamespace, toGroup: toGroup,
                    toKind: toKind, name: name)
        }
    }
}
