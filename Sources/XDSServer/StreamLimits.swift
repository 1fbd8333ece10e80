import Logging
import NIOCore
import NIOHTTP2

/// How many streams one HTTP/2 connection may have open, and how that is enforced.
///
/// NIOHTTP2 enforces its own SETTINGS_MAX_CONCURRENT_STREAMS, but treats a client that goes over it
/// as a connection error (GOAWAY PROTOCOL_ERROR), which ends every healthy stream on the connection;
/// RFC 9113 §5.1.2 allows refusing the extra stream alone instead. So the limit is kept in two
/// places:
///
/// - Clients are told `advertised` in the server's SETTINGS, and `StreamGuardHandler` refuses a
///   stream beyond it alone, with RST_STREAM(REFUSED_STREAM) (safe to retry: nothing was
///   processed) as soon as the stream opens.
/// - NIOHTTP2 is configured with `enforced`, higher, as a backstop it never reaches: refused streams
///   close before the next frame is read, so NIOHTTP2's count stays within one of ours. Since
///   NIOHTTP2 would advertise what it enforces, `ConnectionStreamLimitHandler` rewrites that one
///   value in the server's first SETTINGS frame on its way out.
///
/// One case still ends in a connection error: until NIOHTTP2 has received the client's ACK of the
/// server's SETTINGS it enforces its default of 100, so a client that opens more than 100 streams
/// before acknowledging the server's SETTINGS still gets GOAWAY(PROTOCOL_ERROR). A client that
/// reads the SETTINGS first (as the RFC expects, and as Envoy and gRPC clients do) cannot.
struct StreamsPerConnection: Sendable {
    let advertised: Int

    var enforced: Int { advertised + 100 }
}

/// Just before the HTTP/2 handler of each connection: rewrites SETTINGS_MAX_CONCURRENT_STREAMS in
/// the server's first SETTINGS frame from `limit.enforced` to `limit.advertised`, and counts the
/// connection's streams (for `StreamGuardHandler`, on the same event loop).
///
/// With `leavesAfterPreface`, it takes itself out of the pipeline once the SETTINGS frame has
/// passed (the count lives on with whoever holds it): otherwise each of the two writes of every
/// frame a push writes passes through it.
final class ConnectionStreamLimitHandler: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    let limit: StreamsPerConnection
    /// Open streams of this connection that were not refused.
    var openStreams = 0
    private var advertised = false
    private let leavesAfterPreface: Bool
    private let logger: Logger

    init(limit: StreamsPerConnection, leavesAfterPreface: Bool = false, logger: Logger) {
        self.limit = limit
        self.leavesAfterPreface = leavesAfterPreface
        self.logger = logger
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard !advertised else {
            context.write(data, promise: promise)
            return
        }
        advertised = true
        defer {
            if leavesAfterPreface { context.pipeline.syncOperations.removeHandler(context: context, promise: nil) }
        }
        // The server's preface is its SETTINGS frame, the first bytes it writes.
        guard case .byteBuffer(var buffer) = unwrapOutboundIn(data), rewriteMaxConcurrentStreams(in: &buffer) else {
            logger.error("could not advertise the per-connection stream limit: the first write was not SETTINGS")
            context.write(data, promise: promise)
            return
        }
        context.write(wrapOutboundOut(.byteBuffer(buffer)), promise: promise)
    }

    /// Whether `buffer` starts with a SETTINGS frame holding MAX_CONCURRENT_STREAMS = enforced,
    /// which is then set to advertised.
    private func rewriteMaxConcurrentStreams(in buffer: inout ByteBuffer) -> Bool {
        // A frame header: 24-bit length, type (SETTINGS is 4), flags, 31-bit stream ID; then
        // 6-byte settings, a 16-bit identifier (MAX_CONCURRENT_STREAMS is 3) and a 32-bit value.
        let start = buffer.readerIndex
        guard buffer.readableBytes >= 9, let word = buffer.getInteger(at: start, as: UInt32.self),
            buffer.getInteger(at: start + 3, as: UInt8.self) == 4, buffer.getInteger(at: start + 4, as: UInt8.self) == 0
        else { return false }
        let length = Int(word >> 8)
        guard buffer.readableBytes >= 9 + length else { return false }
        for offset in stride(from: start + 9, to: start + 9 + length - 5, by: 6)
        where buffer.getInteger(at: offset, as: UInt16.self) == 3
            && buffer.getInteger(at: offset + 2, as: UInt32.self) == UInt32(limit.enforced)
        {
            buffer.setInteger(UInt32(limit.advertised), at: offset + 2)
            return true
        }
        return false
    }
}
