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
                resources.append(try Resource(try ClusterTranslator.loadAssignment(cluster)))
            }
        }
        for kind in listenerKinds { resources += try kind.resources(config) }
        return try Snapshot(resources)
    }
}
