import EnvoyAPI
import FoundationEssentials
import SwiftProtobuf
import XDSCache

/// A snapshot's resources in protobuf's canonical JSON, as Envoy's config_dump prints them: what
/// `switchboard translate` shows and the xDS goldens keep. Embedded `Any` messages show their
/// content, so every type this translator embeds is registered here.
public enum SnapshotJSON {
    /// `"clusters":[…],"endpoints":[…],"listeners":[…],"routes":[…],"secrets":[…]`, each list
    /// sorted by name: the members of a JSON object, for the caller to wrap. Private keys read
    /// `[redacted]` (as Envoy's config_dump and Envoy Gateway print them): this text goes to
    /// terminals, goldens and the admin server, never to Envoy.
    public static func members(_ snapshot: Snapshot) throws -> String {
        registerEmbeddedTypes
        var options = JSONEncodingOptions()
        options.useDeterministicOrdering = true
        let sections: [(String, ResourceType, any SwiftProtobuf.Message.Type)] = [
            ("clusters", .cluster, Envoy_Config_Cluster_V3_Cluster.self),
            ("endpoints", .endpoint, Envoy_Config_Endpoint_V3_ClusterLoadAssignment.self),
            ("listeners", .listener, Envoy_Config_Listener_V3_Listener.self),
            ("routes", .route, Envoy_Config_Route_V3_RouteConfiguration.self),
            ("secrets", .secret, Envoy_Extensions_TransportSockets_Tls_V3_Secret.self),
        ]
        return try sections.compactMap { key, type, messageType in
            // Secrets only where there are some, so configurations without TLS read as before.
            if type == .secret && snapshot[type].count == 0 { return nil }
            let items = try snapshot[type].sorted.map { resource in
                var message = try messageType.init(serializedBytes: resource.encoded)
                if var secret = message as? Envoy_Extensions_TransportSockets_Tls_V3_Secret {
                    secret.redactPrivateKey()
                    message = secret
                }
                return try message.jsonString(options: options)
            }
            return "\"\(key)\":[" + items.joined(separator: ",") + "]"
        }.joined(separator: ",")
    }

    /// One resource in protobuf's JSON with the proto's own field names (`connect_timeout`), as
    /// Envoy's config_dump prints them: what `switchboard diff` compares. Private keys are redacted.
    public static func protoJSON(_ resource: Resource) throws -> String {
        registerEmbeddedTypes
        var options = JSONEncodingOptions()
        options.useDeterministicOrdering = true
        options.preserveProtoFieldNames = true
        let types: [ResourceType: any SwiftProtobuf.Message.Type] = [
            .cluster: Envoy_Config_Cluster_V3_Cluster.self,
            .endpoint: Envoy_Config_Endpoint_V3_ClusterLoadAssignment.self,
            .listener: Envoy_Config_Listener_V3_Listener.self,
            .route: Envoy_Config_Route_V3_RouteConfiguration.self,
            .secret: Envoy_Extensions_TransportSockets_Tls_V3_Secret.self,
            .rateLimitConfig: RateLimitServiceConfig.Config.self,
        ]
        var message = try types[resource.type]!.init(serializedBytes: resource.encoded)
        if var secret = message as? Envoy_Extensions_TransportSockets_Tls_V3_Secret {
            secret.redactPrivateKey()
            message = secret
        }
        return try message.jsonString(options: options)
    }

    /// `"rateLimitConfigs":[…]`, the rate limit service's configurations in `snapshot` sorted by
    /// name, as envoyproxy/ratelimit receives them; nil when there are none.
    public static func rateLimitConfigs(_ snapshot: Snapshot) throws -> String? {
        guard snapshot[.rateLimitConfig].count > 0 else { return nil }
        var options = JSONEncodingOptions()
        options.useDeterministicOrdering = true
        let items = try snapshot[.rateLimitConfig].sorted.map {
            try RateLimitServiceConfig.Config(serializedBytes: $0.encoded).jsonString(options: options)
        }
        return "\"rateLimitConfigs\":[" + items.joined(separator: ",") + "]"
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
            Envoy_Extensions_Filters_Http_Ratelimit_V3_RateLimit.self,
            Envoy_Extensions_Filters_Http_Ratelimit_V3_RateLimitPerRoute.self,
            Envoy_Extensions_LoadBalancingPolicies_OverrideHost_V3_OverrideHost.self,
            Envoy_Extensions_TransportSockets_ProxyProtocol_V3_ProxyProtocolUpstreamTransport.self,
            Envoy_Extensions_TransportSockets_RawBuffer_V3_RawBuffer.self,
            Envoy_Extensions_TransportSockets_Tls_V3_DownstreamTlsContext.self,
            Envoy_Extensions_TransportSockets_Tls_V3_UpstreamTlsContext.self,
            Envoy_Extensions_Filters_Listener_TlsInspector_V3_TlsInspector.self,
            Envoy_Extensions_Filters_Network_TcpProxy_V3_TcpProxy.self,
            Envoy_Extensions_Filters_Udp_UdpProxy_V3_UdpProxyConfig.self,
            Envoy_Extensions_Filters_Udp_UdpProxy_V3_Route.self,
        ]
        for type in types { _ = Google_Protobuf_Any.register(messageType: type) }
    }()
}

extension Envoy_Extensions_TransportSockets_Tls_V3_Secret {
    /// What a private key shows as wherever a person can read it.
    public static let redacted = Array("[redacted]".utf8)

    mutating func redactPrivateKey() {
        guard case .tlsCertificate(var certificate) = type, certificate.hasPrivateKey else { return }
        certificate.privateKey.inlineBytes = Data(Self.redacted)
        type = .tlsCertificate(certificate)
    }
}
