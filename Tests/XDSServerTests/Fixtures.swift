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
