import EnvoyAPI
import GatewayIR
import SwiftProtobuf
import XDSCache

/// HTTPListener → Envoy Listener with one HTTP connection manager loading its routes over ADS.
public enum ListenerTranslator {
    public typealias Listener = Envoy_Config_Listener_V3_Listener
    typealias HCM = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager

    public static func listener(_ ir: HTTPListener) throws -> Listener {
        var router = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpFilter()
        router.name = "envoy.filters.http.router"
        router.typedConfig = try .deterministic(Envoy_Extensions_Filters_Http_Router_V3_Router())

        var hcm = HCM()
        hcm.statPrefix = "http-\(ir.port)"  // Envoy Gateway's stat prefix, so stats queries carry over.
        hcm.rds.configSource = .adsV3
        hcm.rds.routeConfigName = ir.name
        hcm.httpFilters = [router]

        var filter = Envoy_Config_Listener_V3_Filter()
        filter.name = "envoy.filters.network.http_connection_manager"
        filter.typedConfig = try .deterministic(hcm)
        var chain = Envoy_Config_Listener_V3_FilterChain()
        chain.filters = [filter]

        var listener = Listener()
        listener.name = ir.name
        listener.address.socketAddress.address = "0.0.0.0"
        listener.address.socketAddress.portValue = UInt32(ir.port)
        listener.defaultFilterChain = chain
        listener.perConnectionBufferLimitBytes = Google_Protobuf_UInt32Value(32768)
        return listener
    }
}
