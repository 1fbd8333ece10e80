import NIOCore

/// Waiters served in the order they came, any of which may leave before its turn: the queue of
/// `PushPacer` (streams waiting for a permit) and of `RequestMemoryBudget` (messages waiting for
/// their bytes). Ids are the caller's; one that leaves is dropped from the order when it reaches
/// the head, so leaving is a dictionary removal, not a search of the queue.
struct WaitQueue<Waiter> {
    /// Ids in the order they were queued; one no longer in `waiters` has left.
    private var order = CircularBuffer<UInt64>()
    private var waiters: [UInt64: Waiter] = [:]

    /// Waiters here, queued or not.
    var count: Int { waiters.count }
    var isEmpty: Bool { waiters.isEmpty }

    /// Queues `waiter` behind the others.
    mutating func append(_ id: UInt64, _ waiter: Waiter) {
        order.append(id)
        waiters[id] = waiter
    }

    /// A waiter by id. Setting one that is not queued keeps it here without a place in the order
    /// (the pacer's stream that was told to wait and has not yet queued); setting nil removes it.
    subscript(id: UInt64) -> Waiter? {
        get { waiters[id] }
        set { waiters[id] = newValue }
    }

    /// Takes `id` out, wherever it is; nil when it was not here.
    mutating func remove(_ id: UInt64) -> Waiter? {
        waiters.removeValue(forKey: id)
    }

    /// The first queued waiter still here, left in place.
    mutating func first() -> (id: UInt64, waiter: Waiter)? {
        while let id = order.first {
            if let waiter = waiters[id] { return (id, waiter) }
            order.removeFirst()
        }
        return nil
    }

    /// Takes out the first queued waiter still here.
    mutating func removeFirst() -> (id: UInt64, waiter: Waiter)? {
        while let id = order.popFirst() {
            if let waiter = waiters.removeValue(forKey: id) { return (id, waiter) }
        }
        return nil
    }

    /// Empties the queue and returns what was in it, queued or not, keeping those `keep` accepts.
    mutating func removeAll(keeping keep: (Waiter) -> Bool = { _ in false }) -> [Waiter] {
        order.removeAll()
        var removed: [Waiter] = []
        waiters = waiters.filter { entry in
            if keep(entry.value) { return true }
            removed.append(entry.value)
            return false
        }
        return removed
    }
}
