import GatewayIR
import XDSCache

/// GatewayConfig → the Snapshot its Envoys are served: clusters with their endpoints, listeners
/// with their route configurations.
public enum SnapshotTranslator {
    public static func snapshot(_ config: GatewayConfig) throws -> Snapshot {
        var resources: [Resource] = []
        for cluster in config.clusters {
            resources.append(try Resource(try ClusterTranslator.cluster(cluster)))
            if cluster.discovery == .endpoints {
                resources.append(try Resource(ClusterTranslator.loadAssignment(cluster)))
            }
        }
        for listener in config.listeners {
            resources.append(try Resource(try ListenerTranslator.listener(listener)))
            resources.append(try Resource(try RouteTranslator.routeConfiguration(listener)))
        }
        return try Snapshot(resources)
    }
}
