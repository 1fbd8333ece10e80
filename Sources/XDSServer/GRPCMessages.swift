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
        guard var buffer = pending, let (compressed, length) = buffer.getGRPCPrefix() else { return nil }
        guard !compressed else { throw .compressed }
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
/// (`framed`), so a stream writes a response as one DATA write, with no copy: a prefix of its
/// own was a 5-byte DATA frame and two more writes through the pipeline for each response.
struct ADSMessageBytes: GRPCContiguousBytes, SwiftProtobufContiguousBytes, Sendable {
    var buffer: ByteBuffer

    init(_ buffer: ByteBuffer) { self.buffer = buffer }

    init(repeating: UInt8, count: Int) {
        buffer = ByteBufferAllocator().buffer(capacity: 5 + count)
        buffer.writeGRPCPrefix(length: count)
        buffer.moveReaderIndex(forwardBy: 5)
        buffer.writeRepeatingByte(repeating, count: count)
    }

    /// The message behind its gRPC prefix, in one buffer. That is this buffer, from 5 bytes
    /// earlier, when the prefix is there and says as many bytes as there are (what the serializers
    /// make; `withUnsafeMutableBytes` cannot change their number); any other is copied behind a
    /// new prefix.
    var framed: ByteBuffer {
        if buffer.readerIndex >= 5 {
            var framed = buffer
            framed.moveReaderIndex(to: buffer.readerIndex - 5)
            if let prefix = framed.getGRPCPrefix(), !prefix.compressed, prefix.length == buffer.readableBytes {
                return framed
            }
        }
        var framed = ByteBufferAllocator().buffer(capacity: 5 + buffer.readableBytes)
        framed.writeGRPCPrefix(length: buffer.readableBytes)
        framed.writeImmutableBuffer(buffer)
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
    /// The prefix at the start of the readable bytes: whether the message is compressed, and its
    /// length; nil while fewer than 5 bytes are there.
    func getGRPCPrefix() -> (compressed: Bool, length: Int)? {
        guard let flag = getInteger(at: readerIndex, as: UInt8.self),
            let length = getInteger(at: readerIndex + 1, as: UInt32.self)
        else { return nil }
        return (flag != 0, Int(length))
    }

    /// The 5-byte prefix of an uncompressed message of `length` bytes.
    mutating func writeGRPCPrefix(length: Int) {
        writeInteger(UInt8(0))
        writeInteger(UInt32(length))
    }
}
