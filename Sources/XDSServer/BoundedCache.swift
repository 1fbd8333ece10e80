/// Values worked out once and shared by every stream, kept within a budget: when a new one
/// takes the total over it, the oldest go first; the newest always stays. What streams share
/// follows the newest snapshots, so the oldest entries are the ones no stream asks for.
struct BoundedCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    let budget: Int
    private var entries: [Key: (value: Value, cost: Int)] = [:]
    /// Oldest first. Short: a few versions of a few types.
    private var order: [Key] = []
    private(set) var total = 0

    init(budget: Int) {
        self.budget = budget
    }

    var count: Int { entries.count }

    subscript(key: Key) -> Value? { entries[key]?.value }

    mutating func insert(_ value: Value, for key: Key, cost: Int) {
        if let old = entries.removeValue(forKey: key) {
            total -= old.cost
            order.removeAll { $0 == key }
        }
        entries[key] = (value, cost)
        order.append(key)
        total += cost
        while total > budget && order.count > 1 {
            let oldest = order.removeFirst()
            total -= entries.removeValue(forKey: oldest)?.cost ?? 0
        }
    }
}
