import Foundation
import GatewayIR
import XDSCache

/// What the last translation of a Gateway made from each part of its IR, so that the next one
/// reuses it where that part is unchanged: a one-route edit among ten thousand then builds and
/// encodes one cluster and one virtual host, not ten thousand of each. Each part's Envoy form
/// depends on that part alone (a cluster on its BackendCluster, a virtual host on its
/// VirtualHost), so equal IR means equal bytes.
///
/// Holds only what the last translation made: a part that is gone is forgotten with it. The IR
/// itself is not kept, only a 128-bit fingerprint of it: a BackendCluster is almost 2 KB inline,
/// and keeping ten thousand of them, with their routes, cost 50 MB (heaptrack).
public struct TranslationMemo: Sendable {
    struct Parts: Sendable {
        /// By cluster name: the IR's fingerprint and the resources made from it (the cluster,
        /// its endpoints).
        var clusters: [String: (ir: Fingerprint, resources: [Resource])] = [:]
        /// By virtual host name (it includes the listener's): the IR's fingerprint and its encoding,
        /// a slice of its route configuration's bytes.
        var virtualHosts: [String: (ir: Fingerprint, encoded: Data)] = [:]
    }

    /// Two independent 64-bit hashes of an IR value (`GatewayIR.Fingerprint`).
    typealias Fingerprint = GatewayIR.Fingerprint

    /// Read by this translation.
    var previous = Parts()
    /// Written by this translation; becomes `previous` once it succeeds.
    var next = Parts()
    /// The last snapshot made: the next is patched from it where its resources are the same
    /// objects (the cache holds the same snapshot, so keeping it costs little).
    var snapshot: Snapshot?

    public init() {}

    /// Parts reused from `previous` since `init` (tests read it to see the memo at work).
    public internal(set) var reused = 0
}
