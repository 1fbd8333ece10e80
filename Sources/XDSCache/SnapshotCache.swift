import Synchronization

/// Snapshots keyed by node group (an Envoy's `node.cluster`), and the watches streams hold on them.
public final class SnapshotCache: ConfigWatcher, Sendable {
    private struct State {
        var snapshots: [String: Snapshot] = [:]
        var watches: [String: [UInt64: @Sendable (Snapshot) -> Void]] = [:]
        var nextWatchID: UInt64 = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// Sets the snapshot of `nodeGroup` and hands it to every watch on that group.
    ///
    /// - Returns: false, and notifies nobody, when the snapshot equals the current one.
    /// - Throws: the snapshot's first inconsistency; the current snapshot then stays in place.
    @discardableResult
    public func setSnapshot(_ snapshot: Snapshot, for nodeGroup: String) throws(SnapshotError) -> Bool {
        try snapshot.checkConsistency()
        // Yield under the lock so two racing updates reach every watch in the order they were set.
        return state.withLock { state in
            if state.snapshots[nodeGroup] == snapshot { return false }
            state.snapshots[nodeGroup] = snapshot
            for onSnapshot in state.watches[nodeGroup, default: [:]].values { onSnapshot(snapshot) }
            return true
        }
    }

    /// Forgets the snapshot of `nodeGroup`. Streams keep what they have; new ones wait.
    public func clearSnapshot(for nodeGroup: String) {
        _ = state.withLock { $0.snapshots.removeValue(forKey: nodeGroup) }
    }

    public func snapshot(for nodeGroup: String) -> Snapshot? {
        state.withLock { $0.snapshots[nodeGroup] }
    }

    public var nodeGroups: [String] {
        state.withLock { $0.snapshots.keys.sorted() }
    }

    /// Number of open watches on `nodeGroup` (each ADS stream holds one).
    public func watchCount(nodeGroup: String) -> Int {
        state.withLock { $0.watches[nodeGroup]?.count ?? 0 }
    }

    public func watch(nodeGroup: String, onSnapshot: @escaping @Sendable (Snapshot) -> Void) -> SnapshotWatch {
        let id: UInt64 = state.withLock { state in
            let id = state.nextWatchID
            state.nextWatchID += 1
            state.watches[nodeGroup, default: [:]][id] = onSnapshot
            if let current = state.snapshots[nodeGroup] { onSnapshot(current) }
            return id
        }
        return SnapshotWatch { [weak self] in
            self?.state.withLock { state in
                state.watches[nodeGroup]?.removeValue(forKey: id)
                if state.watches[nodeGroup]?.isEmpty == true { state.watches.removeValue(forKey: nodeGroup) }
            }
        }
    }
}
