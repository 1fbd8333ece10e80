import GatewayIR
import XDSCache

/// GatewayConfig → the Snapshot its Envoys are served: clusters with their endpoints, listeners
/// with their route configurations, and the certificates they load.
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
        // Certificates over SDS, those a listener or cluster served here loads.
        let used = resources.reduce(into: Set<String>()) { $0.formUnion($1.secretReferences) }
        resources += try config.secrets.filter { used.contains($0.name) }.map { try Resource(TLSSecrets.secret($0)) }
        resources += try config.trustBundles.filter { used.contains($0.name) }.map {
            try Resource(TrustBundleSecrets.secret($0))
        }
        return try Snapshot(resources)
    }
}
