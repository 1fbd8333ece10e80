import Metrics
import XDSCache

/// Metric names, defined once. They mirror what people already graph for other control planes.
enum XDSMetrics {
    static let connectedStreams = "xds_connected_streams"
    static let nackTotal = "xds_nack_total"
    static let pushTotal = "xds_push_total"
    static let pushBytes = "xds_push_bytes"

    static func connected(kind: StreamKind, count: Int) {
        Gauge(label: connectedStreams, dimensions: [("kind", kind.rawValue)]).record(count)
    }

    static func nack(type: ResourceType, nodeGroup: String) {
        Counter(label: nackTotal, dimensions: [("type_url", type.typeURL), ("node_cluster", nodeGroup)]).increment()
    }

    static func push(type: ResourceType, bytes: Int) {
        Counter(label: pushTotal, dimensions: [("type_url", type.typeURL)]).increment()
        Recorder(label: pushBytes, aggregate: true).record(bytes)
    }
}
