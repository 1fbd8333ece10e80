/// A value kept out of line and shared by every copy until one of them changes it. A cluster's
/// policy is 800 bytes and a route's over 400: a translation of ten thousand routes copies both
/// many times over, and the translator's memo keeps one of each. Equality and coding are the
/// value's own, and hashing follows from the value alone, so the IR reads and compares as if the
/// value were stored in place.
@propertyWrapper
public struct OutOfLine<Value: Sendable & Hashable & Codable>: Sendable, Hashable, Codable {
    private final class Box: Sendable {
        let value: Value
        /// `value`'s fingerprint, made once: the value is hashed for every cluster or route that
        /// shares it (nine thousand under one Gateway-wide policy), each time its part of the IR is
        /// fingerprinted. Both halves keep a fingerprint of the part 128 bits strong.
        let fingerprint: Fingerprint

        init(_ value: Value) {
            self.value = value
            fingerprint = Fingerprint(value)
        }
    }

    private var box: Box

    public init(wrappedValue: Value) { box = Box(wrappedValue) }

    public var wrappedValue: Value {
        // Read in place: a getter would copy every field (retaining each) to hand out one.
        _read { yield box.value }
        set { box = Box(newValue) }
    }

    /// The box itself (`$policy`), to share one among values that are equal: a translator
    /// interns the policies that many clusters and routes have in common.
    public var projectedValue: Self {
        get { self }
        set { self = newValue }
    }

    /// Whether both are the same box: interning a value already interned changes nothing.
    public func sharesBox(with other: Self) -> Bool { box === other.box }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.box === rhs.box || lhs.box.value == rhs.box.value }

    /// Equal values have equal hashes, so this is consistent with `==`.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(box.fingerprint)
    }

    public init(from decoder: any Decoder) throws { box = Box(try Value(from: decoder)) }

    public func encode(to encoder: any Encoder) throws { try box.value.encode(to: encoder) }
}
