/// The names of resources of another type that one resource needs (`Resource.references`).
/// Nearly every resource has none or one (a cluster's load assignment), and a `Set` of one
/// costs an allocation of its own, in every cluster of a snapshot (1.9 MB at 10000 routes); one
/// name is kept as it is, sharing the string it came from.
public struct References: Sendable, Hashable, Sequence, ExpressibleByArrayLiteral {
    private enum Storage: Sendable, Hashable {
        case one(String)
        /// None, or more than one.
        case set(Set<String>)
    }

    private let storage: Storage

    public init(_ names: Set<String>) {
        storage = names.count == 1 ? .one(names.first!) : .set(names)
    }

    public init(arrayLiteral names: String...) { self.init(Set(names)) }

    public var count: Int {
        switch storage {
        case .one: 1
        case .set(let names): names.count
        }
    }

    public var isEmpty: Bool { count == 0 }

    public func contains(_ name: String) -> Bool {
        switch storage {
        case .one(let only): only == name
        case .set(let names): names.contains(name)
        }
    }

    public struct Iterator: IteratorProtocol {
        fileprivate var one: String?
        fileprivate var set: Set<String>.Iterator?

        public mutating func next() -> String? {
            if let name = one {
                one = nil
                return name
            }
            return set?.next()
        }
    }

    public func makeIterator() -> Iterator {
        switch storage {
        case .one(let name): Iterator(one: name, set: nil)
        case .set(let names): Iterator(one: nil, set: names.makeIterator())
        }
    }

    public var underestimatedCount: Int { count }
}
