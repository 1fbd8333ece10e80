/// The seam between the ADS server and whatever produces configuration (go-control-plane's
/// `cache.ConfigWatcher`): the server knows nothing of files or translators, only this.
public protocol ConfigWatcher: Sendable {
    /// Yields the current snapshot of `nodeGroup`, if there is one, then each new one.
    ///
    /// Only the newest matters: a consumer that falls behind sees the latest snapshot, never a
    /// queue of stale ones. The watch is released when the consumer stops iterating.
    func watch(nodeGroup: String) -> AsyncStream<Snapshot>
}
