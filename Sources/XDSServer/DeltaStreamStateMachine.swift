import XDSCache

/// The protocol state of one incremental (delta) ADS stream: pure, driven by requests and
/// snapshots, answering with the responses to send.
///
/// Rules it keeps, beyond those of `SotWStreamStateMachine`:
/// - Subscription changes always apply, even on a request with a stale nonce: a delta request is
///   a change, and dropping it would lose it. Only the ACK/NACK of a stale nonce is ignored.
/// - Versions are per resource. `initial_resource_versions` on the first request of a type says
///   what a reconnecting client already has, so unchanged resources are not sent again.
/// - `removed_resources` names resources that were deleted, and subscribed names that do not
///   exist (each told once, so the client stops waiting for them).
/// - A NACKed resource version is not sent again until its content changes.
public struct DeltaStreamStateMachine: Sendable {
    struct TypeState: Sendable {
        var subscribed = false
        var subscription = Subscription()
        /// Versions the client holds, as far as this stream knows.
        var clientVersions: [String: String] = [:]
        /// Subscribed names already reported as not existing.
        var reportedAbsent: Set<String> = []
        var status = TypeStatus(awaitingReply: false)
        /// The snapshot version of the type at which nothing was pending, while the subscription
        /// and what the client holds stay as they were: `pending` is then empty without a scan.
        /// ACKs and snapshots that leave the type alone cost O(1) instead of O(resources).
        var quietAt: String?
        /// The last nonce sent for the type (`ResponseNonces`).
        var lastNonce: UInt64 = 0
    }

    public typealias Output = StreamOutput<DeltaResponse>

    private var types = Array(repeating: TypeState(), count: ResourceType.allCases.count)
    public private(set) var snapshot: Snapshot?
    /// The snapshot before `snapshot`: a type quiet at its version needs only what changed since.
    private var previous: Snapshot?
    /// Load assignments the client must be sent whatever versions it holds (or lists in
    /// initial_resource_versions): Envoy warms an updated cluster on a fresh one and does not ask
    /// again.
    private var owedEndpoints: Set<String> = []

    public init() {}

    public func status(of type: ResourceType) -> TypeStatus { types[type.rawValue].status }

    public func subscribedNames(of type: ResourceType) -> [String] {
        let subscription = types[type.rawValue].subscription
        return (subscription.wildcard ? [Subscription.wildcardName] : []) + subscription.names.sorted()
    }

    /// Resource versions the client holds of `type`, as far as this stream knows.
    public func clientVersions(of type: ResourceType) -> [String: String] { types[type.rawValue].clientVersions }

    public mutating func receive(_ request: DeltaRequest) -> Output {
        var output = Output()
        guard let type = ResourceType(typeURL: request.typeURL) else {
            output.events.append(.unknownTypeURL(request.typeURL))
            return output
        }
        var state = types[type.rawValue]
        let isFirst = !state.subscribed

        if !request.responseNonce.isEmpty {
            if request.responseNonce != state.status.lastSentNonce {
                output.events.append(.staleNonce(type, nonce: request.responseNonce))
            } else if state.status.awaitingReply {
                state.status.awaitingReply = false
                if let error = request.errorDetail {
                    let nack = Nack(
                        version: state.status.lastSentVersion ?? "", nonce: request.responseNonce, error: error)
                    state.status.lastNack = nack
                    output.events.append(.nack(type, nack))
                } else {
                    state.status.lastAckedVersion = state.status.lastSentVersion
                    output.events.append(.ack(type, version: state.status.lastSentVersion ?? ""))
                }
            }
        }

        if isFirst || !request.subscribe.isEmpty || !request.unsubscribe.isEmpty { state.quietAt = nil }
        state.subscription.apply(
            subscribe: request.subscribe, unsubscribe: request.unsubscribe, type: type, isFirstRequest: isFirst)
        state.subscribed = true
        if isFirst {
            state.clientVersions = request.initialResourceVersions
        }
        if isFirst || !request.subscribe.isEmpty || !request.unsubscribe.isEmpty {
            let subscription = state.subscription
            // What the client no longer subscribes to it has dropped: a later subscribe sends it
            // again. Only a request that changes the subscription can drop anything: an ACK costs
            // no pass over the thousand names the client holds.
            state.clientVersions = state.clientVersions.filter { subscription.includes($0.key) }
            state.reportedAbsent = state.reportedAbsent.filter { subscription.includes($0) }
        }
        types[type.rawValue] = state
        output.responses = flush()
        return output
    }

    public mutating func update(_ snapshot: Snapshot) -> Output {
        previous = self.snapshot
        self.snapshot = snapshot
        return Output(responses: flush())
    }

    // MARK: - Deciding what to send

    private struct Pending {
        var upserts: [Resource] = []
        var absent: [String] = []
        var removed: [String] = []
        /// Whether, once `upserts` are sent, the client holds exactly the snapshot's whole type:
        /// then its versions become the snapshot's shared map without a per-resource update.
        var wholeAfterMake = false
        /// For clusters sent to a client that held the previous snapshot's whole type, the load
        /// assignments it is owed once they are: worked out once for every such stream
        /// (`SnapshotDiffs`), not looked up cluster by cluster in each.
        var owes: Set<String>?
    }

    private func pending(_ type: ResourceType, _ snapshot: Snapshot) -> Pending {
        let state = types[type.rawValue]
        var pending = Pending()
        guard state.subscribed else { return pending }
        if state.quietAt == snapshot.version(of: type) && (type != .endpoint || owedEndpoints.isEmpty) {
            return pending
        }
        let resources = snapshot[type]
        if let previous, let quiet = state.quietAt, quiet == previous.version(of: type) {
            // The client holds exactly the previous snapshot's resources it subscribes to: it
            // needs what changed since (and endpoints owed to changed clusters), nothing else.
            let diff = SnapshotDiffs.shared.diff(type, from: previous, to: snapshot)
            pending.upserts = diff.changed.filter { state.subscription.includes($0.name) }
            // Quiet at the previous version, the client holds exactly the previous resources it
            // subscribes to, so as many as the previous snapshot has means all of them.
            let heldWhole = state.clientVersions.count == previous[type].count
            let sendsAllChanged = pending.upserts.count == diff.changed.count
            if type == .endpoint && !owedEndpoints.isEmpty && heldWhole && sendsAllChanged {
                // Every owed assignment the snapshot has is subscribed: the client held, so asked
                // for, each of the previous snapshot's, and any other is new, so among the changed
                // ones, all subscribed. Then the list is the same for every stream owed the same,
                // and is made once (a thousand lookups a stream on every push of all clusters).
                pending.upserts = SnapshotDiffs.shared.endpoints(owed: owedEndpoints, from: previous, to: snapshot)
            } else if type == .endpoint && !owedEndpoints.isEmpty {
                let changed = Set(pending.upserts.map(\.name))
                let owed = owedEndpoints.filter { state.subscription.includes($0) && !changed.contains($0) }
                if !owed.isEmpty {
                    // In name order: from the snapshot's sorted array when many are due (no sort
                    // per stream), else sorted here.
                    pending.upserts =
                        owed.count * 8 > resources.count
                        ? resources.sorted.filter { changed.contains($0.name) || owed.contains($0.name) }
                        : (pending.upserts + owed.compactMap { resources[$0] }).sorted { $0.name < $1.name }
                }
            }
            if type == .cluster && heldWhole && sendsAllChanged { pending.owes = diff.referencesOfReplaced }
            pending.removed = diff.removed.filter { state.clientVersions[$0] != nil }
            // A client that held the whole previous type (a wildcard one always did) holds the new
            // one once it has what changed. Then its versions become the snapshot's shared map,
            // not a copy of a thousand entries changed in one and compared with the snapshot's.
            pending.wholeAfterMake =
                (state.subscription.wildcard || pending.upserts.count == resources.count
                    || (heldWhole && sendsAllChanged)) && pending.removed.isEmpty
            return pending
        }
        // The snapshot's sorted array gives the upserts in name order without sorting per stream.
        let owed = type == .endpoint ? owedEndpoints : []
        for resource in resources.sorted
        where state.subscription.includes(resource.name)
            && (state.clientVersions[resource.name] != resource.version || owed.contains(resource.name))
        {
            pending.upserts.append(resource)
        }
        for name in state.subscription.names
        where resources[name] == nil && state.clientVersions[name] == nil && !state.reportedAbsent.contains(name) {
            pending.absent.append(name)
        }
        for name in state.clientVersions.keys where resources[name] == nil {
            pending.removed.append(name)
        }
        pending.wholeAfterMake = pending.upserts.count == resources.count && pending.removed.isEmpty
        return pending
    }

    /// Envoy warms an updated cluster on a fresh load assignment and does not ask for it again:
    /// the assignment of every cluster the client already had is sent again with the update,
    /// changed or not, or the cluster would stay warming (and CDS unanswered) until Envoy's
    /// initial fetch timeout.
    private mutating func oweEndpoints(ofUpdated clusters: [Resource], clientVersions: [String: String]) {
        for cluster in clusters where clientVersions[cluster.name] != nil {
            owedEndpoints.formUnion(cluster.references)
        }
    }

    /// A client that is owed nothing of a type holds what the snapshot has for it; for status its
    /// stream is at the snapshot's version, sent and acknowledged. That is a reconnecting client
    /// whose initial_resource_versions already match (it applied that content, from another
    /// replica or before a restart), and a client whose last response was ACKed when the type's
    /// version moved only through resources it does not subscribe to (nothing to send it; without
    /// this it would show as never converging). A NACKed last response is not advanced over.
    private mutating func adoptInitialVersions(_ pending: [Pending], _ snapshot: Snapshot) {
        for type in ResourceType.allCases {
            let due = pending[type.rawValue]
            let state = types[type.rawValue]
            let caughtUp =
                state.status.lastSentVersion == nil
                ? !state.clientVersions.isEmpty : state.status.lastAckedVersion == state.status.lastSentVersion
            guard state.subscribed, caughtUp, !state.status.awaitingReply, due.upserts.isEmpty, due.absent.isEmpty,
                due.removed.isEmpty
            else { continue }
            types[type.rawValue].status.lastSentVersion = snapshot.version(of: type)
            types[type.rawValue].status.lastAckedVersion = snapshot.version(of: type)
        }
    }

    private mutating func flush() -> [DeltaResponse] {
        guard let snapshot else { return [] }
        var responses: [DeltaResponse] = []
        var all = ResourceType.allCases.map { pending($0, snapshot) }
        var sent: ResourceType?
        while true {
            if let sent {
                // Only the type just sent, and the endpoints it may have made owed, can have moved.
                all[sent.rawValue] = pending(sent, snapshot)
                if sent != .endpoint { all[ResourceType.endpoint.rawValue] = pending(.endpoint, snapshot) }
            }
            let needs = ResourceType.allCases.map { type -> PushOrder.Needs in
                let due = all[type.rawValue]
                return PushOrder.Needs(
                    awaitingReply: types[type.rawValue].status.awaitingReply,
                    make: !due.upserts.isEmpty || !due.absent.isEmpty,
                    break: !due.removed.isEmpty)
            }
            for type in ResourceType.allCases {
                let due = all[type.rawValue]
                if due.upserts.isEmpty && due.absent.isEmpty && due.removed.isEmpty {
                    types[type.rawValue].quietAt = snapshot.version(of: type)
                }
            }
            guard let (type, phase) = PushOrder.next(needs) else {
                adoptInitialVersions(all, snapshot)
                return responses
            }
            let due = all[type.rawValue]
            var state = types[type.rawValue]
            var response = DeltaResponse(
                type: type, systemVersionInfo: snapshot.version(of: type), nonce: "", resources: [],
                removedResources: [])
            state.quietAt = nil
            switch phase {
            case .make:
                response.resources = due.upserts
                // Upserts are the snapshot's resources in name order: as many means all of them.
                if due.upserts.count == snapshot[type].count && !due.upserts.isEmpty {
                    response.sharedHead = SharedResponseHeads.shared.head(.delta, type, of: snapshot)
                } else {
                    response.sharedHead = SharedListHeads.shared.head(
                        .delta, type, versionInfo: response.systemVersionInfo, resources: due.upserts)
                }
                response.removedResources = due.absent.sorted()
                if type == .cluster {
                    if let owes = due.owes {
                        // The set every such stream shares, when nothing else is owed.
                        if owedEndpoints.isEmpty { owedEndpoints = owes } else { owedEndpoints.formUnion(owes) }
                    } else {
                        oweEndpoints(ofUpdated: due.upserts, clientVersions: state.clientVersions)
                    }
                }
                // Every owed assignment the client subscribes to and the snapshot has is in this
                // response (`pending`). The rest needs no debt: a name subscribed later, or an
                // assignment added later, is sent then anyway.
                if type == .endpoint { owedEndpoints = [] }
                if due.wholeAfterMake {
                    state.clientVersions = snapshot[type].versions
                    if !state.reportedAbsent.isEmpty { state.reportedAbsent.subtract(due.upserts.map(\.name)) }
                } else {
                    for resource in due.upserts {
                        state.clientVersions[resource.name] = resource.version
                        state.reportedAbsent.remove(resource.name)
                    }
                    if state.clientVersions.count == snapshot[type].count
                        && state.clientVersions == snapshot[type].versions
                    {
                        // The client holds the whole set: keep the snapshot's shared map, not a copy.
                        state.clientVersions = snapshot[type].versions
                    }
                }
                state.reportedAbsent.formUnion(due.absent)
            case .break:
                response.removedResources = due.removed.sorted()
                for name in due.removed {
                    state.clientVersions.removeValue(forKey: name)
                    if state.subscription.names.contains(name) { state.reportedAbsent.insert(name) }
                }
            }
            // Everything pending for the type is applied: it is quiet at this version.
            let settled =
                phase == .make ? due.removed.isEmpty : due.upserts.isEmpty && due.absent.isEmpty
            if settled && (type != .endpoint || owedEndpoints.isEmpty) {
                state.quietAt = snapshot.version(of: type)
            }
            // A shared head and nothing of its own: the same bytes as every stream sent it.
            response.nonce = ResponseNonces.take(
                after: &state.lastNonce, sharing: response.removedResources.isEmpty ? response.sharedHead : nil)
            // Per-resource versions travel with the resources; for status and NACK records the
            // stream is at the snapshot's version of the type.
            state.status.lastSentVersion = response.systemVersionInfo
            state.status.lastSentNonce = response.nonce
            state.status.awaitingReply = true
            types[type.rawValue] = state
            responses.append(response)
            sent = type
        }
    }
}
