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
        // Made apart by type, as the snapshot keeps them: ten thousand clusters and their load
        // assignments put into one array and sorted into types again were a tenth of an edit.
        var byType = Array(repeating: [Resource](), count: ResourceType.allCases.count)
        byType[ResourceType.cluster.rawValue].reserveCapacity(config.clusters.count + 1)
        byType[ResourceType.endpoint.rawValue].reserveCapacity(config.clusters.count)
        func add(_ resources: [Resource]) {
            for resource in resources { byType[resource.type.rawValue].append(resource) }
        }
        // Clusters the memo does not have are made on every core: a first load of ten thousand
        // routes makes ten thousand, and each depends on its own IR alone.
        let kept = config.clusters.indices.map { memo.parts.clusters.made(for: config.clusters[$0], at: $0) }
        let missing = config.clusters.indices.filter { kept[$0] == nil }
        let templates = ClusterTemplates()
        let made = try Parallel.results(missing.map { config.clusters[$0] }) {
            try makeClusterResources($0, templates: templates)
        }.map {
            try $0.get()
        }
        var madeAt = [Int](repeating: 0, count: config.clusters.count)
        for (position, index) in missing.enumerated() { madeAt[index] = position }
        let clusterResources = { (index: Int) in kept[index] ?? made[madeAt[index]] }
        for index in config.clusters.indices { add(clusterResources(index)) }
        memo.reused += config.clusters.count - missing.count
        var listeners: [ListenerTranslator.Listener] = []
        for kind in listenerKinds {
            for listener in try kind.listeners(config) { merge(listener, into: &listeners) }
            add(try kind.resources(config, memo: &memo))
        }
        add(try listeners.map { try Resource($0) })
        // Certificates over SDS, those a listener or cluster served here loads.
        var used = Set<String>()
        for type in [ResourceType.cluster, .listener] {
            for resource in byType[type.rawValue] where !resource.secretReferences.isEmpty {
                used.formUnion(resource.secretReferences)
            }
        }
        add(try config.secrets.filter { used.contains($0.name) }.map { try Resource(TLSSecrets.secret($0)) })
        add(
            try config.trustBundles.filter { used.contains($0.name) }.map {
                try Resource(TrustBundleSecrets.secret($0))
            })
        let snapshot = try Snapshot(byType: byType, previous: memo.snapshot)
        memo.snapshot = snapshot
        memo.parts.clusters.keep(config.clusters, unchanged: kept.map { $0 != nil }, made: clusterResources)
        memo.forgetUnusedRouteConfigurations()
        return snapshot
    }

    /// A cluster and, for EDS, its load assignment.
    static func makeClusterResources(_ cluster: BackendCluster, templates: ClusterTemplates) throws -> [Resource] {
        let made =
            ClusterTemplates.applies(to: cluster)
            ? try templates.resource(cluster) : try Resource(try ClusterTranslator.cluster(cluster))
        guard cluster.discovery == .endpoints else { return [made] }
        let encoded = try ClusterTranslator.encodedLoadAssignment(cluster)
        let assignment = Resource(
            ClusterTranslator.LoadAssignment.self, name: cluster.name, own: encoded, split: encoded.count)
        return [made, assignment]
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
