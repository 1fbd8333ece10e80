import EnvoyAPI
import GatewayIR
import SwiftProtobuf

/// How Envoy resolves host names: the lookup family every cluster carries, and for DNS backends
/// the `envoy.cluster.dns` extension (which replaced STRICT_DNS) with its refresh rate and TTL
/// rule; their endpoints travel inline, not over EDS.
enum DNSResolution: ClusterFeature {
    static func apply(_ backend: BackendCluster, to cluster: inout EnvoyCluster) throws {
        let policy = backend.policy
        cluster.dnsLookupFamily = lookupFamily(policy.dnsLookupFamily)
        guard backend.discovery == .dns else { return }
        var dns = Envoy_Extensions_Clusters_Dns_V3_DnsCluster()
        dns.dnsRefreshRate = Google_Protobuf_Duration(policy.dnsRefreshRate)
        dns.respectDnsTtl = policy.respectDNSTTL
        dns.dnsLookupFamily = extensionLookupFamily(policy.dnsLookupFamily)
        cluster.clusterType.name = "envoy.cluster.dns"
        cluster.clusterType.typedConfig = try .deterministic(dns)
        cluster.loadAssignment = try ClusterTranslator.loadAssignment(backend)
    }

    static func lookupFamily(_ family: ClusterPolicy.DNSLookupFamily) -> EnvoyCluster.DnsLookupFamily {
        switch family {
        case .v4Only: .v4Only
        case .v6Only: .v6Only
        case .v4Preferred: .v4Preferred
        case .auto: .auto
        case .all: .all
        }
    }

    static func extensionLookupFamily(
        _ family: ClusterPolicy.DNSLookupFamily
    ) -> Envoy_Extensions_Clusters_Common_Dns_V3_DnsLookupFamily {
        switch family {
        case .v4Only: .v4Only
        case .v6Only: .v6Only
        case .v4Preferred: .v4Preferred
        case .auto: .auto
        case .all: .all
        }
    }
}
