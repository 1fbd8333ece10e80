import Synchronization

/// Fixed-window counts in this process: exact for one replica, nothing shared.
///
/// The number of live counters is bounded: a `Distinct` selector makes one per value it sees, so
/// clients sending random values must not grow this process without end. Expired counters are
/// swept when the bound is reached (at most once per second of the clock); when none has expired,
/// a new counter is refused with `CounterStoreError.full` and existing ones still count.
public final class MemoryCounterStore: CounterStore {
    private struct Counter {
        var count: UInt64
        var expiresAt: Int64
    }

    private struct State {
        var counters: [String: Counter] = [:]
        var lastSweep: Int64 = .min
    }

    private let state = Mutex(State())
    private let maxKeys: Int
    private let now: @Sendable () -> Int64

    /// - Parameter now: the time in whole seconds (Unix time in the service; tests step it).
    public init(maxKeys: Int = 1_000_000, now: @escaping @Sendable () -> Int64) {
        self.maxKeys = maxKeys
        self.now = now
    }

    public var liveCounters: Int { state.withLock { $0.counters.count } }

    public func increment(_ increments: [CounterIncrement]) throws(CounterStoreError) -> [UInt64] {
        let now = now()
        let maxKeys = maxKeys
        return try state.withLock { (state) throws(CounterStoreError) -> [UInt64] in
            var counts: [UInt64] = []
            counts.reserveCapacity(increments.count)
            for increment in increments {
                var counter = state.counters[increment.key]
                if let existing = counter, existing.expiresAt <= now { counter = nil }
                if counter == nil, state.counters[increment.key] == nil, state.counters.count >= maxKeys {
                    if state.lastSweep < now {
                        state.counters = state.counters.filter { $0.value.expiresAt > now }
                        state.lastSweep = now
                    }
                    if state.counters.count >= maxKeys { throw .full(state.counters.count) }
                }
                let count = (counter?.count ?? 0) &+ increment.hits
                state.counters[increment.key] = Counter(count: count, expiresAt: now + increment.expirySeconds)
                counts.append(count)
            }
            return counts
        }
    }
}
