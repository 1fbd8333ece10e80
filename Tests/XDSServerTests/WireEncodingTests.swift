import EnvoyAPI
import NIOCore
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

    @Test(
        "a response made for the NIO transport carries its gRPC prefix, so it is written in one piece with no copy; other bytes are copied behind one"
    )
    func framed() throws {
        let resources = try resources()
        let own = SotWResponse(type: .cluster, versionInfo: "v1", nonce: "7", resources: resources)
        let head = SharedResponseHead(.sotw, versionInfo: "v1", resources: resources, type: .cluster)
        var shared = SotWResponse(
            type: .cluster, versionInfo: "v1", nonce: head.nonce(after: 0).text, resources: resources)
        shared.sharedHead = head
        // The second shared one is the first's bytes, kept by the head.
        func expectFramed(_ bytes: ADSMessageBytes, sharing: Bool, _ comment: Comment) {
            let framed = bytes.framed
            let length = withUnsafeBytes(of: UInt32(bytes.count).bigEndian, Array.init)
            #expect(framed.getBytes(at: framed.readerIndex, length: 5) == [0] + length, comment)
            #expect(framed.readableBytes == 5 + bytes.count, comment)
            #expect(framed.getSlice(at: framed.readerIndex + 5, length: bytes.count) == bytes.buffer, comment)
            let storage = { (buffer: ByteBuffer) in buffer.withVeryUnsafeBytes { $0.baseAddress } }
            #expect((storage(framed) == storage(bytes.buffer)) == sharing, comment)
        }
        for response in [own, shared, shared] {
            let bytes: ADSMessageBytes = try SotWResponseSerializer().serialize(response)
            expectFramed(bytes, sharing: true, "a response")
            // A prefix that no longer matches the message is not used.
            var shortened = bytes
            shortened.buffer.moveWriterIndex(to: shortened.buffer.writerIndex - 1)
            expectFramed(shortened, sharing: false, "a shortened response")
        }
        // A buffer from elsewhere (a request) has none.
        let request = ADSMessageBytes(ByteBuffer(bytes: [0, 0, 0, 0, 3, 1, 2, 3]).getSlice(at: 5, length: 3)!)
        expectFramed(request, sharing: false, "a request's bytes")
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

    @Test("streams sent a whole type send the same bytes, nonce included, and a stream never repeats a nonce")
    func streamsShareWholeResponses() throws {
        let snapshot = try F.snapshot(clusters: ["a": 1, "b": 2, "c": 3])
        var streams = [SotWStreamStateMachine(), SotWStreamStateMachine()]
        var sent: [(SotWResponse, [UInt8])] = []
        for index in streams.indices {
            _ = streams[index].update(snapshot)
            let response = try #require(
                streams[index].receive(SotWRequest(typeURL: F.eds, resourceNames: ["a", "b", "c"])).responses.first)
            sent.append((response, try SotWResponseSerializer().serialize(response)))
        }
        #expect(sent[0].0.nonce == sent[1].0.nonce)
        #expect(sent[0].1 == (try sent[0].0.message.serializedBytes() as [UInt8]))
        // One buffer, made once: the second stream did not encode or copy it.
        #expect(sent[0].1.withUnsafeBytes(\.baseAddress) == sent[1].1.withUnsafeBytes(\.baseAddress))

        // Fewer names (nothing to send: the client keeps what it has of them), then all of them
        // again at the same version: the whole response's shared head is the same, and its nonce
        // the one this stream sent last, so the stream takes a new one rather than repeat it.
        func narrowThenWiden(_ stream: inout SotWStreamStateMachine, after last: SotWResponse) throws -> SotWResponse {
            var answers: [SotWResponse] = []
            for names in [["a"], ["a", "b", "c"]] {
                answers +=
                    stream.receive(
                        SotWRequest(
                            typeURL: F.eds, versionInfo: last.versionInfo, responseNonce: last.nonce,
                            resourceNames: names)
                    ).responses
            }
            #expect(answers.count == 1, "the narrowed subscription is owed nothing")
            return try #require(answers.first)
        }
        let first = sent[0].0
        let again = try narrowThenWiden(&streams[0], after: first)
        #expect(again.sharedHead != nil && again.sharedHead === first.sharedHead)
        #expect(again.nonce != first.nonce && (UInt64(again.nonce) ?? 0) > (UInt64(first.nonce) ?? .max))
        let againWritten: [UInt8] = try SotWResponseSerializer().serialize(again)
        #expect(againWritten == (try again.message.serializedBytes()))
        // The head took that nonce: the other stream, sent the same again, shares it and its bytes.
        let otherAgain = try narrowThenWiden(&streams[1], after: sent[1].0)
        #expect(otherAgain.nonce == again.nonce)
        let otherWritten: [UInt8] = try SotWResponseSerializer().serialize(otherAgain)
        #expect(otherWritten.withUnsafeBytes(\.baseAddress) == againWritten.withUnsafeBytes(\.baseAddress))
        // A late answer to the first response is now stale.
        let stale = streams[0].receive(
            SotWRequest(
                typeURL: F.eds, versionInfo: first.versionInfo, responseNonce: first.nonce, resourceNames: ["a"]))
        #expect(stale.events == [.staleNonce(.endpoint, nonce: first.nonce)])
    }

    @Test("delta streams sent a whole type share its head; a part of it has none")
    func deltaStreamsShareHeads() throws {
        let snapshot = try F.snapshot(clusters: ["a": 1, "b": 2, "c": 3])
        var heads: [SharedResponseHead?] = []
        var written: [[UInt8]] = []
        for _ in 0..<2 {
            var machine = DeltaStreamStateMachine()
            _ = machine.update(snapshot)
            let response = try #require(machine.receive(DeltaRequest(typeURL: F.cds)).responses.first)
            #expect(response.resources.count == 3)
            heads.append(response.sharedHead)
            written.append(try DeltaResponseSerializer().serialize(response))
            #expect(written.last == (try response.message.serializedBytes() as [UInt8]))
        }
        #expect(heads[0] != nil && heads[0] === heads[1])
        // Nothing removed: the whole response, nonce included, is one buffer for both streams.
        #expect(written[0].withUnsafeBytes(\.baseAddress) == written[1].withUnsafeBytes(\.baseAddress))
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

    @Test("a long part of a type is shared from the second stream sent the same objects; other lists are not")
    func listHeads() throws {
        let heads = SharedListHeads(budget: 1 << 20)
        let names = (0..<100).map { ("c\($0)", 1000 + $0) }
        let snapshot = try F.snapshot(clusters: Dictionary(uniqueKeysWithValues: names))
        let all = snapshot[.cluster].sorted
        let part = Array(all.prefix(80))
        #expect(
            heads.head(.delta, .cluster, versionInfo: "v1", resources: part) == nil, "the first stream encodes its own")
        let shared = try #require(heads.head(.delta, .cluster, versionInfo: "v1", resources: part))
        #expect(heads.head(.delta, .cluster, versionInfo: "v1", resources: part) === shared)
        // Its bytes are the response's own.
        var response = DeltaResponse(
            type: .cluster, systemVersionInfo: "v1", nonce: "7", resources: part, removedResources: [])
        let expected: [UInt8] = try response.message.serializedBytes()
        response.sharedHead = shared
        #expect(try DeltaResponseSerializer().serialize(response) as [UInt8] == expected)
        // Another version, another layout, other objects of the same names, another order, or a
        // short list: none of them is that head.
        let equalButOther = try F.snapshot(clusters: Dictionary(uniqueKeysWithValues: names))[.cluster].sorted
        for (layout, version, list) in [
            (SharedResponseHead.Layout.delta, "v2", part), (.sotw, "v1", part),
            (.delta, "v1", Array(equalButOther.prefix(80))), (.delta, "v1", part.reversed()),
            (.delta, "v1", Array(all.prefix(30))),
        ] {
            #expect(heads.head(layout, .cluster, versionInfo: version, resources: list) == nil)
            #expect(heads.head(layout, .cluster, versionInfo: version, resources: list) !== shared)
        }
    }

    @Test("delta streams sent most of a changed type share one head from the second stream on")
    func deltaStreamsShareChangedParts() throws {
        let names = (0..<100).map { "c\($0)" }
        let ports = Dictionary(uniqueKeysWithValues: names.map { ($0, 1000) })
        var timeouts = Dictionary(uniqueKeysWithValues: names.map { ($0, Int64(1)) })
        let first = try F.snapshot(clusters: ports, connectTimeouts: timeouts)
        var machines = [DeltaStreamStateMachine(), DeltaStreamStateMachine(), DeltaStreamStateMachine()]
        for index in machines.indices {
            _ = machines[index].update(first)
            let response = try #require(machines[index].receive(DeltaRequest(typeURL: F.cds)).responses.first)
            _ = machines[index].receive(DeltaRequest(typeURL: F.cds, responseNonce: response.nonce))
        }
        for name in names.prefix(90) { timeouts[name] = 2 }
        let next = try F.snapshot(clusters: ports, connectTimeouts: timeouts)
        let responses = try machines.indices.map { index in
            try #require(machines[index].update(next).responses.first)
        }
        #expect(responses.allSatisfy { $0.type == .cluster && $0.resources.count == 90 })
        #expect(responses[0].sharedHead == nil)
        #expect(responses[1].sharedHead != nil && responses[1].sharedHead === responses[2].sharedHead)
        let expected: [UInt8] = try responses[2].message.serializedBytes()
        #expect(try DeltaResponseSerializer().serialize(responses[2]) as [UInt8] == expected)
    }
}
