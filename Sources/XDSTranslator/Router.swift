import EnvoyAPI
import GatewayIR
import SwiftProtobuf

/// The router, last of every connection manager's filters; Envoy's `x-envoy-*` response headers
/// suppressed, as Envoy Gateway writes it.
enum Router: SingleHTTPFilterFeature {
    static func filter(for listener: HTTPListener) throws -> EnvoyHTTPFilter? {
        var router = Envoy_Extensions_Filters_Http_Router_V3_Router()
        router.suppressEnvoyHeaders = true
        return try EnvoyHTTPFilter(name: "envoy.filters.http.router", config: router)
    }
}
