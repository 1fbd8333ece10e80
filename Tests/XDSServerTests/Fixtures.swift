import XDSCache
import XDSServer
import XDSTesting

/// Snapshots built from named clusters (each with its endpoints) and one listener with its routes.
enum Fixtures {
    static let cds = ResourceType.cluster.typeURL
    static let eds = ResourceType.endpoint.typeURL
    static let lds = ResourceType.listener.typeURL
    static let rds = ResourceType.route.typeURL

    /// `clusters` are named with their endpoint port, so changing a port changes only that
    /// ClusterLoadAssignment; `routeTo` picks the cluster the route sends to.
    static func snapshot(
        clusters: [String: Int], routeTo: String? = nil, listenerPort: Int = 10080, listeners: Int = 1,
        connectTimeouts: [String: Int64] = [:]
    ) throws -> Snapshot {
        var resources: [Resource] = []
        for (name, port) in clusters {
            resources.append(
                try Resource(TestResources.edsCluster(name, connectTimeoutSeconds: connectTimeouts[name] ?? 1)))
            resources.append(try Resource(TestResources.loadAssignment(name, endpoints: [("127.0.0.1", port)])))
        }
        for index in 0..<listeners {
            let routeName = "routes_\(index)"
            resources.append(
                try Resource(
                    TestResources.httpListener(
                        "listener_\(index)", port: listenerPort + index, routeConfigName: routeName)))
            let target = routeTo ?? clusters.keys.sorted().first ?? "none"
            resources.append(try Resource(TestResources.routeConfiguration(routeName, routes: [("/", target)])))
        }
        return try Snapshot(resources)
    }
}

extension SotWResponse {
    var names: [String] { resources.map(\.name) }
}

extension DeltaResponse {
    var names: [String] { resources.map(\.name) }
}

/// Clusters that change at random, for the seeded tests: names from `universe`, six of them at
/// first. Each change moves the endpoints or the connect timeout of one cluster or of every
/// one, and one time in four adds or removes a cluster.
struct ChangingClusters {
    let universe = (0..<10).map { "c\($0)" }
    private var ports: [String: Int] = [:]
    private var timeouts: [String: Int64] = [:]

    init() {
        for name in universe.prefix(6) {
            ports[name] = 1000
            timeouts[name] = 1
        }
    }

    func snapshot() throws -> Snapshot { try Fixtures.snapshot(clusters: ports, connectTimeouts: timeouts) }

    mutating func change(using random: inout SplitMix64) throws -> Snapshot {
        let present = ports.keys.sorted()
        let changing = Int.random(in: 0..<3, using: &random) == 0 ? present : [present.randomElement(using: &random)!]
        for name in changing {
            if Bool.random(using: &random) { ports[name]! += 1 } else { timeouts[name]! += 1 }
        }
        if Int.random(in: 0..<4, using: &random) == 0, let name = universe.randomElement(using: &random) {
            if ports[name] == nil {
                ports[name] = 2000
                timeouts[name] = 1
            } else if ports.count > 1 {
                ports[name] = nil
                timeouts[name] = nil
            }
        }
        return try snapshot()
    }
}
