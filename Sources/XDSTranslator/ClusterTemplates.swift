import EnvoyAPI
import GatewayIR
import SwiftProtobuf
import Synchronization
import XDSCache

/// Clusters of one policy share one encoding of everything but their names.
///
/// Ten thousand routes under a Gateway-wide policy make twenty thousand clusters that differ
/// only in their name, their EDS service name and their source tag: everything else (timeouts,
/// circuit breakers, load balancing, health checks, protocol options) comes from the policy and
/// the upstream protocol. SwiftProtobuf builds each of those nested messages for every cluster
/// and works out each one's size again at every level it writes: more than half of making a
/// cluster. A message's encoding is its fields' encodings one after another, so a cluster here is
/// its naming fields, written by hand, around the rest, encoded once per policy and upstream
/// protocol: the very bytes SwiftProtobuf gives the message `ClusterTranslator.cluster` makes.
/// The rest is kept once, in every such cluster's resource (`SharedBytes`).
///
/// Only EDS clusters without upstream TLS are made this way: the features read nothing else of
/// them (DNS clusters carry their endpoints, TLS sockets name their endpoint groups).
/// `ClusterTemplateTests` makes every golden case's clusters both ways and compares their bytes.
final class ClusterTemplates: Sendable {
    private struct Key: Hashable {
        /// Equal boxes compare by identity first, and hash by the fingerprint they keep.
        var policy: OutOfLine<ClusterPolicy>
        var upstreamProtocol: BackendCluster.UpstreamProtocol
    }

    /// The cluster's fields in number order, around the naming ones: `type` (2) comes between
    /// `name` (1) and `eds_cluster_config` (3), the rest after them, and the source tag (an
    /// unknown field, SourceMetadata) last of all.
    private struct Template: Sendable {
        var type: [UInt8]
        /// Kept once for every cluster of the template (`Resource`'s pieces).
        var rest: SharedBytes
        var secrets: Set<String>
    }

    private let templates = Mutex<[Key: Template]>([:])

    static func applies(to backend: BackendCluster) -> Bool {
        backend.discovery == .endpoints && !backend.groups.contains { $0.tls != nil }
    }

    /// The cluster of `backend`, which `applies(to:)`.
    func resource(_ backend: BackendCluster) throws -> Resource {
        let key = Key(policy: backend.sharedPolicy, upstreamProtocol: backend.upstreamProtocol)
        let template = try templates.withLock { $0[key] } ?? add(try Self.template(backend), for: key)
        let name = backend.name
        let metadata = backend.metadata.map(SourceMetadata.encoded)
        let eds = Self.edsConfig.count + Wire.stringSize(2, name.utf8.count)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(
            Wire.stringSize(1, name.utf8.count) + Wire.lengthSize(3, eds)
                + (metadata.map { SourceMetadata.clusterKey.count + Wire.varintSize($0.count) + $0.count } ?? 0)
                + template.type.count)
        Wire.string(1, name, into: &bytes)
        bytes += template.type
        // eds_cluster_config: {eds_config (1), service_name (2)}.
        Wire.header(3, eds, into: &bytes)
        bytes += Self.edsConfig
        Wire.string(2, name, into: &bytes)
        let rest = bytes.count
        if let metadata {
            bytes += SourceMetadata.clusterKey
            Wire.varint(metadata.count, into: &bytes)
            bytes += metadata
        }
        return Resource(
            EnvoyCluster.self, name: name, own: bytes, split: rest, shared: template.rest, references: [name],
            secretReferences: template.secrets)
    }

    /// The first template made for `key` is kept: cores that made one at the same time made the same.
    private func add(_ template: Template, for key: Key) -> Template {
        templates.withLock { templates in
            if let made = templates[key] { return made }
            templates[key] = template
            return template
        }
    }

    /// `backend`'s cluster without the fields that name it.
    private static func template(_ backend: BackendCluster) throws -> Template {
        var cluster = try ClusterTranslator.cluster(backend)
        cluster.name = ""
        cluster.clearEdsClusterConfig()
        cluster.clearMetadata()
        cluster.unknownFields = UnknownStorage()  // the source tag
        var type = EnvoyCluster()
        type.clusterDiscoveryType = cluster.clusterDiscoveryType
        cluster.clusterDiscoveryType = nil
        var options = BinaryEncodingOptions()
        options.useDeterministicOrdering = true
        return Template(
            type: try type.serializedBytes(options: options),
            rest: SharedBytes(try cluster.serializedBytes(options: options)),
            secrets: try cluster.referencedSecrets())
    }

    /// EdsClusterConfig's `eds_config` field, the same for every cluster: ADS, resource API v3.
    private static let edsConfig: [UInt8] = {
        var config = EnvoyCluster.EdsClusterConfig()
        config.edsConfig = .adsV3
        // Proto3 messages have no required fields: encoding cannot fail.
        return (try? config.serializedBytes()) ?? []
    }()
}
