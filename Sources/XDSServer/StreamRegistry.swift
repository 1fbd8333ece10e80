import FoundationEssentials
import Synchronization
import XDSCache

public enum StreamKind: String, Sendable, Codable {
    case sotw
    case delta
}

/// What the server knows of one connected Envoy stream: who it is and, per type, what was sent,
/// ACKed and NACKed (with Envoy's `error_detail`).
public struct StreamRecord: Sendable, Equatable {
    public let id: UInt64
    public let kind: StreamKind
    public let connectedSince: Date
    public var nodeID = ""
    public var nodeGroup = ""
    public var types: [ResourceType: TypeStatus] = [:]
}

/// The connected streams, for status and metrics. A stream's record goes when the stream does.
public final class StreamRegistry: Sendable {
    private struct State {
        var streams: [UInt64: StreamRecord] = [:]
        var nextID: UInt64 = 1
        var ended = 0
        var counts: [StreamKind: Int] = [:]

        /// Counts a stream of `kind` in or out, and records the gauge under the registry's lock:
        /// recorded after it, two streams closing at once could leave an older count as the last.
        mutating func count(_ kind: StreamKind, by change: Int) {
            counts[kind, default: 0] += change
            XDSMetrics.connected(kind: kind, count: counts[kind, default: 0])
        }
    }

    private let state = Mutex(State())

    public init() {}

    /// Records a new stream, or returns nil when `limit` streams are open already.
    func open(kind: StreamKind, limit: Int? = nil) -> UInt64? {
        state.withLock { state in
            if let limit, state.streams.count >= limit { return nil }
            let id = state.nextID
            state.nextID += 1
            state.streams[id] = StreamRecord(id: id, kind: kind, connectedSince: Date())
            state.count(kind, by: 1)
            return id
        }
    }

    func identify(_ id: UInt64, nodeID: String, nodeGroup: String) {
        state.withLock { state in
            state.streams[id]?.nodeID = nodeID
            state.streams[id]?.nodeGroup = nodeGroup
        }
    }

    /// Records every type the stream has sent, or had an answer for. Only those: an Envoy without
    /// TLS never asks for SDS, and an empty entry would keep it from ever showing as converged.
    /// Under one lock, in place: a stream records after every response and ACK.
    func record(_ id: UInt64, statuses: (ResourceType) -> TypeStatus) {
        state.withLock { state in
            guard let index = state.streams.index(forKey: id) else { return }
            for type in ResourceType.allCases {
                let status = statuses(type)
                guard status.lastSentVersion != nil || status.lastAckedVersion != nil || status.lastNack != nil else {
                    continue
                }
                state.streams.values[index].types[type] = status
            }
        }
    }

    func close(_ id: UInt64) {
        state.withLock { state in
            guard let record = state.streams.removeValue(forKey: id) else { return }
            state.ended += 1
            state.count(record.kind, by: -1)
        }
    }

    /// The connected streams, oldest first.
    public var streams: [StreamRecord] {
        state.withLock { $0.streams.values.sorted { $0.id < $1.id } }
    }

    /// Whether every stream of `nodeGroup` has ACKed `version(type)` for each type it uses; nil
    /// when none is connected. Decided under the lock, without copying the records: it is polled
    /// while a change converges, beside streams updating theirs.
    public func converged(nodeGroup: String, to version: (ResourceType) -> String) -> Bool? {
        state.withLock { state in
            var any = false
            for stream in state.streams.values where stream.nodeGroup == nodeGroup {
                any = true
                if !stream.types.allSatisfy({ $0.value.lastAckedVersion == version($0.key) }) { return false }
            }
            return any ? true : nil
        }
    }

    /// How many streams have ended since the server started.
    public var ended: Int { state.withLock { $0.ended } }

    public func count(kind: StreamKind) -> Int {
        state.withLock { $0.counts[kind, default: 0] }
    }
}
