import Metrics
import XDSCache

/// Metric names, defined once. They mirror what people already graph for other control planes.
enum XDSMetrics {
    static let connectedStreams = "xds_connected_streams"
    static let nackTotal = "xds_nack_total"
    static let pushTotal = "xds_push_total"
    static let pushBytes = "xds_push_bytes"
    static let streamsRefusedTotal = "xds_streams_refused_total"
    static let openConnectionsGauge = "xds_connections_open"
    static let connectionsRefusedTotal = "xds_connections_refused_total"
    static let handshakeTimeoutsTotal = "xds_connection_handshake_timeouts_total"
    static let pacingWaitsTotal = "xds_push_pacing_waits_total"
    static let pacingTimeoutsTotal = "xds_push_pacing_timeouts_total"
    static let requestMemoryWaitsTotal = "xds_request_memory_waits_total"

    /// Why the transport refused a stream before the ADS service saw it.
    enum StreamRefusal: String {
        /// Its request message was over `--max-request-size`.
        case requestSize = "request_size"
        /// Its request message did not fit in `--max-request-memory`.
        case requestMemory = "request_memory"
        /// Its connection had `--max-streams-per-connection` open already.
        case streamsPerConnection = "streams_per_connection"
    }

    static func connected(kind: StreamKind, count: Int) {
        Gauge(label: connectedStreams, dimensions: [("kind", kind.rawValue)]).record(count)
    }

    static func nack(type: ResourceType, nodeGroup: String) {
        Counter(label: nackTotal, dimensions: [("type_url", type.typeURL), ("node_cluster", nodeGroup)]).increment()
    }

    static func openConnections(_ count: Int) {
        Gauge(label: openConnectionsGauge).record(count)
    }

    /// A connection closed on arrival: `--max-connections` were open.
    static func connectionRefused() {
        Counter(label: connectionsRefusedTotal).increment()
    }

    /// A connection closed for not completing its TLS and HTTP/2 handshake in `--handshake-timeout`.
    static func handshakeTimedOut() {
        Counter(label: handshakeTimeoutsTotal).increment()
    }

    static func streamRefused(reason: StreamRefusal) {
        Counter(label: streamsRefusedTotal, dimensions: [("reason", reason.rawValue)]).increment()
    }

    /// Made on the first push, when serve has set up its metrics backend, and kept: making a
    /// handle looks it up in the backend by label and dimensions, a lock and some hashing, on
    /// every response of every stream.
    private static let pushHandles = (
        counters: ResourceType.allCases.map { Counter(label: pushTotal, dimensions: [("type_url", $0.typeURL)]) },
        bytes: Recorder(label: pushBytes, aggregate: true)
    )

    static func push(type: ResourceType, bytes: Int) {
        pushHandles.counters[type.rawValue].increment()
        pushHandles.bytes.record(bytes)
    }

    /// A request message waited for `--max-request-memory`, its connection's reads held back.
    static func requestMemoryWaited() {
        Counter(label: requestMemoryWaitsTotal).increment()
    }

    /// A stream waited for a permit to write a large response (`PushPacer`).
    static func pacingWaited() {
        Counter(label: pacingWaitsTotal).increment()
    }

    /// Permits taken back from streams whose clients did not answer in time.
    static func pacingTimedOut(_ count: Int) {
        Counter(label: pacingTimeoutsTotal).increment(by: count)
    }
}
