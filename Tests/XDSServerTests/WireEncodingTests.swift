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

    @Test("a response written from a shared head has the same bytes as one written whole")
    func sharedHead() throws {
        for (type, version, resources) in [
            (ResourceType.cluster, "v1", try resources()), (.cluster, "", []),
            (.listener, "abc", try resources(.listener)),
        ] {
            let whole = SotWResponse(type: type, versionInfo: version, nonce: "99", resources: resources)
            var shared = whole
            shared.sharedHead = SharedResponseHead(.sotw, versionInfo: version, resources: resources, type: type)
            let expected: [UInt8] = try whole.message.serializedBytes()
            #expect(try SotWResponseSerializer().serialize(shared) as [UInt8] == expected)
        }
    }

    @Test("streams sent a whole type share one head per version; a stream's own selection has none")
    func streamsShareHeads() throws {
        let snapshot = try F.snapshot(clusters: ["a": 1, "b": 2, "c": 3])
        var heads: [SharedResponseHead?] = []
        for _ in 0..<2 {
            var machine = SotWStreamStateMachine()
            _ = machine.update(snapshot)
            heads.append(machine.receive(SotWRequest(typeURL: F.cds)).responses.first?.sharedHead)
        }
        #expect(heads[0] != nil && heads[0] === heads[1])
        var named = SotWStreamStateMachine()
        _ = named.update(snapshot)
        let some = try #require(named.receive(SotWRequest(typeURL: F.eds, resourceNames: ["a"])).responses.first)
        #expect(some.sharedHead == nil && some.resources.map(\.name) == ["a"])
        let all = try #require(
            named.receive(
                SotWRequest(
                    typeURL: F.eds, versionInfo: some.versionInfo, responseNonce: some.nonce,
                    resourceNames: ["a", "b", "c"])
            ).responses.first)
        #expect(all.sharedHead != nil)
    }

    @Test("delta streams sent a whole type share its head; a part of it has none")
    func deltaStreamsShareHeads() throws {
        let snapshot = try F.snapshot(clusters: ["a": 1, "b": 2, "c": 3])
        var heads: [SharedResponseHead?] = []
        for _ in 0..<2 {
            var machine = DeltaStreamStateMachine()
            _ = machine.update(snapshot)
            let response = machine.receive(DeltaRequest(typeURL: F.cds)).responses.first
            #expect(response?.resources.count == 3)
            heads.append(response?.sharedHead)
        }
        #expect(heads[0] != nil && heads[0] === heads[1])
        var named = DeltaStreamStateMachine()
        _ = named.update(snapshot)
        let some = try #require(named.receive(DeltaRequest(typeURL: F.eds, subscribe: ["a", "b"])).responses.first)
        #expect(some.sharedHead == nil && some.resources.count == 2)
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
            var shared = response
            shared.sharedHead = SharedResponseHead(
                .delta, versionInfo: response.systemVersionInfo, resources: resources, type: type)
            #expect(try DeltaResponseSerializer().serialize(shared) as [UInt8] == expected)
            #expect(try Envoy_Service_Discovery_V3_DeltaDiscoveryResponse(serializedBytes: written) == response.message)
        }
    }
}
