import Parallel
import Synchronization

/// The complete configuration for one node group at one moment: an immutable value.
///
/// A snapshot is consistent when every EDS name a cluster needs has a ClusterLoadAssignment,
/// every route configuration a listener loads over RDS exists, every SDS secret a listener or
/// cluster loads exists, and nothing of those three types is left over (go-control-plane's `Snapshot.Consistent`). An inconsistent snapshot would leave
/// Envoy's clusters or listeners warming forever, so the cache refuses it.
public struct Snapshot: Sendable, Equatable {
    /// The resources of one type, by name, with the version of the whole set.
    public struct Resources: Sendable, Equatable {
        public let byName: [String: Resource]
        /// The resources sorted by name. A stream that sends the whole set sends this array, and
        /// a stream that holds it keeps `byName` and `versions`: shared storage, not copies, so a
        /// stream costs little more than its subscription.
        public let sorted: [Resource]
        /// Name → version of every resource.
        public let versions: [String: String]
        /// Hash of the sorted `name version` pairs: the state-of-the-world version of this type.
        public let version: String
        /// The resources in the order they were given: the next snapshot, given mostly the same
        /// objects in the same order, finds what changed by comparing references.
        let given: [Resource]

        /// `given`: the same resources in the order they were given, which is mostly sorted
        /// already (translators emit routes' parts in route order): the standard library's sort
        /// finds the sorted runs, where sorting a dictionary's order would compare n log n times.
        init(_ byName: [String: Resource], given: [Resource]) {
            self.init(
                byName: byName, sorted: given.sorted { $0.name < $1.name }, versions: byName.mapValues(\.version),
                given: given)
        }

        private init(byName: [String: Resource], sorted: [Resource], versions: [String: String], given: [Resource]) {
            self.byName = byName
            self.sorted = sorted
            self.versions = versions
            self.given = given
            self.version = ContentHash.version(ofSortedNamedVersions: sorted.lazy.map { ($0.name, $0.version) })
        }

        /// These resources with those of `given` that are not the very objects at the same place
        /// here put in their place; nil unless `given` has the same names in the same order and
        /// few of them changed (a wholesale change is built afresh). An edit of one route among
        /// ten thousand replaces one cluster: its indexes are patched, not built again.
        func patched(with given: [Resource]) -> (resources: Resources, sameReferences: Bool)? {
            guard given.count == self.given.count else { return nil }
            var changed: [Int] = []
            for index in given.indices where given[index] !== self.given[index] {
                guard given[index].name == self.given[index].name, changed.count < given.count / 8 + 1 else {
                    return nil
                }
                changed.append(index)
            }
            if changed.isEmpty { return (self, true) }
            var byName = byName
            var sorted = sorted
            var versions = versions
            var sameReferences = true
            for index in changed {
                let resource = given[index]
                let replaced = self.given[index]
                sameReferences =
                    sameReferences && resource.references == replaced.references
                    && resource.secretReferences == replaced.secretReferences
                byName[resource.name] = resource
                versions[resource.name] = resource.version
                sorted[Self.position(of: resource.name, in: sorted)] = resource
            }
            return (Resources(byName: byName, sorted: sorted, versions: versions, given: given), sameReferences)
        }

        /// Where `name`, which is there, lies in `sorted`.
        private static func position(of name: String, in sorted: [Resource]) -> Int {
            var low = 0
            var high = sorted.count
            while low < high {
                let middle = (low + high) / 2
                if sorted[middle].name < name { low = middle + 1 } else { high = middle }
            }
            return low
        }

        public static func == (lhs: Self, rhs: Self) -> Bool {
            lhs.version == rhs.version && lhs.byName == rhs.byName
        }

        public var names: [String] { byName.keys.sorted() }
        public var count: Int { byName.count }
        public subscript(name: String) -> Resource? { byName[name] }
    }

    private let sets: [Resources]
    /// What `inconsistencies()` finds, worked out once. It depends only on each type's names and
    /// each resource's references, so a snapshot patched from another without changing those
    /// shares the other's: an edit of one route does not check ten thousand clusters again.
    private let consistency: Consistency

    /// Builds a snapshot; the resources may come in any order and any mix of types.
    /// - Throws: `SnapshotError.duplicateName` when two resources of one type share a name.
    public init(_ resources: [Resource]) throws(SnapshotError) {
        try self.init(resources, previous: nil)
    }

    /// `init(resources)`, where `previous` is the last snapshot made of mostly the same resource
    /// objects, given in the same order: each type whose resources are the same names in the same
    /// order is patched from `previous`'s indexes where they differ, not built again.
    public init(_ resources: [Resource], previous: Snapshot?) throws(SnapshotError) {
        var given = Array(repeating: [Resource](), count: ResourceType.allCases.count)
        for resource in resources { given[resource.type.rawValue].append(resource) }
        try self.init(byType: given, previous: previous)
    }

    /// `init(resources, previous:)` with the resources already apart by type: `given[n]` holds
    /// those of the type whose `rawValue` is n, in the order given. A translator that makes them
    /// so spares putting ten thousand resources into types again on every edit.
    public init(byType given: [[Resource]], previous: Snapshot?) throws(SnapshotError) {
        precondition(given.count == ResourceType.allCases.count, "one array of resources for each type")
        assert(given.indices.allSatisfy { type in given[type].allSatisfy { $0.type.rawValue == type } })
        // Each type on a core of its own: an edit patches both ten-thousand-entry types, CDS
        // and EDS, each a copy of its indexes and a hash of every name for its version.
        let built = Parallel.map(Array(given.enumerated()), minimumChunk: 1) {
            type, given -> Result<(Resources, sameReferences: Bool), SnapshotError> in
            if let previous, let patched = previous.sets[type].patched(with: given) { return .success(patched) }
            var byName: [String: Resource] = [:]
            byName.reserveCapacity(given.count)
            for resource in given where byName.updateValue(resource, forKey: resource.name) != nil {
                return .failure(.duplicateName(type: resource.type, name: resource.name))
            }
            return .success((Resources(byName, given: given), false))
        }
        var sets: [Resources] = []
        var sameReferences = previous != nil
        for result in built {
            let (set, same) = try result.get()
            sets.append(set)
            sameReferences = sameReferences && same
        }
        self.sets = sets
        consistency = sameReferences ? previous!.consistency : Consistency()
    }

    public static func == (lhs: Snapshot, rhs: Snapshot) -> Bool { lhs.sets == rhs.sets }

    public subscript(type: ResourceType) -> Resources { sets[type.rawValue] }

    public func version(of type: ResourceType) -> String { self[type].version }

    /// Every problem that makes this snapshot unsafe to serve; empty when it is consistent.
    public func inconsistencies() -> [SnapshotError] {
        if let known = consistency.problems.withLock({ $0 }) { return known }
        let problems = findInconsistencies()
        consistency.problems.withLock { $0 = problems }
        return problems
    }

    private func findInconsistencies() -> [SnapshotError] {
        var problems: [SnapshotError] = []
        for (owner, target) in [(ResourceType.cluster, ResourceType.endpoint), (.listener, .route)] {
            // In the sorted order kept with each type: sorting twenty thousand names again here
            // was most of a first load's check.
            var referenced = Set<String>(minimumCapacity: self[target].count)
            for resource in self[owner].sorted {
                let names = resource.references.count > 1 ? resource.references.sorted() : Array(resource.references)
                for name in names {
                    referenced.insert(name)
                    if self[target][name] == nil {
                        problems.append(.missingReference(from: owner, name: resource.name, to: target, missing: name))
                    }
                }
            }
            for resource in self[target].sorted where !referenced.contains(resource.name) {
                problems.append(.unreferenced(type: target, name: resource.name, expectedFrom: owner))
            }
        }
        var secretsUsed = Set<String>()
        for owner in [ResourceType.cluster, .listener] {
            for resource in self[owner].sorted {
                for name in resource.secretReferences.sorted() {
                    secretsUsed.insert(name)
                    if self[.secret][name] == nil {
                        problems.append(.missingReference(from: owner, name: resource.name, to: .secret, missing: name))
                    }
                }
            }
        }
        for secret in self[.secret].sorted where !secretsUsed.contains(secret.name) {
            problems.append(.unreferenced(type: .secret, name: secret.name, expectedFrom: .listener))
        }
        return problems
    }

    /// Throws the first inconsistency, if any.
    public func checkConsistency() throws(SnapshotError) {
        if let first = inconsistencies().first { throw first }
    }
}

/// `Snapshot.inconsistencies()` once known, shared by the snapshots it holds for.
private final class Consistency: Sendable {
    let problems = Mutex<[SnapshotError]?>(nil)
}

/// Why a snapshot cannot be served. Each case says which resource to add or remove.
public enum SnapshotError: Error, Equatable, CustomStringConvertible {
    case duplicateName(type: ResourceType, name: String)
    case missingReference(from: ResourceType, name: String, to: ResourceType, missing: String)
    case unreferenced(type: ResourceType, name: String, expectedFrom: ResourceType)

    public var description: String {
        switch self {
        case .duplicateName(let type, let name):
            "two \(type) resources are named \"\(name)\"; names must be unique per type"
        case .missingReference(let from, let name, let to, let missing):
            "\(from) resource \"\(name)\" needs \(to) resource \"\(missing)\", which the snapshot lacks; add it"
        case .unreferenced(let type, let name, let expectedFrom):
            "\(type) resource \"\(name)\" is not used by any \(expectedFrom) resource; remove it or reference it"
        }
    }
}
