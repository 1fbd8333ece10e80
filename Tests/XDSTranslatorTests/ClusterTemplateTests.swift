import EnvoyAPI
import GatewayIR
import SwiftProtobuf
import Testing
import XDSCache
import XDSTesting
import Yams

@testable import XDSTranslator

/// A cluster made from its policy's template must be the very bytes SwiftProtobuf gives the
/// message the cluster features make (so its version does not depend on the way it was made),
/// and name the same load assignment and secrets.
@Suite("Clusters from a policy's shared encoding")
struct ClusterTemplateTests {
    struct Stage1: Decodable {
        var gateways: [GatewayConfig]
    }

    /// Every cluster of every golden case's IR, made both ways.
    @Test func everyGoldenClusterIsSwiftProtobufsEncoding() throws {
        var templated = 0
        var shared = 0
        for name in GoldenCase.names {
            let ir = try YAMLDecoder().decode(Stage1.self, from: try GoldenCase(named: name).expected("ir.yaml"))
            for config in ir.gateways {
                let templates = ClusterTemplates()
                var policies = Set<OutOfLine<ClusterPolicy>>()
                for backend in config.clusters where ClusterTemplates.applies(to: backend) {
                    try expectSame(backend, templates: templates, in: name)
                    templated += 1
                    if !policies.insert(backend.sharedPolicy).inserted { shared += 1 }
                }
            }
        }
        #expect(templated > 50)
        #expect(shared > 10, "clusters that share a policy share its template")
    }

    /// Two clusters of one policy, one without a source tag and one of another upstream protocol.
    @Test func clustersOfOnePolicyKeepTheirOwnNames() throws {
        var policy = ClusterPolicy()
        policy.healthCheck = nil
        policy.connectTimeout = .milliseconds(250)
        policy.proxyProtocol = .v2
        let shared = OutOfLine(wrappedValue: policy)
        var first = BackendCluster(
            name: "httproute/apps/web/rule/0", discovery: .endpoints,
            groups: [EndpointGroup(weight: 1, endpoints: [Endpoint(host: "10.0.0.1", port: 8080)])])
        first.sharedPolicy = shared
        first.metadata = ResourceMetadata(kind: "HTTPRoute", name: "web", namespace: "apps", sectionName: "rule-0")
        var second = first
        second.name = "httproute/apps/web/rule/1"
        second.metadata = nil
        var third = first
        third.name = "grpcroute/apps/api/rule/0"
        third.upstreamProtocol = .http2
        let templates = ClusterTemplates()
        for backend in [first, second, third, first] {
            try expectSame(backend, templates: templates, in: "clustersOfOnePolicy")
        }
    }

    @Test func dnsAndTLSClustersAreMadeWhole() {
        var dns = BackendCluster(
            name: "backend/apps/external", discovery: .dns,
            groups: [EndpointGroup(weight: 1, endpoints: [Endpoint(host: "example.com", port: 443)])])
        #expect(!ClusterTemplates.applies(to: dns))
        dns.discovery = .endpoints
        #expect(ClusterTemplates.applies(to: dns))
        dns.groups[0].tls = UpstreamTLS(sni: "example.com", caCertificate: nil)
        #expect(!ClusterTemplates.applies(to: dns))
    }

    func expectSame(_ backend: BackendCluster, templates: ClusterTemplates, in name: String) throws {
        let made = try templates.resource(backend)
        let whole = try Resource(try ClusterTranslator.cluster(backend))
        #expect(made.encoded == whole.encoded, "\(name): \(backend.name)")
        #expect(made.version == whole.version && made.serializedSize == whole.serializedSize)
        #expect(made.name == whole.name)
        #expect(made.references == whole.references, "\(name): \(backend.name)")
        #expect(made.secretReferences == whole.secretReferences, "\(name): \(backend.name)")
    }
}
