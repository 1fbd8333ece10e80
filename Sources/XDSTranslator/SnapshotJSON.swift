import EnvoyAPI
import SwiftProtobuf
import XDSCache

/// A snapshot's resources in protobuf's canonical JSON, as Envoy's config_dump prints them: what
/// `switchboard translate` shows and the xDS goldens keep. Embedded `Any` messages show their
/// content, so every type this translator embeds is registered here.
public enum SnapshotJSON {
    /// `"clusters":[…],"endpoints":[…],"listeners":[…],"routes":[…]`, each list sorted by name:
    /// the members of a JSON object, for the caller to wrap.
    public static func members(_ snapshot: Snapshot) throws -> String {
        registerEmbeddedTypes
        var options = JSONEncodingOptions()
        options.useDeterministicOrdering = true
        let sections: [(String, ResourceType, any SwiftProtobuf.Message.Type)] = [
            ("clusters", .cluster, Envoy_Config_Cluster_V3_Cluster.self),
            ("endpoints", .endpoint, Envoy_Config_Endpoint_V3_ClusterLoadAssignment.self),
            ("listeners", .listener, Envoy_Config_Listener_V3_Listener.self),
            ("routes", .route, Envoy_Config_Route_V3_RouteConfiguration.self),
        ]
        return try sections.map { key, type, messageType in
            let items = try snapshot[type].sorted.map { resource in
                try messageType.init(serializedBytes: resource.packed.value).jsonString(options: options)
            }
            return "\"\(key)\":[" + items.joined(separator: ",") + "]"
        }.joined(separator: ",")
    }

    private static let registerEmbeddedTypes: Void = {
        let types: [any SwiftProtobuf.Message.Type] = [
            Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager.self,
            Envoy_Extensions_Filters_Http_Router_V3_Router.self,
            Envoy_Extensions_AccessLoggers_File_V3_FileAccessLog.self,
            Envoy_Extensions_LoadBalancingPolicies_LeastRequest_V3_LeastRequest.self,
            Envoy_Extensions_LoadBalancingPolicies_RoundRobin_V3_RoundRobin.self,
            Envoy_Extensions_LoadBalancingPolicies_Random_V3_Random.self,
            Envoy_Extensions_LoadBalancingPolicies_Maglev_V3_Maglev.self,
            Envoy_Extensions_Upstreams_Http_V3_HttpProtocolOptions.self,
            Envoy_Extensions_Clusters_Dns_V3_DnsCluster.self,
            Envoy_Extensions_Retry_Host_PreviousHosts_V3_PreviousHostsPredicate.self,
            Envoy_Extensions_Retry_Priority_PreviousPriorities_V3_PreviousPrioritiesConfig.self,
            Envoy_Extensions_Filters_Http_GrpcWeb_V3_GrpcWeb.self,
            Envoy_Extensions_Filters_Http_GrpcStats_V3_FilterConfig.self,
            Envoy_Extensions_Filters_Http_Fault_V3_HTTPFault.self,
            Envoy_Extensions_Filters_Http_LocalRatelimit_V3_LocalRateLimit.self,
            Envoy_Extensions_LoadBalancingPolicies_OverrideHost_V3_OverrideHost.self,
            Envoy_Extensions_TransportSockets_ProxyProtocol_V3_ProxyProtocolUpstreamTransport.self,
            Envoy_Extensions_TransportSockets_RawBuffer_V3_RawBuffer.self,
        ]
        for type in types { _ = Google_Protobuf_Any.register(messageType: type) }
    }()
}
