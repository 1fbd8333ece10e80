import EnvoyAPI
import GatewayIR
import SwiftProtobuf
import Testing
import XDSCache
import XDSTesting
import Yams

@testable import XDSTranslator

/// Load assignments are written by hand for speed: they must be exactly the bytes SwiftProtobuf's
/// deterministic encoding gives the message `ClusterTranslator.loadAssignment` makes, so that a
/// resource's version does not depend on which way it was made.
@Suite("Load assignments written by hand")
struct LoadAssignmentEncodingTests {
    struct Stage1: Decodable {
        var gateways: [GatewayConfig]
    }

    static func expectSwiftProtobufs(_ backend: BackendCluster, _ label: String) throws {
        let expected = [UInt8](
            try Google_Protobuf_Any.deterministic(try ClusterTranslator.loadAssignment(backend)).value)
        let written = try ClusterTranslator.encodedLoadAssignment(backend)
        #expect(written == expected, "\(label): \(backend.name)")
    }

    @Test func everyGoldenLoadAssignment() throws {
        var count = 0
        for name in GoldenCase.names {
            let ir = try YAMLDecoder().decode(Stage1.self, from: try GoldenCase(named: name).expected("ir.yaml"))
            for config in ir.gateways {
                for backend in config.clusters where backend.discovery == .endpoints {
                    try Self.expectSwiftProtobufs(backend, name)
                    count += 1
                }
            }
        }
        #expect(count > 50)
    }

    /// What the goldens may not have: zones with and without weights, endpoints without a zone,
    /// draining endpoints, a health check port of 0, TLS socket matches, empty groups and hosts,
    /// weights of 0 and large ones, names long enough for two-byte lengths.
    static var cases: [(String, BackendCluster)] {
        let long = String(repeating: "n", count: 200)
        var plain = BackendCluster(
            name: "httproute/apps/web/rule/0", discovery: .endpoints,
            groups: [
                EndpointGroup(
                    weight: 3,
                    endpoints: [
                        Endpoint(host: "10.0.0.1", port: 8080), Endpoint(host: "10.0.0.2", port: 65535, draining: true),
                        Endpoint(host: "fd00::1", port: 1),
                    ], metadata: ResourceMetadata(kind: "Backend", name: "web", namespace: "apps")),
                EndpointGroup(weight: 0, endpoints: []),
                EndpointGroup(weight: 1_000_000, endpoints: [Endpoint(host: "", port: 0)]),
            ])
        var zones = plain
        zones.name = "httproute/\(long)/rule/1"
        zones.groups = [
            EndpointGroup(
                weight: 2,
                endpoints: [
                    Endpoint(host: "10.0.1.1", port: 80, zone: "a"), Endpoint(host: "10.0.1.2", port: 80, zone: "b"),
                    Endpoint(host: "10.0.1.3", port: 80), Endpoint(host: "10.0.1.4", port: 80, zone: "a"),
                    Endpoint(host: "10.0.1.5", port: 80, zone: ""),
                ], metadata: ResourceMetadata(kind: "Service", name: long, namespace: "apps", sectionName: "80"))
        ]
        var policy = ClusterPolicy()
        policy.zoneAware = .weightedZones(["a": 7, "b": 0])
        policy.healthCheck = ClusterPolicy.HealthCheck(
            timeout: .seconds(1), interval: .seconds(3), initialJitter: nil, unhealthyThreshold: 3,
            healthyThreshold: 1, kind: .tcp(send: nil, receive: nil), port: 0)
        var weighted = zones
        weighted.policy = policy
        policy.zoneAware = nil
        policy.healthCheck?.port = 9901
        var checked = plain
        checked.policy = policy
        var tls = plain
        tls.groups[0].tls = UpstreamTLS(sni: "web.example", caCertificate: "apps/ca")
        tls.groups[2].tls = UpstreamTLS(caCertificate: nil)
        plain.metadata = ResourceMetadata(kind: "HTTPRoute", name: "web", namespace: "apps")
        return [("plain", plain), ("weighted zones", weighted), ("health check port", checked), ("TLS", tls)]
    }

    @Test func edgeCases() throws {
        for (label, backend) in Self.cases { try Self.expectSwiftProtobufs(backend, label) }
    }
}
