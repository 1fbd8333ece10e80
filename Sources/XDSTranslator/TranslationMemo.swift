import GatewayIR
import XDSCache

/// What the last translation of a Gateway made from each part of its IR, so that the next one
/// reuses it where that part is unchanged: a one-route edit among ten thousand then builds and
/// encodes one cluster and one virtual host, not ten thousand of each. Each part's Envoy form
/// depends on that part alone (a cluster on its BackendCluster, a virtual host on its
/// VirtualHost), so equal IR means equal bytes.
///
/// Holds only what the last translation made: a part that is gone is forgotten with it.
public struct TranslationMemo: Sendable {
    struct Parts: Sendable {
        /// By cluster name: the IR and the resources made from it (the cluster, its endpoints).
        var clusters: [String: (ir: BackendCluster, resources: [Resource])] = [:]
        /// By virtual host name (it includes the listener's): the IR and its encoding.
        var virtualHosts: [String: (ir: VirtualHost, encoded: [UInt8])] = [:]
    }

    /// Read by this translation.
    var previous = Parts()
    /// Written by this translation; becomes `previous` once it succeeds.
    var next = Parts()

    public init() {}

    /// Parts reused from `previous` since `init` (tests read it to see the memo at work).
    public internal(set) var reused = 0
}
