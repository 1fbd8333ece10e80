/// A value kept out of line and shared by every copy until one of them changes it. A cluster's
/// policy is 800 bytes and a route's over 400: a translation of ten thousand routes copies both
/// many times over, and the translator's memo keeps one of each. Equality and coding are the
/// value's own, and hashing follows from the value alone, so the IR reads and compares as if the
/// value were stored in place.
@propertyWrapper
public struct OutOfLine<Value: Sendable & Hashable & Codable>: Sendable, Hashable, Codable {
    private final class Box: Sendable {
        let value: Value
        /// Two independent hashes of `value`, made once: the value is hashed for every cluster
        /// or route that shares it (nine thousand under one Gateway-wide policy), each time its
        /// part of the IR is fingerprinted. Two of them keep a 128-bit fingerprint 128 bits strong.
        let hashes: (Int, Int)

        init(_ value: Value) {
            self.value = value
            var first = Hasher()
            first.combine(0x2545_F491)
            first.combine(value)
            var second = Hasher()
            second.combine(0x6A09_E667)
            second.combine(value)
            hashes = (first.finalize(), second.finalize())
        }
    }

    private var box: Box

    public init(wrappedValue: Value) { box = Box(wrappedValue) }

    public var wrappedValue: Value {
        get { box.value }
        set { box = Box(newValue) }
    }

    /// The box itself (`$policy`), to share one among values that are equal: a translator
    /// interns the policies that many clusters and routes have in common.
    public var projectedValue: Self {
        get { self }
        set { self = newValue }
    }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.box === rhs.box || lhs.box.value == rhs.box.value }

    /// Equal values have equal hashes, so this is consistent with `==`.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(box.hashes.0)
        hasher.combine(box.hashes.1)
    }

    public init(from decoder: any Decoder) throws { box = Box(try Value(from: decoder)) }

    public func encode(to encoder: any Encoder) throws { try box.value.encode(to: encoder) }
}
