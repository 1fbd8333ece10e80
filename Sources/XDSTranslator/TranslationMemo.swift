import FoundationEssentials
import GatewayIR
import XDSCache

/// What the last translation of a Gateway made from each part of its IR, so that the next one
/// reuses it where that part is unchanged: a one-route edit among ten thousand then builds and
/// encodes one cluster and one virtual host, not ten thousand of each. Each part's Envoy form
/// depends on that part alone (a cluster on its BackendCluster, a virtual host on its
/// VirtualHost), so equal IR means equal bytes.
///
/// Parts are kept in the order the last translation gave them, with their IR, and looked up by
/// position first: an edit leaves the order as it was, and a part the Gateway translator reused
/// is the same box (a cluster) or holds the same route storage (a virtual host), so telling it
/// unchanged is a pointer check, where hashing ten thousand names and fingerprints was a fifth
/// of an edit's IR → xDS. The IR is shared with the Gateway translator's memo, not copied.
///
/// Holds only what the last translation made: a part that is gone is forgotten with it.
public struct TranslationMemo: Sendable {
    /// One part as the last translation made it.
    struct Part<IR: Named, Made: Sendable>: Sendable {
        var ir: IR
        var made: Made
    }

    /// A part of the IR, named uniquely among its kind in a Gateway.
    protocol Named: Equatable, Sendable {
        var name: String { get }
    }

    /// Parts in the last translation's order, found by position or, when the order changed, by
    /// name (the index is made only then).
    struct Ordered<IR: Named, Made: Sendable>: Sendable {
        var parts: [Part<IR, Made>] = []
        private var byName: [String: Int]?
        /// Whether `made(for:at:)` found a part away from its old position since the last `keep`.
        private var moved = false

        init(_ parts: [Part<IR, Made>] = []) { self.parts = parts }

        /// What was made of `ir`, now at `position`, when it is unchanged.
        mutating func made(for ir: IR, at position: Int) -> Made? {
            if position < parts.count {
                // The same box as last time: a pointer check, without reading the name.
                if parts[position].ir == ir { return parts[position].made }
                if parts[position].ir.name == ir.name { return nil }
            }
            if byName == nil {
                byName = Dictionary(
                    parts.indices.map { (parts[$0].ir.name, $0) }, uniquingKeysWith: { first, _ in first })
            }
            guard let found = byName![ir.name], parts[found].ir == ir else { return nil }
            moved = moved || found != position
            return parts[found].made
        }

        /// Holds `irs` and what was made of each from now on. When every part `unchanged` was
        /// found where it was (`made(for:at:)`), the parts are changed in place: an edit rewrites
        /// its own part and the others' `made`, without a new array of ten thousand parts, and
        /// without reading their names (a cluster's name is behind an accessor that is not
        /// specialized here: reading ten thousand was a sixth of an edit's IR → xDS).
        mutating func keep(_ irs: [IR], unchanged: [Bool], made: (Int) -> Made) {
            defer { moved = false }
            guard parts.count == irs.count, !moved else {
                self = Ordered(irs.indices.map { Part(ir: irs[$0], made: made($0)) })
                return
            }
            for index in irs.indices {
                if !unchanged[index] {
                    if parts[index].ir.name != irs[index].name { byName = nil }
                    parts[index].ir = irs[index]
                }
                parts[index].made = made(index)
            }
        }
    }

    struct Parts: Sendable {
        /// The clusters and, for EDS, their load assignments.
        var clusters = Ordered<BackendCluster, [Resource]>()
        /// By route configuration (a listener's name): its virtual hosts, each with where its
        /// encoding lies in the route configuration's bytes, those bytes, and the translation
        /// that made them.
        var virtualHosts: [String: (hosts: Ordered<VirtualHost, Range<Int>>, encoded: Data, generation: UInt64)] =
            [:]
    }

    /// Changed by each translation; a failed one may leave parts it made, each valid for its IR.
    var parts = Parts()
    /// The number of the translation under way (or the last one).
    var generation: UInt64 = 0
    /// The last snapshot made: the next is patched from it where its resources are the same
    /// objects (the cache holds the same snapshot, so keeping it costs little).
    var snapshot: Snapshot?

    public init() {}

    /// Parts reused since `init` (tests read it to see the memo at work).
    public internal(set) var reused = 0

    /// Drops the route configurations this translation did not make.
    mutating func forgetUnusedRouteConfigurations() {
        let generation = generation
        for name in parts.virtualHosts.compactMap({ $0.value.generation == generation ? nil : $0.key }) {
            parts.virtualHosts[name] = nil
        }
    }
}

extension BackendCluster: TranslationMemo.Named {}
extension VirtualHost: TranslationMemo.Named {}
