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
        /// Whether a changed resource is new: absent from the older snapshot.
        var addsNames = false
        /// For clusters, what the changed ones that the older snapshot also had refer to: the load
        /// assignments an Envoy that held them must be sent again. One set for every
        /// stream, which each SotW stream of a thousand would otherwise build for itself.
        var referencesOfReplaced: Set<String> = []
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

    private struct OwedEndpoints: Sendable {
        var owed: Set<String>
        var endpoints: [Resource]
    }

    /// The last list of owed load assignments per transition (`endpoints(owed:from:to:)`).
    private let owedEndpoints = Mutex(BoundedCache<Key, OwedEndpoints>(budget: 30_000))

    /// `new`'s load assignments that changed since `old` or are in `owed`, in name order: what a
    /// delta stream is sent after a cluster update when it held all of `old`'s and subscribes to
    /// each one that changed. Made once for every stream owed the same set; that is usually the
    /// cluster diff's `referencesOfReplaced` itself, the same storage for each, which compares
    /// equal at once.
    func endpoints(owed: Set<String>, from old: Snapshot, to new: Snapshot) -> [Resource] {
        let key = Key(type: .endpoint, from: old.version(of: .endpoint), to: new.version(of: .endpoint))
        if let last = owedEndpoints.withLock({ $0[key] }), last.owed == owed { return last.endpoints }
        let changed = Set(diff(.endpoint, from: old, to: new).changed.map(\.name))
        let endpoints = new[.endpoint].sorted.filter { changed.contains($0.name) || owed.contains($0.name) }
        owedEndpoints.withLock {
            $0.insert(OwedEndpoints(owed: owed, endpoints: endpoints), for: key, cost: 1 + endpoints.count)
        }
        return endpoints
    }

    func diff(_ type: ResourceType, from old: Snapshot, to new: Snapshot) -> Diff {
        let key = Key(type: type, from: old.version(of: type), to: new.version(of: type))
        return entries.withLock { entries in
            if let diff = entries[key] { return diff }
            let before = old[type]
            let after = new[type]
            var diff = Diff(
                changed: after.sorted.filter { before.versions[$0.name] != $0.version },
                removed: before.sorted.map(\.name).filter { after[$0] == nil })
            for resource in diff.changed {
                if before[resource.name] == nil {
                    diff.addsNames = true
                } else if type == .cluster {
                    diff.referencesOfReplaced.formUnion(resource.references)
                }
            }
            entries.insert(diff, for: key, cost: 1 + diff.changed.count + diff.removed.count)
            return diff
        }
    }
}
