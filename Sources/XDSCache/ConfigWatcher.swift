/// The seam between the ADS server and whatever produces configuration (go-control-plane's
/// `cache.ConfigWatcher`): the server knows nothing of files or translators, only this.
public protocol ConfigWatcher: Sendable {
    /// Calls `onSnapshot` with the current snapshot of `nodeGroup`, if there is one, then with
    /// each new one, in order and one call at a time, until the watch is cancelled. A call must
    /// return quickly: it may run while the producer holds its lock. The server's streams hand the
    /// snapshot on to their own loop this way, without a task of their own for each watch.
    func watch(nodeGroup: String, onSnapshot: @escaping @Sendable (Snapshot) -> Void) -> SnapshotWatch
}

extension ConfigWatcher {
    /// Yields the current snapshot of `nodeGroup`, if there is one, then each new one.
    ///
    /// Only the newest matters: a consumer that falls behind sees the latest snapshot, never a
    /// queue of stale ones. The watch is released when the consumer stops iterating.
    public func watch(nodeGroup: String) -> AsyncStream<Snapshot> {
        let (stream, continuation) = AsyncStream.makeStream(of: Snapshot.self, bufferingPolicy: .bufferingNewest(1))
        let watch = watch(nodeGroup: nodeGroup) { continuation.yield($0) }
        continuation.onTermination = { _ in watch.cancel() }
        return stream
    }
}

/// A watch on a node group's snapshots; cancelling it (once or more) stops the calls.
public struct SnapshotWatch: Sendable {
    private let cancellation: @Sendable () -> Void

    public init(cancel: @escaping @Sendable () -> Void) { cancellation = cancel }

    public func cancel() { cancellation() }
}
