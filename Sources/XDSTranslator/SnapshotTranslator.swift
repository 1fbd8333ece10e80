import GatewayIR
import Parallel
import XDSCache

/// GatewayConfig → the Snapshot its Envoys are served: clusters with their endpoints, listeners
/// with their route configurations, and the certificates they load.
public enum SnapshotTranslator {
    public static func snapshot(_ config: GatewayConfig) throws -> Snapshot {
        var memo = TranslationMemo()
        return try snapshot(config, memo: &memo)
    }

    /// `snapshot(config)`, reusing what `memo` kept from the last translation of this Gateway
    /// wherever the IR is unchanged, and keeping what this one makes for the next. A failed
    /// translation may leave parts it made in `memo`, each valid for its IR.
    public static func snapshot(_ config: GatewayConfig, memo: inout TranslationMemo) throws -> Snapshot {
        memo.generation &+= 1
        var resources: [Resource] = []
        resources.reserveCapacity(config.clusters.count * 2 + config.listeners.count * 2)
        // Clusters the memo does not have are made on every core: a first load of ten thousand
        // routes makes ten thousand, and each depends on its own IR alone.
        let kept = config.clusters.indices.map { memo.parts.clusters.made(for: config.clusters[$0], at: $0) }
        let missing = config.clusters.indices.filter { kept[$0] == nil }
        var made = Parallel.results(missing.map { config.clusters[$0] }, makeClusterResources).makeIterator()
        var clusters: [TranslationMemo.Part<BackendCluster, [Resource]>] = []
        clusters.reserveCapacity(config.clusters.count)
        for (cluster, kept) in zip(config.clusters, kept) {
            let clusterResources: [Resource]
            if let kept {
                clusterResources = kept
                memo.reused += 1
            } else {
                clusterResources = try made.next()!.get()
            }
            resources += clusterResources
            clusters.append(.init(ir: cluster, made: clusterResources))
        }
        var listeners: [ListenerTranslator.Listener] = []
        for kind in listenerKinds {
            for listener in try kind.listeners(config) { merge(listener, into: &listeners) }
            resources += try kind.resources(config, memo: &memo)
        }
        resources += try listeners.map { try Resource($0) }
        // Certificates over SDS, those a listener or cluster served here loads.
        let used = resources.reduce(into: Set<String>()) { $0.formUnion($1.secretReferences) }
        resources += try config.secrets.filter { used.contains($0.name) }.map { try Resource(TLSSecrets.secret($0)) }
        resources += try config.trustBundles.filter { used.contains($0.name) }.map {
            try Resource(TrustBundleSecrets.secret($0))
        }
        let snapshot = try Snapshot(resources, previous: memo.snapshot)
        memo.snapshot = snapshot
        memo.parts.clusters = .init(clusters)
        memo.forgetUnusedRouteConfigurations()
        return snapshot
    }

    /// A cluster and, for EDS, its load assignment.
    @Sendable static func makeClusterResources(_ cluster: BackendCluster) throws -> [Resource] {
        try [Resource(try ClusterTranslator.cluster(cluster))]
            + (cluster.discovery == .endpoints ? [try Resource(try ClusterTranslator.loadAssignment(cluster))] : [])
    }

    /// Adds `listener`, or, when one already binds its address, adds its filter chains and
    /// listener filters to that one: HTTPS and TLS listeners of a Gateway may share a port (told
    /// apart by SNI), and Envoy refuses two listeners on one address. The first keeps its name.
    static func merge(_ listener: ListenerTranslator.Listener, into listeners: inout [ListenerTranslator.Listener]) {
        let address = listener.address.socketAddress
        guard
            let index = listeners.firstIndex(where: {
                let other = $0.address.socketAddress
                return (other.address, other.portValue, other.protocol) == (
                    address.address, address.portValue, address.protocol
                )
            })
        else {
            listeners.append(listener)
            return
        }
        listeners[index].filterChains += listener.filterChains
        for filter in listener.listenerFilters
        where !listeners[index].listenerFilters.contains(where: { $0.name == filter.name }) {
            listeners[index].listenerFilters.append(filter)
        }
    }
}
