import NIOCore
import Synchronization

/// How many streams may have a large response out at once (see `PushPacer`).
public struct PushPacing: Sendable {
    /// Streams that may each hold unanswered large responses at once.
    public var permits: Int
    /// A response of at least this many bytes is large: smaller ones are never held back.
    public var threshold: Int
    /// A stream whose client has not answered its large responses within this gives its permit
    /// back, so a stuck client holds up the others for at most this long.
    public var timeout: Duration

    public init(permits: Int = 64, threshold: Int = 64 << 10, timeout: Duration = .seconds(10)) {
        self.permits = permits
        self.threshold = threshold
        self.timeout = timeout
    }
}

/// Paces a push to many streams. A full push writes the same megabyte-sized CDS and EDS to every
/// stream at once, and each waits in its connection's HTTP/2 buffers until its client reads it:
/// 1000 streams of a 1000-route Gateway held 1.4 GB at the peak, in pages fresh from the kernel,
/// whose zeroing alone was a sixth of the push's CPU. So a stream takes a permit before it writes
/// a large response and gives it back once its client has answered (ACK or NACK) every large
/// response it was sent; at most `permits` streams' worth of them are in flight, in buffers that
/// are reused. Istio paces its pushes the same way.
///
/// - A stream holds at most one permit, however many large responses it has out: an Envoy's CDS
///   and the EDS its new clusters wait for go out together, and a stream waiting for a permit
///   holds none, so no stream ever waits on itself.
/// - Waiting streams are served in the order they asked.
/// - A client that has not answered within `timeout` loses its permit (`expireOverdue`), not its
///   stream: a stuck Envoy cannot hold up the others for longer than that.
///
/// The time is injected (`now`), so the deadlines are tested without waiting for them.
public final class PushPacer: Sendable {
    /// A permit held by one stream.
    public struct Lease: Sendable, Hashable {
        let id: UInt64
    }

    public let pacing: PushPacing
    private let now: @Sendable () -> ContinuousClock.Instant
    private let state: Mutex<State>

    /// What a waiting stream is handed its permit (or nil, pacing stopped) with.
    typealias Grant = @Sendable (Lease?) -> Void

    private enum Waiter {
        /// Told to wait, not yet queued.
        case announced
        /// Cancelled before it was queued.
        case cancelled
        case waiting(Grant)
    }

    private struct State: ~Copyable {
        var free: Int
        var nextID: UInt64 = 0
        /// Each held permit's deadline.
        var held: [UInt64: ContinuousClock.Instant] = [:]
        /// Streams waiting, in order, and those told to wait that have not queued yet.
        var waiters = WaitQueue<Waiter>()
        /// After shutdown began, nothing waits.
        var open = false

        /// Gives a free permit to the first stream waiting, if there is one.
        mutating func handOver(deadline: ContinuousClock.Instant) -> (Grant, Lease)? {
            while let (id, waiter) = waiters.removeFirst() {
                guard case .waiting(let grant) = waiter else { continue }
                held[id] = deadline
                return (grant, Lease(id: id))
            }
            free += 1
            return nil
        }
    }

    public init(_ pacing: PushPacing, now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }) {
        self.pacing = pacing
        self.now = now
        self.state = Mutex(State(free: pacing.permits))
    }

    /// Streams waiting for a permit now.
    public var waitingCount: Int { state.withLock { $0.waiters.count } }

    /// Permits held now.
    public var heldCount: Int { state.withLock { $0.held.count } }

    /// A permit for the caller's stream: `lease` itself while it is still held, else a new one,
    /// waiting for it in turn if none is free. Nil when the wait was cancelled or the server is
    /// shutting down: the stream then writes unpaced.
    public func acquire(keeping lease: Lease?) async -> Lease? {
        enum Outcome {
            case granted(Lease?)
            case wait(UInt64)
        }
        let deadline = now() + pacing.timeout
        let outcome: Outcome = state.withLock { state in
            if let lease, state.held[lease.id] != nil { return .granted(lease) }
            if state.open { return .granted(nil) }
            state.nextID += 1
            let id = state.nextID
            guard state.free > 0 else {
                state.waiters[id] = .announced
                return .wait(id)
            }
            state.free -= 1
            state.held[id] = deadline
            return .granted(Lease(id: id))
        }
        guard case .wait(let id) = outcome else {
            guard case .granted(let lease) = outcome else { return nil }
            return lease
        }
        XDSMetrics.pacingWaited()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let cancelled = state.withLock { state in
                    guard case .announced = state.waiters[id], !state.open else {
                        state.waiters[id] = nil
                        return true
                    }
                    state.waiters.append(id, .waiting { continuation.resume(returning: $0) })
                    return false
                }
                if cancelled { continuation.resume(returning: nil) }
            }
        } onCancel: {
            let grant = state.withLock { state -> Grant? in
                switch state.waiters[id] {
                case .announced:
                    state.waiters[id] = .cancelled
                    return nil
                case .waiting(let grant):
                    state.waiters[id] = nil
                    return grant
                case .cancelled, nil:
                    return nil
                }
            }
            grant?(nil)
        }
    }

    /// What `acquire(keeping:whenGranted:)` answers.
    public enum Acquired: Sendable, Equatable {
        /// A permit now (nil: pacing stopped, write unpaced).
        case granted(Lease?)
        /// None free: `whenGranted` gets one later, unless `cancelWaiting(id)` comes first.
        case waiting(id: UInt64)
    }

    /// `acquire(keeping:)` for a stream that cannot wait in a task (the NIO transport's, on its
    /// event loop): a permit now, or a place in the queue, and `whenGranted` called, on any
    /// thread, with the permit when it is the stream's turn (or nil when pacing stops).
    public func acquire(keeping lease: Lease?, whenGranted: @escaping @Sendable (Lease?) -> Void) -> Acquired {
        let deadline = now() + pacing.timeout
        let acquired: Acquired = state.withLock { state in
            if let lease, state.held[lease.id] != nil { return .granted(lease) }
            if state.open { return .granted(nil) }
            state.nextID += 1
            let id = state.nextID
            guard state.free > 0 else {
                state.waiters.append(id, .waiting(whenGranted))
                return .waiting(id: id)
            }
            state.free -= 1
            state.held[id] = deadline
            return .granted(Lease(id: id))
        }
        if case .waiting = acquired { XDSMetrics.pacingWaited() }
        return acquired
    }

    /// Leaves the queue (a stream that closed while it waited). A permit already handed over is
    /// the stream's to release.
    public func cancelWaiting(_ id: UInt64) {
        state.withLock { _ = $0.waiters.remove(id) }
    }

    /// Gives `lease` back, to the first stream waiting. A lease already taken back by
    /// `expireOverdue` is ignored.
    public func release(_ lease: Lease) {
        let deadline = now() + pacing.timeout
        let next = state.withLock { state -> (Grant, Lease)? in
            guard state.held.removeValue(forKey: lease.id) != nil else { return nil }
            return state.handOver(deadline: deadline)
        }
        if let (grant, lease) = next { grant(lease) }
    }

    /// Takes back every permit whose client has not answered by its deadline, and hands each on.
    /// Returns how many were taken back.
    @discardableResult
    public func expireOverdue() -> Int {
        let now = now()
        let deadline = now + pacing.timeout
        let (expired, next) = state.withLock { state -> (Int, [(Grant, Lease)]) in
            let overdue = state.held.filter { $0.value <= now }.keys
            var next: [(Grant, Lease)] = []
            for id in overdue {
                state.held[id] = nil
                if let handed = state.handOver(deadline: deadline) { next.append(handed) }
            }
            return (overdue.count, next)
        }
        for (grant, lease) in next { grant(lease) }
        if expired > 0 { XDSMetrics.pacingTimedOut(expired) }
        return expired
    }

    /// Checks the deadlines every quarter of the timeout until cancelled.
    public func run() async {
        while (try? await Task.sleep(for: pacing.timeout / 4)) != nil { expireOverdue() }
    }

    /// Stops pacing: every stream waiting goes on at once, and later ones do not wait. For a
    /// graceful shutdown, which should not wait on slow clients' answers.
    public func open() {
        let waiting = state.withLock { state -> [Grant] in
            state.open = true
            // Announced ones see `open` when they come to queue.
            let removed = state.waiters.removeAll { if case .announced = $0 { true } else { false } }
            return removed.compactMap { waiter -> Grant? in
                guard case .waiting(let grant) = waiter else { return nil }
                return grant
            }
        }
        for grant in waiting { grant(nil) }
    }
}
