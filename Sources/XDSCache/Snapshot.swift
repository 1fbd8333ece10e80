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

        /// `given`: the same resources in the order they were given, which is mostly sorted
        /// already (translators emit routes' parts in route order): the standard library's sort
        /// finds the sorted runs, where sorting a dictionary's order would compare n log n times.
        init(_ byName: [String: Resource], given: [Resource]) {
            self.byName = byName
            self.sorted = given.sorted { $0.name < $1.name }
            self.versions = byName.mapValues(\.version)
            self.version = ContentHash.version(ofSortedNamedVersions: sorted.lazy.map { ($0.name, $0.version) })
        }

        public static func == (lhs: Self, rhs: Self) -> Bool {
            lhs.version == rhs.version && lhs.byName == rhs.byName
        }

        public var names: [String] { byName.keys.sorted() }
        public var count: Int { byName.count }
        public subscript(name: String) -> Resource? { byName[name] }
    }

    private let sets: [Resources]

    /// Builds a snapshot; the resources may come in any order and any mix of types.
    /// - Throws: `SnapshotError.duplicateName` when two resources of one type share a name.
    public init(_ resources: [Resource]) throws(SnapshotError) {
        var byType = Array(repeating: [String: Resource](), count: ResourceType.allCases.count)
        var given = Array(repeating: [Resource](), count: ResourceType.allCases.count)
        for resource in resources {
            if byType[resource.type.rawValue].updateValue(resource, forKey: resource.name) != nil {
                throw .duplicateName(type: resource.type, name: resource.name)
            }
            given[resource.type.rawValue].append(resource)
        }
        self.sets = zip(byType, given).map { Resources($0, given: $1) }
    }

    public subscript(type: ResourceType) -> Resources { sets[type.rawValue] }

    public func version(of type: ResourceType) -> String { self[type].version }

    /// Every problem that makes this snapshot unsafe to serve; empty when it is consistent.
    public func inconsistencies() -> [SnapshotError] {
        var problems: [SnapshotError] = []
        for (owner, target) in [(ResourceType.cluster, ResourceType.endpoint), (.listener, .route)] {
            var referenced = Set<String>()
            for resource in self[owner].byName.values.sorted(by: { $0.name < $1.name }) {
                for name in resource.references.sorted() {
                    referenced.insert(name)
                    if self[target][name] == nil {
                        problems.append(.missingReference(from: owner, name: resource.name, to: target, missing: name))
                    }
                }
            }
            for name in self[target].names where !referenced.contains(name) {
                problems.append(.unreferenced(type: target, name: name, expectedFrom: owner))
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
        for name in self[.secret].names where !secretsUsed.contains(name) {
            problems.append(.unreferenced(type: .secret, name: name, expectedFrom: .listener))
        }
        return problems
    }

    /// Throws the first inconsistency, if any.
    public func checkConsistency() throws(SnapshotError) {
        if let first = inconsistencies().first { throw first }
    }
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
