import XDSCache

/// The parts of an xDS request and response the stream state machines reason about. The gRPC
/// edge converts to and from the protobuf messages, so the machines stay pure and testable.

/// Envoy's `error_detail` on a NACK.
public struct ErrorDetail: Sendable, Equatable {
    public var code: Int32
    public var message: String

    public init(code: Int32, message: String) {
        self.code = code
        self.message = message
    }
}

/// A state-of-the-world `DiscoveryRequest`.
public struct SotWRequest: Sendable, Equatable {
    public var typeURL: String
    public var versionInfo: String
    public var responseNonce: String
    public var resourceNames: [String]
    public var errorDetail: ErrorDetail?

    public init(
        typeURL: String, versionInfo: String = "", responseNonce: String = "", resourceNames: [String] = [],
        errorDetail: ErrorDetail? = nil
    ) {
        self.typeURL = typeURL
        self.versionInfo = versionInfo
        self.responseNonce = responseNonce
        self.resourceNames = resourceNames
        self.errorDetail = errorDetail
    }
}

/// A state-of-the-world `DiscoveryResponse`: every resource of the type the client wants.
public struct SotWResponse: Sendable, Equatable {
    public var type: ResourceType
    public var versionInfo: String
    public var nonce: String
    /// Sorted by name, so equal content gives equal bytes.
    public var resources: [Resource]
    /// `versionInfo` and `resources` already encoded, shared with every stream sent the same
    /// whole type; nil when this stream's selection is its own. Not part of equality: it is the
    /// same content, encoded.
    public var sharedHead: SharedResponseHead?

    public init(
        type: ResourceType, versionInfo: String, nonce: String, resources: [Resource],
        sharedHead: SharedResponseHead? = nil
    ) {
        self.type = type
        self.versionInfo = versionInfo
        self.nonce = nonce
        self.resources = resources
        self.sharedHead = sharedHead
    }

    public static func == (lhs: SotWResponse, rhs: SotWResponse) -> Bool {
        (lhs.type, lhs.versionInfo, lhs.nonce, lhs.resources) == (rhs.type, rhs.versionInfo, rhs.nonce, rhs.resources)
    }
}

/// An incremental `DeltaDiscoveryRequest`.
public struct DeltaRequest: Sendable, Equatable {
    public var typeURL: String
    public var responseNonce: String
    public var subscribe: [String]
    public var unsubscribe: [String]
    /// Only meaningful on the first request of a type in a stream: what the client already has.
    public var initialResourceVersions: [String: String]
    public var errorDetail: ErrorDetail?

    public init(
        typeURL: String, responseNonce: String = "", subscribe: [String] = [], unsubscribe: [String] = [],
        initialResourceVersions: [String: String] = [:], errorDetail: ErrorDetail? = nil
    ) {
        self.typeURL = typeURL
        self.responseNonce = responseNonce
        self.subscribe = subscribe
        self.unsubscribe = unsubscribe
        self.initialResourceVersions = initialResourceVersions
        self.errorDetail = errorDetail
    }
}

/// An incremental `DeltaDiscoveryResponse`: changed resources and removed names.
public struct DeltaResponse: Sendable, Equatable {
    public var type: ResourceType
    /// The snapshot's version of the whole type, for debugging only (Envoy ignores it).
    public var systemVersionInfo: String
    public var nonce: String
    public var resources: [Resource]
    public var removedResources: [String]
    /// `systemVersionInfo` and `resources` already encoded, when `resources` is the whole type:
    /// shared with every stream sent it. Not part of equality.
    public var sharedHead: SharedResponseHead?

    public init(
        type: ResourceType, systemVersionInfo: String, nonce: String, resources: [Resource],
        removedResources: [String], sharedHead: SharedResponseHead? = nil
    ) {
        self.type = type
        self.systemVersionInfo = systemVersionInfo
        self.nonce = nonce
        self.resources = resources
        self.removedResources = removedResources
        self.sharedHead = sharedHead
    }

    public static func == (lhs: DeltaResponse, rhs: DeltaResponse) -> Bool {
        (lhs.type, lhs.systemVersionInfo, lhs.nonce, lhs.resources, lhs.removedResources)
            == (rhs.type, rhs.systemVersionInfo, rhs.nonce, rhs.resources, rhs.removedResources)
    }
}

/// What a stream learned from a request, for logs, metrics and status.
public enum StreamEvent: Sendable, Equatable {
    case ack(ResourceType, version: String)
    case nack(ResourceType, Nack)
    /// A request answering a response that has since been superseded; its ACK/NACK is ignored.
    case staleNonce(ResourceType, nonce: String)
    case unknownTypeURL(String)
}

/// A rejected response: the version Envoy refused and why.
public struct Nack: Sendable, Equatable {
    public var version: String
    public var nonce: String
    public var error: ErrorDetail
}

/// Per type, what this stream sent and what the client said about it.
public struct TypeStatus: Sendable, Equatable {
    public var lastSentVersion: String?
    public var lastSentNonce: String?
    public var lastAckedVersion: String?
    public var lastNack: Nack?
    /// A response was sent and neither ACKed nor NACKed yet.
    public var awaitingReply: Bool
}
