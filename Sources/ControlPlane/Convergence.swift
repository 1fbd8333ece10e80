import Metrics
import Synchronization
import XDSCache
import XDSServer

/// `proxy_convergence_seconds`: from a file change being noticed to every Envoy connected for
/// the Gateway having ACKed the snapshot it produced, with Istio's
/// `pilot_proxy_convergence_time` buckets. A stream counts as converged when every type it
/// holds is ACKed at the snapshot's version of that type (true for Envoys, which subscribe to all
/// of their Gateway's resources).
public final class ConvergenceTracker: Sendable {
    private struct Pending {
        var snapshot: Snapshot
        var since: ContinuousClock.Instant
    }

    private let registry: StreamRegistry
    private let pending = Mutex<[String: Pending]>([:])
    public static let buckets: [Double] = [0.1, 0.5, 1, 3, 5, 10, 20, 30]
    private let histogram = Metrics.Timer(label: "proxy_convergence_seconds", preferredDisplayUnit: .seconds)

    public init(registry: StreamRegistry) {
        self.registry = registry
    }

    /// `gateway` now serves `snapshot` because of a change first seen at `since`.
    func started(gateway: String, snapshot: Snapshot, since: ContinuousClock.Instant) {
        pending.withLock { $0[gateway] = Pending(snapshot: snapshot, since: since) }
    }

    /// Checks pending convergences every few milliseconds until cancelled.
    func run() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(5))
            let waiting = pending.withLock { $0 }
            guard !waiting.isEmpty else { continue }
            let now = ContinuousClock.now
            for (gateway, item) in waiting {
                let converged = registry.converged(nodeGroup: gateway) { item.snapshot.version(of: $0) }
                if converged == nil || now - item.since > .seconds(300) {
                    pending.withLock { $0[gateway] = nil }  // nobody to converge, or a stream that never will
                } else if converged == true {
                    let took = now - item.since
                    histogram.recordSeconds(took / .seconds(1))
                    pending.withLock { if $0[gateway]?.snapshot == item.snapshot { $0[gateway] = nil } }
                }
            }
        }
    }
}
