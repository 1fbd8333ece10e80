import EnvoyAPI
import GatewayIR
import SwiftProtobuf

/// RoutePolicy.fault → the route's `typed_per_filter_config["envoy.filters.http.fault"]`; the
/// listener carries an empty fault filter whenever a route uses one (docs/envoy-gateway-mapping.md §2.14).
enum FaultInjection: RouteFeature, SingleHTTPFilterFeature {
    static let filterName = "envoy.filters.http.fault"

    static func apply(_ ir: Route, to route: inout EnvoyRoute) throws {
        if let fault = ir.policy.fault { route.typedPerFilterConfig[filterName] = try .deterministic(config(fault)) }
    }

    static func filter(for listener: HTTPListener) throws -> EnvoyHTTPFilter? {
        listener.usesFault
            ? try EnvoyHTTPFilter(name: filterName, config: Envoy_Extensions_Filters_Http_Fault_V3_HTTPFault()) : nil
    }

    static func config(_ ir: RoutePolicy.Fault) -> Envoy_Extensions_Filters_Http_Fault_V3_HTTPFault {
        var fault = Envoy_Extensions_Filters_Http_Fault_V3_HTTPFault()
        if let delay = ir.delay {
            fault.delay.fixedDelay = Google_Protobuf_Duration(delay)
            fault.delay.percentage = percentage(ir.delayPercent)
        }
        if let status = ir.abortHTTPStatus {
            fault.abort.httpStatus = UInt32(status)
            fault.abort.percentage = percentage(ir.abortPercent)
        } else if let status = ir.abortGRPCStatus {
            fault.abort.grpcStatus = UInt32(status)
            fault.abort.percentage = percentage(ir.abortPercent)
        }
        return fault
    }

    /// Percent as parts per million (80 → 800000/MILLION), as Envoy Gateway writes it.
    static func percentage(_ percent: Double) -> Envoy_Type_V3_FractionalPercent {
        var fraction = Envoy_Type_V3_FractionalPercent()
        fraction.numerator = UInt32((percent * 10000).rounded())
        fraction.denominator = .million
        return fraction
    }
}
