import XDSCache

/// The make-before-break rule for one ADS stream, shared by both protocol variants.
///
/// Additions and updates ("make") go out in ADS order (CDS, EDS, SDS, LDS, RDS). Listeners and
/// routes also wait while a cluster, endpoint or secret response is unanswered: Envoy answers CDS
/// only once the new clusters have warmed (received their endpoints), so that reply is the signal
/// that a route may now point at them. Nothing waits on a reply that itself needs a later response:
/// EDS does not wait for the CDS reply (warming needs EDS), and RDS does not wait for the LDS reply
/// (a listener warms with its routes); waiting there would stall until Envoy's fetch timeout.
///
/// Removals ("break") go out only when nothing else is pending or unanswered, latest type first,
/// so a route stops using a cluster before the cluster goes (go-control-plane #59, #526).
/// At most one response per type is ever unanswered, which also bounds what a slow Envoy can make
/// the server hold.
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
        var clustersBusy = false
        for type in ResourceType.allCases {
            let need = needs[type.rawValue]
            let usesClusters = type == .listener || type == .route
            if need.make && !need.awaitingReply && !(usesClusters && clustersBusy) { return (type, .make) }
            if !usesClusters && (need.awaitingReply || need.make) { clustersBusy = true }
        }
        if needs.contains(where: { $0.awaitingReply || $0.make }) { return nil }
        for type in ResourceType.allCases.reversed() where needs[type.rawValue].break {
            return (type, .break)
        }
        return nil
    }
}
