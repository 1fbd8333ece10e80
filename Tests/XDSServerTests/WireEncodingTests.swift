import EnvoyAPI
import SwiftProtobuf
import Testing
import XDSCache

@testable import XDSServer

/// The responses written from pre-encoded resources are byte for byte what SwiftProtobuf writes
/// for the same message, and read back as it.
@Suite("xDS responses written from encoded resources")
struct WireEncodingTests {
    typealias F = Fixtures

    /// Resources of one type; clusters in every size class (a varint length of one, two and
    /// three bytes).
    func resources(_ type: ResourceType = .cluster) throws -> [Resource] {
        let snapshot = try F.snapshot(clusters: ["a": 1, "b": 2, "c": 3], listeners: 2)
        var resources = snapshot[type].sorted
        guard type == .cluster else { return resources }
        var large = Envoy_Config_Cluster_V3_Cluster()
        large.name = String(repeating: "long-name-", count: 2000)
        resources.append(try Resource(large))
        return resources
    }

    @Test("a state-of-the-world response equals SwiftProtobuf's encoding")
    func sotw() throws {
        for (type, version, nonce, resources) in [
            (ResourceType.cluster, "v1", "1", try resources()), (.cluster, "", "17", []),
            (.listener, "abc", "123456", try resources(.listener)),
        ] {
            let response = SotWResponse(type: type, versionInfo: version, nonce: nonce, resources: resources)
            let written: [UInt8] = try SotWResponseSerializer().serialize(response)
            let expected: [UInt8] = try response.message.serializedBytes()
            #expect(written == expected)
            #expect(try Envoy_Service_Discovery_V3_DiscoveryResponse(serializedBytes: written) == response.message)
        }
    }

    @Test("a delta response equals SwiftProtobuf's encoding, removed names included")
    func delta() throws {
        for (type, removed, resources) in [
            (ResourceType.cluster, ["gone", "", "also-gone"], try resources()), (.route, [], []),
            (.endpoint, ["x"], try resources(.endpoint)),
        ] {
            let response = DeltaResponse(
                type: type, systemVersionInfo: "v9", nonce: "42", resources: resources, removedResources: removed)
            let written: [UInt8] = try DeltaResponseSerializer().serialize(response)
            let expected: [UInt8] = try response.message.serializedBytes()
            #expect(written == expected)
            #expect(try Envoy_Service_Discovery_V3_DeltaDiscoveryResponse(serializedBytes: written) == response.message)
        }
    }
}
