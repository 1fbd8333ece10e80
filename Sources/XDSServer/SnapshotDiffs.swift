import Synchronization
import XDSCache

/// What changed in one resource type between two snapshots, worked out once and shared by every
/// delta stream that held the older one: each stream then does work in proportion to what
/// changed, not to how many resources there are. Keyed by the two versions of the type (content
/// hashes), so any snapshots with that content share an entry.
final class SnapshotDiffs: Sendable {
    struct Diff: Sendable {
        /// Added or changed in the newer snapshot, in name order.
        var changed: [Resource]
        /// Gone from the newer snapshot, in name order.
        var removed: [String]
    }

    private struct Key: Hashable {
        var type: ResourceType
        var from: String
        var to: String
    }

    static let shared = SnapshotDiffs()

    /// Resources referenced, in all: a few recent transitions per type are all that streams
    /// catch up with, and an old diff would keep its snapshot's resources alive.
    private let entries = Mutex(BoundedCache<Key, Diff>(budget: 30_000))

    func diff(_ type: ResourceType, from old: Snapshot, to new: Snapshot) -> Diff {
        let key = Key(type: type, from: old.version(of: type), to: new.version(of: type))
        return entries.withLock { entries in
            if let diff = entries[key] { return diff }
            let before = old[type]
            let after = new[type]
            let diff = Diff(
                changed: after.sorted.filter { before.versions[$0.name] != $0.version },
                removed: before.sorted.map(\.name).filter { after[$0] == nil })
            entries.insert(diff, for: key, cost: 1 + diff.changed.count + diff.removed.count)
            return diff
        }
    }
}
