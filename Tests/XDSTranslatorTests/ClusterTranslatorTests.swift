import EnvoyAPI
import GatewayIR
import SwiftProtobuf
import Testing
import XDSCache

@testable import XDSTranslator

@Suite("Cluster translation: Envoy Gateway's defaults")
struct ClusterTranslatorTests {
    static let backend = BackendCluster(
        name: "httproute/default/backend/rule/0", discovery: .endpoints,
        groups: [
            EndpointGroup(
                weight: 1,
                endpoints: [
                    Endpoint(host: "10.0.0.1", port: 8080), Endpoint(host: "10.0.0.2", port: 8080, draining: true),
                ]),
            EndpointGroup(weight: 3, endpoints: [Endpoint(host: "10.0.1.1", port: 9090)]),
        ])

    @Test("an EDS cluster gets every default Envoy Gateway writes (mapping §2.0)")
    func edsDefaults() throws {
        let cluster = try ClusterTranslator.cluster(Self.backend)
        #expect(cluster.name == "httproute/default/backend/rule/0")
        #expect(cluster.connectTimeout == Google_Protobuf_Duration(seconds: 10))
        #expect(cluster.perConnectionBufferLimitBytes.value == 32768)
        #expect(cluster.hasCommonLbConfig)
        #expect(cluster.dnsLookupFamily == .v4Preferred)
        #expect(cluster.ignoreHealthOnHostRemoval)
        #expect(cluster.circuitBreakers.thresholds.map(\.maxRetries.value) == [1024])
        #expect(cluster.circuitBreakers.thresholds.first?.hasMaxConnections == false)
        #expect(cluster.lbPolicy == .roundRobin, "lb_policy is left unset (its zero value)")
        let policy = try #require(cluster.loadBalancingPolicy.policies.first?.typedExtensionConfig)
        #expect(policy.name == "envoy.load_balancing_policies.least_request")
        let leastRequest = try Envoy_Extensions_LoadBalancingPolicies_LeastRequest_V3_LeastRequest(
            serializedBytes: policy.typedConfig.value)
        guard case .localityWeightedLbConfig = leastRequest.localityLbConfig.localityConfigSpecifier else {
            Issue.record("least_request must be locality-weighted")
            return
        }
        #expect(cluster.type == .eds)
        #expect(cluster.edsClusterConfig.serviceName == cluster.name)
        guard case .ads = cluster.edsClusterConfig.edsConfig.configSourceSpecifier else {
            Issue.record("EDS must come over ADS")
            return
        }
        #expect(cluster.edsClusterConfig.edsConfig.resourceApiVersion == .v3)
        #expect(cluster.typedExtensionProtocolOptions.isEmpty, "HTTP/1.1 backends need no protocol options")
        #expect(try Resource(cluster).references == [cluster.name])
    }

    @Test("the load assignment has one weighted locality per backendRef, endpoints weighted 1")
    func loadAssignment() throws {
        let assignment = try ClusterTranslator.loadAssignment(Self.backend)
        #expect(assignment.clusterName == Self.backend.name)
        #expect(
            assignment.endpoints.map(\.locality.region) == [
                "httproute/default/backend/rule/0/backend/0", "httproute/default/backend/rule/0/backend/1",
            ])
        #expect(assignment.endpoints.map(\.loadBalancingWeight.value) == [1, 3])
        let first = assignment.endpoints[0].lbEndpoints
        #expect(first.map(\.endpoint.address.socketAddress.address) == ["10.0.0.1", "10.0.0.2"])
        #expect(first.map(\.loadBalancingWeight.value) == [1, 1])
        #expect(first.map(\.healthStatus) == [.unknown, .draining])
    }

    @Test("a DNS cluster carries its endpoints inline; an HTTP/2 backend gets EG's window sizes")
    func dnsAndHTTP2() throws {
        var backend = Self.backend
        backend.discovery = .dns
        backend.upstreamProtocol = .http2
        let cluster = try ClusterTranslator.cluster(backend)
        #expect(cluster.clusterType.name == "envoy.cluster.dns")
        let dns = try Envoy_Extensions_Clusters_Dns_V3_DnsCluster(
            serializedBytes: cluster.clusterType.typedConfig.value)
        #expect(dns.respectDnsTtl)
        #expect(dns.dnsRefreshRate == Google_Protobuf_Duration(seconds: 30))
        #expect(dns.dnsLookupFamily == .v4Preferred)
        #expect(cluster.loadAssignment.endpoints.count == 2)
        #expect(try Resource(cluster).references.isEmpty)
        let any = try #require(
            cluster.typedExtensionProtocolOptions["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"])
        let options = try Envoy_Extensions_Upstreams_Http_V3_HttpProtocolOptions(serializedBytes: any.value)
        #expect(options.explicitHTTPConfig.http2ProtocolOptions.initialStreamWindowSize.value == 65536)
        #expect(options.explicitHTTPConfig.http2ProtocolOptions.initialConnectionWindowSize.value == 1_048_576)
    }
}
