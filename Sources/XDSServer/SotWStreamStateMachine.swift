import XDSCache

/// The protocol state of one state-of-the-world ADS stream: pure, driven by requests and
/// snapshots, answering with the responses to send. No I/O, no clocks.
///
/// Rules it keeps:
/// - ACK and NACK are told apart per type by the nonce of the last response sent for that type;
///   a request with an older nonce is stale and ignored entirely.
/// - A NACKed version is not sent again to this stream; the next snapshot that changes the
///   type's content is (no resend loop, go-control-plane #962).
/// - Unsubscribing a name forgets it, so subscribing again sends it again (go-control-plane #431).
/// - On reconnect, a first request whose `version_info` equals what we would send gets nothing:
///   the client already has it (versions are content hashes, equal on every replica).
/// - Pushes follow `PushOrder`. For CDS and LDS a removal is itself a push: the first response
///   keeps removed resources at their old content, a later one drops them.
public struct SotWStreamStateMachine: Sendable {
    struct TypeState: Sendable {
        var subscribed = false
        var subscription = Subscription()
        /// What the client holds, as far as this stream knows: the resources last sent.
        var clientResources: [String: Resource] = [:]
        /// `version_info` of the first request, to be compared once a snapshot is known.
        var reconnectVersion: String?
        var hasSent = false
        var status = TypeStatus(awaitingReply: false)
        /// The names of the last request: Envoy repeats them on every ACK, and rebuilding the
        /// subscription from a thousand names each time costs more than comparing them.
        var requestedNames: [String] = []
        /// Whether the subscription selects the whole type, for the snapshot given.
        var coverage: (snapshot: Snapshot, all: Bool)?
        /// The snapshot whose whole content of this type `clientResources` is, when it is: then an
        /// update is judged from the difference between the two snapshots, worked out once and
        /// shared by every stream (SnapshotDiffs), instead of by comparing every resource.
        var heldWhole: Snapshot?
        /// The last nonce sent for the type (`ResponseNonces`).
        var lastNonce: UInt64 = 0
    }

    public typealias Output = StreamOutput<SotWResponse>

    private var types = Array(repeating: TypeState(), count: ResourceType.allCases.count)
    public private(set) var snapshot: Snapshot?
    /// Load assignments the client must be sent whatever it holds: Envoy warms an updated
    /// cluster on a fresh one and does not ask again. Owed for each cluster sent at a new
    /// version, and for every cluster when a resumed client's clusters are unknown.
    private var owedEndpoints: Set<String> = []

    public init() {}

    public func status(of type: ResourceType) -> TypeStatus { types[type.rawValue].status }

    /// Names the client subscribes to, `["*"]` for a wildcard.
    /// The names of the type's last request, as the stream keeps them (interned, shared).
    func requestedNames(of type: ResourceType) -> [String] { types[type.rawValue].requestedNames }

    public func subscribedNames(of type: ResourceType) -> [String] {
        let subscription = types[type.rawValue].subscription
        return (subscription.wildcard ? [Subscription.wildcardName] : []) + subscription.names.sorted()
    }

    public mutating func receive(_ request: SotWRequest) -> Output {
        var output = Output()
        guard let type = ResourceType(typeURL: request.typeURL) else {
            output.events.append(.unknownTypeURL(request.typeURL))
            return output
        }
        var state = types[type.rawValue]
        if request.responseNonce.isEmpty {
            if !state.subscribed && !request.versionInfo.isEmpty { state.reconnectVersion = request.versionInfo }
        } else if request.responseNonce != state.status.lastSentNonce {
            output.events.append(.staleNonce(type, nonce: request.responseNonce))
            return output
        } else if state.status.awaitingReply {
            state.status.awaitingReply = false
            if let error = request.errorDetail {
                let nack = Nack(
                    version: state.status.lastSentVersion ?? "", nonce: request.responseNonce, error: error)
                state.status.lastNack = nack
                output.events.append(.nack(type, nack))
            } else {
                state.status.lastAckedVersion = request.versionInfo
                output.events.append(.ack(type, version: request.versionInfo))
            }
        }

        if !state.subscribed || request.resourceNames != state.requestedNames {
            let requested = NameInterner.shared.list(request.resourceNames)
            state.subscription.replace(with: requested, type: type, isFirstRequest: !state.subscribed)
            state.requestedNames = requested.names
            state.coverage = nil
            let subscription = state.subscription
            state.clientResources = state.clientResources.filter { subscription.includes($0.key) }
            state.heldWhole = nil
        }
        state.subscribed = true
        types[type.rawValue] = state
        output.responses = flush()
        return output
    }

    public mutating func update(_ snapshot: Snapshot) -> Output {
        self.snapshot = snapshot
        return Output(responses: flush())
    }

    // MARK: - Deciding what to send

    private mutating func flush() -> [SotWResponse] {
        guard let snapshot else { return [] }
        for type in ResourceType.allCases {
            let state = types[type.rawValue]
            guard state.coverage.map({ $0.snapshot.version(of: type) != snapshot.version(of: type) }) ?? true else {
                continue
            }
            let all: Bool
            if let coverage = state.coverage, coverage.all {
                // It still covers everything unless names were added.
                all =
                    !SnapshotDiffs.shared.diff(type, from: coverage.snapshot, to: snapshot).addsNames
                    || state.subscription.coversAll(snapshot[type])
            } else {
                all = state.subscription.coversAll(snapshot[type])
            }
            types[type.rawValue].coverage = (snapshot, all)
        }
        adoptReconnectVersions(snapshot)
        var responses: [SotWResponse] = []
        while let (type, phase) = PushOrder.next(ResourceType.allCases.map { needs($0, snapshot) }) {
            responses.append(send(type, phase, snapshot))
        }
        adoptUnchangedVersions(snapshot)
        return responses
    }

    /// A client that is owed nothing of a type and ACKed the last response holds what the snapshot
    /// has for it; for status its stream is at the snapshot's version, as for delta streams. That
    /// is an EDS or RDS client whose names stayed the same while the type's version moved through
    /// names it does not (or no longer) subscribes to: a cluster removed, say, and its load
    /// assignment with it. Nothing is sent, since leaving a name out removes nothing; without this
    /// the stream would never show as converged. A NACKed last response is not advanced over.
    private mutating func adoptUnchangedVersions(_ snapshot: Snapshot) {
        for type in ResourceType.allCases {
            let state = types[type.rawValue]
            let version = snapshot.version(of: type)
            guard state.subscribed, state.hasSent, !state.status.awaitingReply, state.status.lastSentVersion != version,
                state.status.lastAckedVersion == state.status.lastSentVersion
            else { continue }
            // Only when the client holds exactly what it would be sent, nothing owed: `needs` takes
            // the snapshot's version as the sign of that. It may also hold names the snapshot no
            // longer has and it still asks for (a draining listener keeps its secrets until it is
            // gone), when it asks for everything the snapshot has: then it holds all of it, and the
            // count `needs` compares stays exact.
            let desired = desired(type, snapshot)
            guard state.clientResources.count == desired.count || state.coverage?.all == true,
                desired.allSatisfy({ state.clientResources[$0.key]?.version == $0.value.version }),
                type != .endpoint || !desired.keys.contains(where: owedEndpoints.contains)
            else { continue }
            types[type.rawValue].status.lastSentVersion = version
            types[type.rawValue].status.lastAckedVersion = version
        }
    }

    private mutating func adoptReconnectVersions(_ snapshot: Snapshot) {
        for type in ResourceType.allCases {
            guard let version = types[type.rawValue].reconnectVersion else { continue }
            types[type.rawValue].reconnectVersion = nil
            let desired = desired(type, snapshot)
            if Self.version(of: desired.values) == version {
                types[type.rawValue].clientResources = desired
                types[type.rawValue].heldWhole = nil
                types[type.rawValue].hasSent = true
                // The client holds this version and applied it (from another replica, or before
                // a restart): for status it is sent and acknowledged.
                types[type.rawValue].status.lastSentVersion = version
                types[type.rawValue].status.lastAckedVersion = version
            } else if type == .cluster {
                // Which of these clusters changed since the client's earlier stream is unknown.
                for cluster in desired.values { owedEndpoints.formUnion(cluster.references) }
            }
        }
    }

    private func needs(_ type: ResourceType, _ snapshot: Snapshot) -> PushOrder.Needs {
        let state = types[type.rawValue]
        var needs = PushOrder.Needs(awaitingReply: state.status.awaitingReply)
        guard state.subscribed else { return needs }
        if state.hasSent && state.coverage?.all == true && state.status.lastSentVersion == snapshot.version(of: type)
            && state.clientResources.count == snapshot[type].count && (type != .endpoint || owedEndpoints.isEmpty)
        {
            return needs  // The client has exactly the whole type: the common case, decided in O(1).
        }
        if state.hasSent, state.coverage?.all == true, let held = state.heldWhole {
            // The client holds a whole earlier snapshot of the type and wants the whole type now.
            let diff = Self.diff(type, from: held, to: snapshot)
            let changed =
                !diff.changed.isEmpty
                || (type == .endpoint && owedEndpoints.contains { snapshot[type][$0] != nil })
            needs.make = changed
            needs.break = type.isWildcardType && !diff.removed.isEmpty
            return needs
        }
        let desired = desired(type, snapshot)
        let changed =
            desired.contains { state.clientResources[$0.key]?.version != $0.value.version }
            || (type == .endpoint && desired.keys.contains(where: owedEndpoints.contains))
        if type.isWildcardType {
            needs.make = changed || !state.hasSent
            needs.break = state.clientResources.keys.contains { desired[$0] == nil }
        } else {
            // Leaving a name out of an EDS or RDS response removes nothing, so there is no break.
            needs.make = changed
        }
        return needs
    }

    private mutating func send(_ type: ResourceType, _ phase: PushOrder.Phase, _ snapshot: Snapshot) -> SotWResponse {
        var state = types[type.rawValue]
        let desired = desired(type, snapshot)
        var content = desired
        if state.hasSent, state.coverage?.all == true, let held = state.heldWhole {
            // The same as below, in proportion to what changed.
            let diff = Self.diff(type, from: held, to: snapshot)
            if phase == .make && type.isWildcardType {
                for name in diff.removed { content[name] = held[type][name] }
            }
            if type == .cluster && phase == .make {
                // Usually nothing is owed yet: then the diff's own set is shared, not copied.
                if owedEndpoints.isEmpty {
                    owedEndpoints = diff.referencesOfReplaced
                } else {
                    owedEndpoints.formUnion(diff.referencesOfReplaced)
                }
            }
        } else {
            if phase == .make && type.isWildcardType {
                // Keep what is being removed until everything that uses it has moved away.
                for (name, resource) in state.clientResources where content[name] == nil {
                    content[name] = resource
                }
            }
            if type == .cluster && phase == .make {
                for (name, resource) in content
                where state.clientResources[name].map({ $0.version != resource.version }) ?? false {
                    owedEndpoints.formUnion(resource.references)
                }
            }
        }
        // The response pays what it carries. What it leaves out the client does not hold either
        // (`clientResources` becomes `content`), so it goes whenever it is wanted, owed or not:
        // nothing stays owed. (Filtering the debt by the content was a thousand lookups a stream
        // on every push of all clusters.)
        if type == .endpoint { owedEndpoints = [] }
        let whole = content.count == snapshot[type].count && content.count == desired.count
        let resources = whole ? snapshot[type].sorted : content.values.sorted { $0.name < $1.name }
        let sharedHead = whole ? SharedResponseHeads.shared.head(.sotw, type, of: snapshot) : nil
        // A whole response takes its shared head's nonce: then it is the same bytes for every
        // stream.
        let nonce = ResponseNonces.take(after: &state.lastNonce, sharing: sharedHead)
        let response = SotWResponse(
            type: type, versionInfo: whole ? snapshot.version(of: type) : Self.version(of: resources),
            nonce: nonce, resources: resources, sharedHead: sharedHead)
        state.clientResources = content
        state.heldWhole = whole ? snapshot : nil
        state.hasSent = true
        state.status.lastSentVersion = response.versionInfo
        state.status.lastSentNonce = response.nonce
        state.status.awaitingReply = true
        types[type.rawValue] = state
        return response
    }

    private static func diff(_ type: ResourceType, from old: Snapshot, to new: Snapshot) -> SnapshotDiffs.Diff {
        old.version(of: type) == new.version(of: type)
            ? SnapshotDiffs.Diff(changed: [], removed: []) : SnapshotDiffs.shared.diff(type, from: old, to: new)
    }

    private func desired(_ type: ResourceType, _ snapshot: Snapshot) -> [String: Resource] {
        let state = types[type.rawValue]
        return state.subscription.select(from: snapshot[type], coversAll: state.coverage?.all == true)
    }

    /// The version of a set of resources: the snapshot's type version when the set is the whole type.
    static func version(of resources: some Collection<Resource>) -> String {
        ContentHash.version(ofNamedVersions: resources.map { ($0.name, $0.version) })
    }
}
