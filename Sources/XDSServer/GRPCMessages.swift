import GRPCCore
import NIOCore
import SwiftProtobuf

// gRPC's message framing on HTTP/2, for the ADS transport on NIO (`ADSStreamHandler`): each
// message is a 5-byte prefix (a compressed flag and a 32-bit big-endian length) and the message,
// carried over any number of DATA frames.

/// The messages in a stream's DATA frames, as they arrive.
struct GRPCMessageReader {
    enum Failure: Error, Equatable {
        /// The compressed flag is set; this server offers no compression, so none may be used.
        case compressed
        /// The message announced more bytes than `maxMessageBytes`.
        case tooLarge(announced: Int)
    }

    let maxMessageBytes: Int
    private var pending: ByteBuffer?

    init(maxMessageBytes: Int) {
        self.maxMessageBytes = maxMessageBytes
    }

    /// Whether part of a message has arrived and not the rest.
    var holdsPartialMessage: Bool { (pending?.readableBytes ?? 0) > 0 }

    /// Bytes of DATA frames, in order.
    mutating func append(_ bytes: ByteBuffer) {
        if pending == nil || pending!.readableBytes == 0 {
            pending = bytes
        } else {
            var bytes = bytes
            pending!.writeBuffer(&bytes)
        }
    }

    /// The next whole message, or nil until more bytes arrive. The message is a slice of what
    /// arrived when it came in one piece.
    mutating func next() throws(Failure) -> ByteBuffer? {
        guard var buffer = pending, buffer.readableBytes >= 5 else { return nil }
        let flag = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self)!
        let length = Int(buffer.getInteger(at: buffer.readerIndex + 1, as: UInt32.self)!)
        guard flag == 0 else { throw .compressed }
        guard length <= maxMessageBytes else { throw .tooLarge(announced: length) }
        guard buffer.readableBytes >= 5 + length else { return nil }
        buffer.moveReaderIndex(forwardBy: 5)
        let message = buffer.readSlice(length: length)!
        // Nothing left: the stream keeps no buffer between messages.
        pending = buffer.readableBytes == 0 ? nil : buffer
        return message
    }
}

/// A response's encoding in a NIO buffer: what `SotWResponseSerializer` and
/// `DeltaResponseSerializer` write for the NIO transport. Shared whole responses are kept as
/// these, so every stream writes the one buffer. Requests decode from it too.
///
/// A buffer the serializers make has the message's gRPC prefix in front of its readable bytes
/// (`framed`), so a stream writes a response as one DATA write: a prefix of its own was a
/// 5-byte DATA frame and two more writes through the pipeline for each response.
struct ADSMessageBytes: GRPCContiguousBytes, SwiftProtobufContiguousBytes, Sendable {
    var buffer: ByteBuffer

    init(_ buffer: ByteBuffer) { self.buffer = buffer }

    init(repeating: UInt8, count: Int) {
        buffer = ByteBufferAllocator().buffer(capacity: 5 + count)
        buffer.writeGRPCPrefix(length: count)
        buffer.moveReaderIndex(forwardBy: 5)
        buffer.writeRepeatingByte(repeating, count: count)
    }

    /// The message behind its gRPC prefix, when the prefix is in the buffer: the readable bytes
    /// are as many as it says (`withUnsafeMutableBytes` cannot change their number).
    var framed: ByteBuffer? {
        guard buffer.readerIndex >= 5 else { return nil }
        var framed = buffer
        framed.moveReaderIndex(to: buffer.readerIndex - 5)
        guard framed.getInteger(at: framed.readerIndex, as: UInt8.self) == 0,
            framed.getInteger(at: framed.readerIndex + 1, as: UInt32.self) == UInt32(buffer.readableBytes)
        else { return nil }
        return framed
    }

    init(_ sequence: some Sequence<UInt8>) { buffer = ByteBuffer(bytes: sequence) }

    var count: Int { buffer.readableBytes }

    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try buffer.withUnsafeReadableBytes(body)
    }

    mutating func withUnsafeMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        try buffer.withUnsafeMutableReadableBytes(body)
    }
}

extension ByteBuffer {
    /// The 5-byte prefix of an uncompressed message of `length` bytes.
    static func grpcPrefix(length: Int, allocator: ByteBufferAllocator) -> ByteBuffer {
        var prefix = allocator.buffer(capacity: 5)
        prefix.writeGRPCPrefix(length: length)
        return prefix
    }

    mutating func writeGRPCPrefix(length: Int) {
        writeInteger(UInt8(0))
        writeInteger(UInt32(length))
    }
}
