import Testing
import XDSCache
import XDSTesting

/// A snapshot made with `previous:` patches the last one's indexes where the same resource
/// objects come in the same order. Whatever the edit, it must be the snapshot built afresh.
@Suite("Snapshots patched from the last one")
struct SnapshotPatchTests {
    /// Clusters, their endpoints, a listener and its routes, as a translator gives them.
    struct Config {
        var timeouts: [Int64]
        var serviceNames: [String?]
        var endpointPorts: [Int]

        init(count: Int) {
            timeouts = Array(repeating: 1, count: count)
            serviceNames = Array(repeating: nil, count: count)
            endpointPorts = Array(repeating: 80, count: count)
        }

        func name(_ index: Int) -> String { "httproute/default/route-\(index)/rule/0" }
    }

    /// Resources for `config`, reusing each of `kept` whose inputs did not change (what the
    /// translator's memo does), in the translator's order.
    static func resources(_ config: Config, kept: inout [String: (key: String, resource: Resource)]) throws
        -> [Resource]
    {
        func reuse(_ name: String, _ key: String, make: () throws -> Resource) rethrows -> Resource {
            if let entry = kept[name], entry.key == key { return entry.resource }
            let resource = try make()
            kept[name] = (key, resource)
            return resource
        }
        var resources: [Resource] = []
        for index in config.timeouts.indices {
            let name = config.name(index)
            let serviceName = config.serviceNames[index]
            resources.append(
                try reuse("cds/\(name)", "\(config.timeouts[index])/\(serviceName ?? "")") {
                    var cluster = TestResources.edsCluster(name, connectTimeoutSeconds: config.timeouts[index])
                    if let serviceName { cluster.edsClusterConfig.serviceName = serviceName }
                    return try Resource(cluster)
                })
            resources.append(
                try reuse("eds/\(serviceName ?? name)", "\(config.endpointPorts[index])") {
                    try Resource(
                        TestResources.loadAssignment(
                            serviceName ?? name, endpoints: [("10.0.0.1", config.endpointPorts[index])]))
                })
        }
        resources.append(try Resource(TestResources.httpListener("listener", port: 8080, routeConfigName: "routes")))
        resources.append(
            try Resource(
                TestResources.routeConfiguration(
                    "routes", routes: config.timeouts.indices.map { ("/\($0)", config.name($0)) })
            ))
        return resources
    }

    static func expectSame(_ patched: Snapshot, _ fresh: Snapshot, _ step: String) {
        #expect(patched == fresh, "\(step)")
        #expect(patched.inconsistencies() == fresh.inconsistencies(), "\(step)")
        for type in ResourceType.allCases {
            #expect(patched[type].version == fresh[type].version, "\(step): \(type)")
            #expect(patched[type].versions == fresh[type].versions, "\(step): \(type)")
            #expect(
                patched[type].sorted.map { "\($0.name) \($0.version)" }
                    == fresh[type].sorted.map { "\($0.name) \($0.version)" }, "\(step): \(type)")
            #expect(patched[type].byName.mapValues(\.version) == fresh[type].versions, "\(step): \(type)")
        }
    }

    @Test("edits, one or many, renames, reorders, additions and removals give the snapshot built afresh")
    func patchedEqualsFresh() throws {
        var random = SplitMix64(seed: 15)
        var config = Config(count: 40)
        var kept: [String: (key: String, resource: Resource)] = [:]
        var previous = try Snapshot(try Self.resources(config, kept: &kept))
        #expect(previous.inconsistencies().isEmpty)
        for step in 0..<200 {
            let index = Int.random(in: 0..<config.timeouts.count, using: &random)
            var description: String
            switch Int.random(in: 0..<7, using: &random) {
            case 0:
                config.timeouts[index] += 1
                description = "cluster \(index) changed"
            case 1:
                config.endpointPorts[index] += 1
                description = "endpoints \(index) changed"
            case 2:
                for other in 0..<config.timeouts.count where Bool.random(using: &random) {
                    config.timeouts[other] += 1
                }
                description = "about half the clusters changed"
            case 3:
                // The cluster now needs other endpoints: its references change, not its name.
                config.serviceNames[index] = config.serviceNames[index] == nil ? "moved-\(index)" : nil
                description = "cluster \(index) points at other endpoints"
            case 4:
                config.timeouts.append(1)
                config.serviceNames.append(nil)
                config.endpointPorts.append(80)
                description = "a route added"
            case 5 where config.timeouts.count > 2:
                config.timeouts.removeLast()
                config.serviceNames.removeLast()
                config.endpointPorts.removeLast()
                description = "a route removed"
            default:
                description = "nothing changed"
            }
            var resources = try Self.resources(config, kept: &kept)
            if step % 17 == 0 {
                resources.swapAt(0, 2)
                description += ", two clusters given in another order"
            }
            let patched = try Snapshot(resources, previous: previous)
            Self.expectSame(patched, try Snapshot(resources), "step \(step): \(description)")
            previous = patched
        }
    }

    @Test("a patched snapshot whose cluster needs other endpoints is found inconsistent, though the last was not")
    func referencesChecked() throws {
        var config = Config(count: 3)
        var kept: [String: (key: String, resource: Resource)] = [:]
        let previous = try Snapshot(try Self.resources(config, kept: &kept))
        #expect(previous.inconsistencies().isEmpty)
        config.serviceNames[1] = "elsewhere"
        var resources = try Self.resources(config, kept: &kept)
        // The endpoints keep their old name: the cluster's new EDS name is missing.
        resources[3] = try #require(previous[.endpoint][config.name(1)])
        let patched = try Snapshot(resources, previous: previous)
        #expect(
            patched.inconsistencies() == [
                .missingReference(from: .cluster, name: config.name(1), to: .endpoint, missing: "elsewhere"),
                .unreferenced(type: .endpoint, name: config.name(1), expectedFrom: .cluster),
            ])
    }

    @Test("a duplicate name is refused with a last snapshot too")
    func duplicatesRefused() throws {
        var kept: [String: (key: String, resource: Resource)] = [:]
        let resources = try Self.resources(Config(count: 3), kept: &kept)
        let previous = try Snapshot(resources)
        #expect(throws: SnapshotError.duplicateName(type: .cluster, name: resources[0].name)) {
            try Snapshot(resources + [resources[0]], previous: previous)
        }
    }
}
