import Synchronization

/// A value kept in one shared box: copied only when it changes while shared, with its
/// fingerprint made once. For the parts of the IR that every translation copies by the
/// thousand (routes and clusters, from the Gateway translator's memo into each Gateway's
/// config): copying one is one reference, not every reference it holds, and fingerprinting it
/// again (the Envoy translator's memo does, for each) costs nothing.
public struct CopyOnWrite<Value: Sendable & Hashable>: Sendable, Hashable {
    /// `value` changes only through a `CopyOnWrite` that holds the only reference to its box.
    private final class Box: @unchecked Sendable {
        var value: Value
        private let cached = Mutex<Fingerprint?>(nil)

        init(_ value: Value) { self.value = value }

        var fingerprint: Fingerprint {
            cached.withLock { cached in
                if let cached { return cached }
                let made = Fingerprint(value)
                cached = made
                return made
            }
        }

        func changed() { cached.withLock { $0 = nil } }
    }

    private var box: Box

    public init(_ value: Value) { box = Box(value) }

    public var value: Value {
        // Read in place: a getter would copy every field (retaining each) to hand out one.
        _read { yield box.value }
        _modify {
            if isKnownUniquelyReferenced(&box) {
                box.changed()
            } else {
                box = Box(box.value)
            }
            yield &box.value
        }
    }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.box === rhs.box || lhs.box.value == rhs.box.value }

    /// Equal values have equal fingerprints, so this is consistent with `==`.
    public func hash(into hasher: inout Hasher) { hasher.combine(box.fingerprint) }
}
