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
        /// By cluster name: the IR's fingerprint, the resources made from it (the cluster, its
        /// endpoints), and the translation that last used them.
        var clusters: [String: (ir: Fingerprint, resources: [Resource], generation: UInt64)] = [:]
        /// By virtual host name (it includes the listener's): the IR's fingerprint, its encoding
        /// (a slice of its route configuration's bytes), and the translation that made it.
        var virtualHosts: [String: (ir: Fingerprint, encoded: Data, generation: UInt64)] = [:]
    }

    /// Two independent 64-bit hashes of an IR value (`GatewayIR.Fingerprint`).
    typealias Fingerprint = GatewayIR.Fingerprint

    /// Changed in place by each translation, not rebuilt: at ten thousand clusters, filling a new
    /// dictionary and freeing the last one cost a tenth of an edit. An entry is valid whichever
    /// translation wrote it (its resources depend on its IR alone), so a failed translation
    /// leaves nothing wrong behind; a successful one drops the entries it did not use.
    var parts = Parts()
    /// The number of the translation under way (or the last one).
    var generation: UInt64 = 0
    /// The last snapshot made: the next is patched from it where its resources are the same
    /// objects (the cache holds the same snapshot, so keeping it costs little).
    var snapshot: Snapshot?

    public init() {}

    /// Parts reused since `init` (tests read it to see the memo at work).
    public internal(set) var reused = 0

    /// Drops the parts this translation did not use, when there are any: `used` clusters and
    /// `usedHosts` virtual hosts were.
    mutating func forgetUnused(clusters used: Int, virtualHosts usedHosts: Int) {
        let generation = generation
        if parts.clusters.count > used {
            for name in parts.clusters.compactMap({ $0.value.generation == generation ? nil : $0.key }) {
                parts.clusters[name] = nil
            }
        }
        if parts.virtualHosts.count > usedHosts {
            for name in parts.virtualHosts.compactMap({ $0.value.generation == generation ? nil : $0.key }) {
                parts.virtualHosts[name] = nil
            }
        }
    }
}
