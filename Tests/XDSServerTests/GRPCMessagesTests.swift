import NIOCore
import Testing

@testable import XDSServer

/// gRPC's message framing as the NIO transport reads it (`GRPCMessageReader`). The transport's
/// streams are tested beside the gRPC transport's, over sockets, in "ADS service, on either
/// transport" and the suites parametrized over `ADSServerConfiguration.Transport`.
@Suite("gRPC message framing")
struct GRPCMessagesTests {
    @Test("gRPC messages are read across DATA frames, several to a frame, and bounded")
    func messageReader() throws {
        func framed(_ body: [UInt8], flag: UInt8 = 0) -> [UInt8] {
            [flag] + withUnsafeBytes(of: UInt32(body.count).bigEndian, Array.init) + body
        }
        var reader = GRPCMessageReader(maxMessageBytes: 8)
        let bytes = framed([1, 2, 3]) + framed([4]) + framed([5, 6])
        // Split mid-prefix and mid-body.
        reader.append(ByteBuffer(bytes: bytes[..<3]))
        #expect(try reader.next() == nil)
        reader.append(ByteBuffer(bytes: bytes[3..<10]))
        #expect(try reader.next() == ByteBuffer(bytes: [1, 2, 3]))
        #expect(try reader.next() == nil)
        reader.append(ByteBuffer(bytes: bytes[10...]))
        #expect(try reader.next() == ByteBuffer(bytes: [4]))
        #expect(try reader.next() == ByteBuffer(bytes: [5, 6]))
        #expect(try reader.next() == nil)
        // An empty message is a message.
        reader.append(ByteBuffer(bytes: framed([])))
        #expect(try reader.next() == ByteBuffer())

        var compressed = GRPCMessageReader(maxMessageBytes: 8)
        compressed.append(ByteBuffer(bytes: framed([1], flag: 1)))
        #expect(throws: GRPCMessageReader.Failure.compressed) { try compressed.next() }

        // Refused on its prefix, before its body arrives.
        var large = GRPCMessageReader(maxMessageBytes: 8)
        large.append(ByteBuffer(bytes: framed(Array(repeating: 0, count: 9)).prefix(5)))
        #expect(throws: GRPCMessageReader.Failure.tooLarge(announced: 9)) { try large.next() }
    }
}
