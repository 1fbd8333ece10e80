import EnvoyAPI
import GatewayIR
import SwiftProtobuf

/// A route's request timeout, stream idle timeout and stream lifetime → RouteAction `timeout`,
/// `idle_timeout` and `max_stream_duration`, as Envoy Gateway writes them.
enum Timeouts: RouteActionFeature {
    static func apply(_ ir: Route, to action: inout EnvoyRouteAction) {
        if let timeout = ir.timeout { action.timeout = Google_Protobuf_Duration(timeout) }
        // A policy's stream idle timeout wins. Otherwise a stream idle longer than the request may
        // take would cut it short: the idle timeout is at least an hour and at least the request
        // timeout, 0 disables both; Envoy Gateway writes none for routes with a URL rewrite.
        let derived = ir.timeout.flatMap { timeout in
            ir.rewrite == nil ? (timeout == .zero ? .zero : max(.seconds(3600), timeout)) : nil
        }
        if let idle = ir.policy.idleTimeout ?? derived { action.idleTimeout = Google_Protobuf_Duration(idle) }
        if let stream = ir.policy.maxStreamDuration {
            action.maxStreamDuration.maxStreamDuration = Google_Protobuf_Duration(stream)
        }
    }
}
