import FoundationEssentials

// The admin server's `/status` document: served by ControlPlane, printed by `switchboard status`,
// read by tests. A module of its own so that readers need not link the server.

/// What `/status` reports and `switchboard status` prints: the last reload, every resource's
/// conditions, and every connected Envoy with what it was sent, ACKed and NACKed.
public struct AdminStatus: Codable, Sendable {
    public struct Reload: Codable, Sendable {
        public var outcome: String
        public var at: Date
        public var diagnostics: [String]
        /// Files whose previous good content is in effect.
        public var lastKnownGood: [String]
        public var error: String?

        public init(outcome: String, at: Date, diagnostics: [String], lastKnownGood: [String], error: String?) {
            self.outcome = outcome
            self.at = at
            self.diagnostics = diagnostics
            self.lastKnownGood = lastKnownGood
            self.error = error
        }
    }

    public struct TypeState: Codable, Sendable {
        public var sent: String?
        public var acked: String?
        public var nackVersion: String?
        public var nackMessage: String?

        public init(sent: String?, acked: String?, nackVersion: String?, nackMessage: String?) {
            self.sent = sent
            self.acked = acked
            self.nackVersion = nackVersion
            self.nackMessage = nackMessage
        }
    }

    public struct Envoy: Codable, Sendable {
        public var nodeID: String
        public var nodeCluster: String
        public var stream: String
        public var connectedSince: Date
        /// By type (`cds`, `eds`, `lds`, `rds`).
        public var types: [String: TypeState]

        public init(
            nodeID: String, nodeCluster: String, stream: String, connectedSince: Date, types: [String: TypeState]
        ) {
            self.nodeID = nodeID
            self.nodeCluster = nodeCluster
            self.stream = stream
            self.connectedSince = connectedSince
            self.types = types
        }
    }

    public var ready: Bool
    /// Configuration paths not being watched right now (edits to them go unseen until they are).
    public var unwatched: [String]?
    public var reload: Reload?
    /// The translator's status report as JSON (Gateway API shapes).
    public var resources: JSONValue?
    public var envoys: [Envoy]

    public init(ready: Bool, unwatched: [String]?, reload: Reload?, resources: JSONValue?, envoys: [Envoy]) {
        self.ready = ready
        self.unwatched = unwatched
        self.reload = reload
        self.resources = resources
        self.envoys = envoys
    }
}

/// JSON passed through as it is (the status report's own encoding).
public indirect enum JSONValue: Codable, Sendable, Equatable {
    case object([String: JSONValue])
    case array([JSONValue])
    case string(String)
    case number(Double)
    case bool(Bool)
    case null

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .object(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        case .null: try container.encodeNil()
        }
    }
}

extension AdminStatus {
    /// `/status` as the admin server encodes it (dates in ISO 8601).
    public static func decode(_ data: Data) throws -> AdminStatus {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(AdminStatus.self, from: data)
    }
}
