import XDSCache

/// Which resources of one type a client asked for.
///
/// Wildcard follows the xDS protocol: an explicit `"*"`, or (legacy) a first request for CDS or
/// LDS with no names, kept while later requests also name nothing.
struct Subscription: Sendable, Equatable {
    static let wildcardName = "*"

    var wildcard = false
    var legacyWildcard = false
    var names: Set<String> = []

    func includes(_ name: String) -> Bool { wildcard || names.contains(name) }

    /// Replaces the subscription with a state-of-the-world request's names (interned).
    mutating func replace(with requested: NameInterner.List, type: ResourceType, isFirstRequest: Bool) {
        if requested.names.isEmpty {
            legacyWildcard = type.isWildcardType && (isFirstRequest || legacyWildcard)
        } else {
            legacyWildcard = false
        }
        wildcard = legacyWildcard || requested.wildcard
        names = requested.set
    }

    /// Applies a delta request's subscribe and unsubscribe lists.
    mutating func apply(subscribe: [String], unsubscribe: [String], type: ResourceType, isFirstRequest: Bool) {
        if isFirstRequest && subscribe.isEmpty && type.isWildcardType {
            legacyWildcard = true
        }
        for name in subscribe {
            if name == Self.wildcardName { wildcard = true } else { names.insert(name) }
        }
        for name in unsubscribe {
            if name == Self.wildcardName {
                wildcard = false
                legacyWildcard = false
            } else {
                names.remove(name)
            }
        }
        if legacyWildcard { wildcard = true }
        if !subscribe.isEmpty || !unsubscribe.isEmpty { names = NameInterner.shared.set(names) }
    }

    /// The snapshot's resources this subscription selects. `coversAll` (known to the caller, who
    /// remembers it per snapshot) returns the snapshot's own dictionary: shared, not copied.
    func select(from resources: Snapshot.Resources, coversAll: Bool = false) -> [String: Resource] {
        if wildcard || coversAll { return resources.byName }
        var selected: [String: Resource] = [:]
        for name in names {
            if let resource = resources[name] { selected[name] = resource }
        }
        return selected
    }

    /// Whether this subscription selects every resource of `resources`.
    func coversAll(_ resources: Snapshot.Resources) -> Bool {
        wildcard || (names.count >= resources.count && resources.byName.keys.allSatisfy(names.contains))
    }
}
