import XDSCache

/// The make-before-break rule for one ADS stream, shared by both protocol variants.
///
/// Additions and updates ("make") go out in ADS order (CDS, EDS, LDS, RDS), and a type waits
/// while an earlier type has a response Envoy has not answered yet, so Envoy has a cluster before
/// a route points at it. Removals ("break") go out only when nothing else is pending, latest
/// type first, so a route stops using a cluster before the cluster goes (go-control-plane #59,
/// #526). At most one response per type is ever unanswered, which also bounds what a slow
/// Envoy can make the server hold.
enum PushOrder {
    enum Phase: Sendable, Equatable {
        case make
        case `break`
    }

    struct Needs: Sendable {
        var awaitingReply = false
        var make = false
        var `break` = false
    }

    /// The next response to send, if any may go now.
    static func next(_ needs: [Needs]) -> (ResourceType, Phase)? {
        var earlierBusy = false
        for type in ResourceType.allCases {
            let need = needs[type.rawValue]
            if need.make && !need.awaitingReply && !earlierBusy { return (type, .make) }
            if need.awaitingReply || need.make { earlierBusy = true }
        }
        if earlierBusy { return nil }
        for type in ResourceType.allCases.reversed() where needs[type.rawValue].break {
            return (type, .break)
        }
        return nil
    }
}
