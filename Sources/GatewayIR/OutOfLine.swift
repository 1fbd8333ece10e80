/// A value kept out of line and shared by every copy until one of them changes it. A cluster's
/// policy is 800 bytes and a route's over 400: a translation of ten thousand routes copies both
/// many times over, and the translator's memo keeps one of each. Equality, hashing and coding
/// are the value's own, so the IR reads and compares as if the value were stored in place.
@propertyWrapper
public struct OutOfLine<Value: Sendable & Hashable & Codable>: Sendable, Hashable, Codable {
    private final class Box: Sendable {
        let value: Value
        init(_ value: Value) { self.value = value }
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

    public func hash(into hasher: inout Hasher) { hasher.combine(box.value) }

    public init(from decoder: any Decoder) throws { box = Box(try Value(from: decoder)) }

    public func encode(to encoder: any Encoder) throws { try box.value.encode(to: encoder) }
}
