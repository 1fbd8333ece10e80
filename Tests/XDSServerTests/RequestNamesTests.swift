import EnvoyAPI
import NIOCore
import SwiftProtobuf
import Testing
import XDSCache

@testable import XDSServer

@Suite("Request names decoded once for every stream that sends them")
struct RequestNamesTests {
    static func request(
        type: ResourceType, names: [String], nonce: String = "", version: String = "", node: Bool = false,
        error: String? = nil
    ) -> Envoy_Service_Discovery_V3_DiscoveryRequest {
        var request = Envoy_Service_Discovery_V3_DiscoveryRequest()
        request.typeURL = type.typeURL
        request.resourceNames = names
        request.responseNonce = nonce
        request.versionInfo = version
        if node { request.node.id = "envoy-1" }
        if let error { request.errorDetail.message = error }
        return request
    }

    static func bytes(_ request: Envoy_Service_Discovery_V3_DiscoveryRequest) throws -> ByteBuffer {
        ByteBuffer(bytes: try request.serializedBytes() as [UInt8])
    }

    static func storage(_ names: [String]) -> UnsafeRawPointer? {
        names.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) }
    }

    @Test("requests decode as the protobuf decoder decodes them, whatever fields they carry")
    func decodesAsProtobuf() throws {
        let names = (0..<50).map { "httproute/default/app-\($0)/rule/0" }
        let requests = [
            Self.request(type: .endpoint, names: names, node: true),
            Self.request(type: .endpoint, names: names, nonce: "7", version: "v1"),
            Self.request(type: .endpoint, names: names, nonce: "8", version: "v1", error: "rejected"),
            Self.request(type: .cluster, names: []),
            Self.request(type: .route, names: ["*"]),
            Self.request(type: .route, names: ["a", "b"], nonce: "9"),
        ]
        var decoder = SotWRequestDecoder()
        for request in requests {
            #expect(try decoder.decode(Self.bytes(request)) == request)
        }
    }

    @Test("an ACK repeating the last request's names gets the same names, shared, not decoded again")
    func repeatedNamesShared() throws {
        let names = (0..<1000).map { "httproute/default/app-\($0)/rule/0" }
        var first = SotWRequestDecoder()
        var second = SotWRequestDecoder()
        let one = try first.decode(Self.bytes(Self.request(type: .endpoint, names: names, node: true)))
        let ack = try first.decode(Self.bytes(Self.request(type: .endpoint, names: names, nonce: "1", version: "v")))
        let other = try second.decode(Self.bytes(Self.request(type: .endpoint, names: names, node: true)))
        #expect(ack.resourceNames == names && ack.responseNonce == "1" && ack.versionInfo == "v")
        #expect(Self.storage(one.resourceNames) == Self.storage(ack.resourceNames))
        // Another stream sending the same bytes shares them too.
        #expect(Self.storage(one.resourceNames) == Self.storage(other.resourceNames))
        // And what the stream's subscription keeps is that array (`NameInterner`).
        #expect(Self.storage(NameInterner.shared.list(names).names) == Self.storage(one.resourceNames))

        let fewer = try first.decode(Self.bytes(Self.request(type: .endpoint, names: Array(names.dropLast()))))
        #expect(fewer.resourceNames == Array(names.dropLast()))
        // Another type's names are kept apart.
        let routes = try first.decode(Self.bytes(Self.request(type: .route, names: ["a"])))
        #expect(routes.resourceNames == ["a"])
        #expect(try first.decode(Self.bytes(Self.request(type: .endpoint, names: names))).resourceNames == names)
    }

    @Test("names not all together, or bytes that do not parse, decode (or fail) as a whole")
    func fallsBack() throws {
        let names = ["a", "b"]
        var split = try Self.bytes(Self.request(type: .endpoint, names: ["a"]))
        // A second resource_names record after the type URL: still a valid request.
        split.writeBytes([3 << 3 | 2, 1, UInt8(ascii: "b")])
        split.withUnsafeReadableBytes { #expect(EncodedNames.span(in: $0) == nil) }
        var decoder = SotWRequestDecoder()
        #expect(try decoder.decode(split).resourceNames == names)

        // A name that is not UTF-8 is refused as the protobuf decoder refuses it.
        var invalid = ByteBuffer(bytes: [3 << 3 | 2, 2, 0xC3, 0x28])
        invalid.writeBytes(try Self.request(type: .endpoint, names: []).serializedBytes() as [UInt8])
        #expect(throws: (any Error).self) { try decoder.decode(invalid) }
        #expect(throws: (any Error).self) {
            try Envoy_Service_Discovery_V3_DiscoveryRequest(serializedBytes: Array(invalid.readableBytesView))
        }
        // Cut off inside a record.
        let whole = try Self.bytes(Self.request(type: .endpoint, names: names))
        let cut = whole.getSlice(at: 0, length: whole.readableBytes - 1)!
        #expect(throws: (any Error).self) { try decoder.decode(cut) }
    }
}
