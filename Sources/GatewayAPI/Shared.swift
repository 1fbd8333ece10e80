/// A value kept in one box that every copy shares, compared by its box first. For the large parts
/// of a decoded object (a policy's spec, settings and field positions) that every translation
/// compares with the last one's: an object from a file that was not read again holds the same
/// boxes, so the comparison is a pointer check instead of a walk of the whole value.
@propertyWrapper
public struct Shared<Value: Sendable & Equatable>: Sendable, Equatable {
    private final class Box: Sendable {
        let value: Value
        init(_ value: Value) { self.value = value }
    }

    private var box: Box

    public init(wrappedValue: Value) { box = Box(wrappedValue) }

    public var wrappedValue: Value {
        _read { yield box.value }
        set { box = Box(newValue) }
    }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.box === rhs.box || lhs.box.value == rhs.box.value }
}
