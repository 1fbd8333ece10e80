import EnvoyAPI
import FoundationEssentials
import SwiftProtobuf

/// One xDS resource, serialized once when it is made and shared by every stream that sends it.
///
/// `version` is a hash of the deterministic serialization, so the same content has the same
/// version in every process (go-control-plane's `HashVersion` idea, per resource).
///
/// Immutable, so it behaves as a value; a class because every stream's view of a snapshot holds
/// thousands of these, and copying one reference is far cheaper than copying five.
public final class Resource: Sendable, Hashable {
    public let type: ResourceType
    public let name: String
    public let version: String
    /// The resource message's bytes, in one piece. The server writes them into responses from
    /// where they are kept (`withEncodedPieces`): a resource may keep them in pieces, one of them
    /// shared with other resources, and then this puts them together when asked for.
    public var encoded: Data {
        switch storage {
        case .data(let data):
            return data
        case .pieces:
            var bytes: [UInt8] = []
            bytes.reserveCapacity(serializedSize)
            withEncodedPieces { bytes += $0 }
            return Data(bytes)
        }
    }
    /// How many bytes `encoded` has.
    public let serializedSize: Int
    /// Names of resources of another type this one needs: a cluster's EDS name, a listener's
    /// RDS route configuration names. The snapshot's consistency check resolves them.
    public let references: References
    /// Names of the SDS secrets this one needs: a listener's certificates, a cluster's CA.
    public let secretReferences: Set<String>

    /// The packed resource, as a DiscoveryResponse holds it; its bytes are shared, not copied.
    /// Made when asked for (the server writes responses from `encoded`): kept with every
    /// resource, it and `deltaResource` took about 650 bytes each, 13 MB at 10000 routes.
    public var packed: Google_Protobuf_Any {
        var packed = Google_Protobuf_Any()
        packed.typeURL = type.typeURL
        packed.value = encoded
        return packed
    }

    /// The same bytes wrapped for a delta response (name, version, resource).
    public var deltaResource: Envoy_Service_Discovery_V3_Resource {
        var delta = Envoy_Service_Discovery_V3_Resource()
        delta.name = name
        delta.version = version
        delta.resource = packed
        return delta
    }

    public convenience init<Message: XDSResourceMessage>(_ message: Message) throws {
        self.init(
            type: Message.resourceType, name: message.resourceName,
            encoded: try Google_Protobuf_Any.deterministic(message).value,
            references: References(try message.referencedNames()),
            secretReferences: try message.referencedSecrets())
    }

    /// A resource of `Message` whose deterministic encoding the caller has put together from
    /// parts encoded before (a route configuration from its virtual hosts, unchanged since the
    /// last translation): the bytes must be those `Google_Protobuf_Any.deterministic` would give.
    public convenience init<Message: XDSResourceMessage>(
        _: Message.Type, name: String, encoded: Data, references: References = [], secretReferences: Set<String> = []
    ) {
        self.init(
            type: Message.resourceType, name: name, encoded: encoded, references: references,
            secretReferences: secretReferences)
    }

    /// A resource of `Message` whose deterministic encoding is `own` with `shared` put in at
    /// `split`: what many resources have in common is kept once (the clusters of one policy
    /// differ only in their names). The bytes must be those `Google_Protobuf_Any.deterministic`
    /// would give.
    public convenience init<Message: XDSResourceMessage>(
        _: Message.Type, name: String, own: [UInt8], split: Int, shared: SharedBytes? = nil,
        references: References = [], secretReferences: Set<String> = []
    ) {
        precondition(split >= 0 && split <= own.count, "a split within the resource's own bytes")
        self.init(
            type: Message.resourceType, name: name, storage: .pieces(own: own, split: split, shared: shared),
            references: references, secretReferences: secretReferences)
    }

    private convenience init(
        type: ResourceType, name: String, encoded: Data, references: References, secretReferences: Set<String>
    ) {
        self.init(
            type: type, name: name, storage: .data(encoded), references: references,
            secretReferences: secretReferences)
    }

    private init(
        type: ResourceType, name: String, storage: Storage, references: References, secretReferences: Set<String>
    ) {
        self.type = type
        self.name = name
        self.storage = storage
        switch storage {
        case .data(let data):
            serializedSize = data.count
            version = ContentHash.version(of: data)
        case .pieces(let own, _, let shared):
            serializedSize = own.count + (shared?.bytes.count ?? 0)
            var hasher = ContentHash.PieceHasher()
            Self.pieces(of: storage) { hasher.update($0) }
            version = hasher.version
        }
        self.references = references
        self.secretReferences = secretReferences
    }

    /// Calls `body` with the encoding's bytes, piece after piece, in order (some may be empty).
    public func withEncodedPieces(_ body: (UnsafeRawBufferPointer) -> Void) {
        Self.pieces(of: storage, body)
    }

    private static func pieces(of storage: Storage, _ body: (UnsafeRawBufferPointer) -> Void) {
        switch storage {
        case .data(let data):
            data.withUnsafeBytes(body)
        case .pieces(let own, let split, let shared):
            own.withUnsafeBytes { all in
                body(UnsafeRawBufferPointer(rebasing: all[..<split]))
                shared?.bytes.withUnsafeBytes(body)
                body(UnsafeRawBufferPointer(rebasing: all[split...]))
            }
        }
    }

    private enum Storage: Sendable {
        case data(Data)
        /// `own[..<split]`, then `shared`, then `own[split...]`; an array costs one allocation
        /// where `Data` costs two.
        case pieces(own: [UInt8], split: Int, shared: SharedBytes?)
    }

    private let storage: Storage

    public static func == (lhs: Resource, rhs: Resource) -> Bool {
        lhs.type == rhs.type && lhs.name == rhs.name && lhs.version == rhs.version
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(type)
        hasher.combine(name)
        hasher.combine(version)
    }
}

/// Encoded bytes that many resources have in common, kept once (`Resource`'s pieces).
public final class SharedBytes: Sendable {
    public let bytes: [UInt8]

    public init(_ bytes: [UInt8]) { self.bytes = bytes }
}

extension Google_Protobuf_Any {
    /// Packs `message` with deterministic serialization (maps in key order).
    ///
    /// `Google_Protobuf_Any(message:)` keeps the message and serializes it later with the default,
    /// non-deterministic map order, which would give the same content different bytes, and so
    /// different versions, in different processes. Every Any nested in a resource (for example a
    /// filter's `typed_config`) must be built with this too.
    public static func deterministic(_ message: some SwiftProtobuf.Message) throws -> Google_Protobuf_Any {
        var options = BinaryEncodingOptions()
        options.useDeterministicOrdering = true
        var any = Google_Protobuf_Any()
        any.typeURL = "type.googleapis.com/" + type(of: message).protoMessageName
        any.value = try message.serializedBytes(options: options)
        return any
    }
}

/// An Envoy message that is an xDS resource of one of our types.
public protocol XDSResourceMessage: SwiftProtobuf.Message {
    static var resourceType: ResourceType { get }
    var resourceName: String { get }
    /// Names of resources of another type that this one needs to work.
    func referencedNames() throws -> Set<String>
    /// Names of the SDS secrets this one needs to work.
    func referencedSecrets() throws -> Set<String>
}

extension XDSResourceMessage {
    public func referencedSecrets() throws -> Set<String> { [] }
}

extension Envoy_Extensions_TransportSockets_Tls_V3_Secret: XDSResourceMessage {
    public static var resourceType: ResourceType { .secret }
    public var resourceName: String { name }
    public func referencedNames() -> Set<String> { [] }
}

extension Envoy_Config_Core_V3_TransportSocket {
    /// The SDS secrets a TLS transport socket loads over ADS (certificates, validation context),
    /// looking inside a PROXY protocol socket's inner socket.
    func sdsSecretNames() throws -> Set<String> {
        guard case .typedConfig(let config) = configType else { return [] }
        var common: Envoy_Extensions_TransportSockets_Tls_V3_CommonTlsContext
        switch config.typeURL {
        case "type.googleapis.com/" + Envoy_Extensions_TransportSockets_Tls_V3_DownstreamTlsContext.protoMessageName:
            common = try Envoy_Extensions_TransportSockets_Tls_V3_DownstreamTlsContext(serializedBytes: config.value)
                .commonTlsContext
        case "type.googleapis.com/" + Envoy_Extensions_TransportSockets_Tls_V3_UpstreamTlsContext.protoMessageName:
            common = try Envoy_Extensions_TransportSockets_Tls_V3_UpstreamTlsContext(serializedBytes: config.value)
                .commonTlsContext
        case "type.googleapis.com/"
            + Envoy_Extensions_TransportSockets_ProxyProtocol_V3_ProxyProtocolUpstreamTransport.protoMessageName:
            let inner = try Envoy_Extensions_TransportSockets_ProxyProtocol_V3_ProxyProtocolUpstreamTransport(
                serializedBytes: config.value)
            return inner.hasTransportSocket ? try inner.transportSocket.sdsSecretNames() : []
        default:
            return []
        }
        var names = Set(common.tlsCertificateSdsSecretConfigs.map(\.name))
        switch common.validationContextType {
        case .validationContextSdsSecretConfig(let sds): names.insert(sds.name)
        case .combinedValidationContext(let combined): names.insert(combined.validationContextSdsSecretConfig.name)
        default: break
        }
        names.remove("")
        return names
    }
}

extension Ratelimit_Config_Ratelimit_V3_RateLimitConfig: XDSResourceMessage {
    public static var resourceType: ResourceType { .rateLimitConfig }
    public var resourceName: String { name }
    public func referencedNames() -> Set<String> { [] }
}

extension Envoy_Config_Cluster_V3_Cluster: XDSResourceMessage {
    public static var resourceType: ResourceType { .cluster }
    public var resourceName: String { name }

    /// An EDS cluster needs the ClusterLoadAssignment named by `eds_cluster_config.service_name`,
    /// or by the cluster's own name when that is empty (Envoy's rule).
    public func referencedNames() -> Set<String> {
        guard case .type(.eds) = clusterDiscoveryType else { return [] }
        return [edsClusterConfig.serviceName.isEmpty ? name : edsClusterConfig.serviceName]
    }

    public func referencedSecrets() throws -> Set<String> {
        var names = hasTransportSocket ? try transportSocket.sdsSecretNames() : []
        for match in transportSocketMatches where match.hasTransportSocket {
            names.formUnion(try match.transportSocket.sdsSecretNames())
        }
        return names
    }
}

extension Envoy_Config_Endpoint_V3_ClusterLoadAssignment: XDSResourceMessage {
    public static var resourceType: ResourceType { .endpoint }
    public var resourceName: String { clusterName }
    public func referencedNames() -> Set<String> { [] }
}

extension Envoy_Config_Listener_V3_Listener: XDSResourceMessage {
    public static var resourceType: ResourceType { .listener }
    public var resourceName: String { name }

    /// Every route configuration an HTTP connection manager in this listener loads over RDS.
    public func referencedNames() throws -> Set<String> {
        var names = Set<String>()
        let chains = filterChains + (hasDefaultFilterChain ? [defaultFilterChain] : [])
        for filter in chains.flatMap(\.filters) {
            guard case .typedConfig(let config) = filter.configType,
                config.typeURL == HCM.typeURL
            else { continue }
            let hcm = try HCM(serializedBytes: config.value)
            if case .rds(let rds) = hcm.routeSpecifier {
                names.insert(rds.routeConfigName)
            }
        }
        return names
    }

    public func referencedSecrets() throws -> Set<String> {
        let chains = filterChains + (hasDefaultFilterChain ? [defaultFilterChain] : [])
        return try chains.filter(\.hasTransportSocket).reduce(into: Set<String>()) {
            $0.formUnion(try $1.transportSocket.sdsSecretNames())
        }
    }

    private typealias HCM = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager
}

extension Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager {
    static var typeURL: String { "type.googleapis.com/" + protoMessageName }
}

extension Envoy_Config_Route_V3_RouteConfiguration: XDSResourceMessage {
    public static var resourceType: ResourceType { .route }
    public var resourceName: String { name }
    public func referencedNames() -> Set<String> { [] }
}
