import GatewayAPI
import GatewayIR

/// An HTTPRoute rule's `timeouts` and `retry` (GEP-1742, GEP-1731), as Envoy Gateway maps them:
/// `request` is the route timeout; `backendRequest` is the per-try timeout when the rule
/// retries, and otherwise replaces the route timeout.
enum RouteTraffic {
    static func apply(timeouts: HTTPRoute.Timeouts?, retry: HTTPRoute.Retry?, to route: inout Route) {
        if let request = timeouts?.request { route.timeout = request.duration }
        if let backendRequest = timeouts?.backendRequest, retry == nil { route.timeout = backendRequest.duration }
        guard let retry else { return }
        var policy = Route.RetryPolicy()
        if let attempts = retry.attempts { policy.numRetries = attempts }
        if let backoff = retry.backoff { policy.backOffBase = backoff.duration }
        if let backendRequest = timeouts?.backendRequest { policy.perTryTimeout = backendRequest.duration }
        // Codes replace the base 503 in the order given; the default trigger set already
        // includes retriable-status-codes.
        if !retry.codes.isEmpty { policy.statusCodes = retry.codes }
        route.retry = policy
    }
}
