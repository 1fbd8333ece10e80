import EnvoyAPI
import GatewayIR
import SwiftProtobuf
import Testing

@testable import XDSTranslator

/// The source tag is written as bytes by hand for speed: they must be exactly SwiftProtobuf's
/// deterministic encoding of the same message, and decode back to it.
@Suite struct SourceMetadataTests {
    static let sources = [
        ResourceMetadata(kind: "HTTPRoute", name: "web", namespace: "apps", sectionName: "rule-1"),
        ResourceMetadata(kind: "Gateway", name: "eg", namespace: "default", sectionName: "http"),
        ResourceMetadata(kind: "Backend", name: "b", namespace: "n"),
        ResourceMetadata(
            kind: "Service", name: String(repeating: "x", count: 300), namespace: "ns-ü", sectionName: "8080"),
    ]

    @Test(arguments: sources)
    func bytesAreSwiftProtobufs(_ source: ResourceMetadata) throws {
        var options = BinaryEncodingOptions()
        options.useDeterministicOrdering = true
        let expected: [UInt8] = try SourceMetadata.envoy(source).serializedBytes(options: options)
        #expect(SourceMetadata.encoded(source) == expected)
    }

    @Test func attachedFieldDecodesAsMetadata() throws {
        let source = Self.sources[0]
        var route = Envoy_Config_Route_V3_Route()
        route.name = "r"
        try SourceMetadata.attach(source, to: &route, key: SourceMetadata.routeKey)
        let decoded = try Envoy_Config_Route_V3_Route(serializedBytes: try route.serializedBytes() as [UInt8])
        #expect(decoded.metadata == SourceMetadata.envoy(source))
        #expect(decoded.name == "r")
        var cluster = Envoy_Config_Cluster_V3_Cluster()
        try SourceMetadata.attach(source, to: &cluster, key: SourceMetadata.clusterKey)
        let decodedCluster = try Envoy_Config_Cluster_V3_Cluster(
            serializedBytes: try cluster.serializedBytes() as [UInt8])
        #expect(decodedCluster.metadata == SourceMetadata.envoy(source))
    }
}
