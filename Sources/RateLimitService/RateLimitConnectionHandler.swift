import EnvoyAPI
import GRPCCore
import NIOCore
import NIOHPACK
import NIOHTTP2
import SwiftProtobuf

/// One HTTP/2 connection's unary ShouldRateLimit calls, answered from the connection's frames.
///
/// grpc-swift gives every call its own child channel, pipeline and async streams: about 100 µs
/// of CPU per call on this machine, which caps the service near 10 000 decisions a second on two
/// cores, while a decision itself takes about 2 µs. The service has one unary method with small
/// messages, so it reads HEADERS and DATA frames here and writes the response frames itself;
/// NIOHTTP2 still does the framing, HPACK, the stream states and the peer's limits (its SETTINGS
/// cap concurrent streams, hence the calls in flight).
///
/// A request must fit the stream's initial window (it does: Envoy's are a few hundred bytes),
/// so only the connection's window needs updates, which this handler sends.
final class RateLimitConnectionHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTP2Frame
    typealias OutboundOut = HTTP2Frame

    static let method = "/envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit"
    /// Larger requests end with RESOURCE_EXHAUSTED: below the 64 KiB initial stream window, so
    /// the peer is never left waiting for a window update.
    static let maxRequestBytes = 60 * 1024
    /// The connection window the handler keeps open.
    static let connectionWindow = 1 << 20

    private let service: RateLimitGRPCService
    /// Request bytes of each open stream; only the event loop touches it.
    private var requests: [HTTP2StreamID: ByteBuffer] = [:]

    init(service: RateLimitGRPCService) {
        self.service = service
    }

    func channelActive(context: ChannelHandlerContext) {
        // From the protocol's 65 535 bytes up to the window kept from now on.
        let increment = Self.connectionWindow - 65_535
        context.writeAndFlush(
            wrapOutboundOut(HTTP2Frame(streamID: .rootStream, payload: .windowUpdate(windowSizeIncrement: increment))),
            promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.payload {
        case .headers(let headers):
            if requests[frame.streamID] != nil {
                // Trailers: they end the request, if nothing else did.
                if headers.endStream { finish(frame.streamID, context: context) }
                return
            }
            guard headers.headers.first(name: ":path") == Self.method else {
                fail(frame.streamID, .unimplemented, "only \(Self.method) is served here", context: context)
                return
            }
            if headers.headers.first(name: "grpc-encoding").map({ $0 != "identity" }) == true {
                fail(frame.streamID, .unimplemented, "compressed requests are not supported", context: context)
                return
            }
            requests[frame.streamID] = context.channel.allocator.buffer(capacity: 256)
            if headers.endStream { finish(frame.streamID, context: context) }
        case .data(let data):
            guard var buffer = requests[frame.streamID], case .byteBuffer(var bytes) = data.data else { return }
            guard buffer.readableBytes + bytes.readableBytes <= Self.maxRequestBytes else {
                fail(
                    frame.streamID, .resourceExhausted, "the request is over \(Self.maxRequestBytes) bytes",
                    context: context)
                return
            }
            buffer.writeBuffer(&bytes)
            requests[frame.streamID] = buffer
            if data.endStream { finish(frame.streamID, context: context) }
        case .rstStream:
            requests[frame.streamID] = nil
        default:
            break
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let window = event as? NIOHTTP2WindowUpdatedEvent, window.streamID == .rootStream,
            let size = window.inboundWindowSize, size < Self.connectionWindow / 2
        {
            let update = HTTP2Frame(
                streamID: .rootStream, payload: .windowUpdate(windowSizeIncrement: Self.connectionWindow - size))
            context.writeAndFlush(wrapOutboundOut(update), promise: nil)
        } else if let closed = event as? StreamClosedEvent {
            requests[closed.streamID] = nil
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// The request is complete: decide off the event loop, answer on it.
    private func finish(_ stream: HTTP2StreamID, context: ChannelHandlerContext) {
        guard var buffer = requests.removeValue(forKey: stream) else { return }
        // One length-prefixed message: flag 0 (uncompressed), 4-byte length, the message.
        guard let flag = buffer.readInteger(as: UInt8.self), flag == 0,
            let length = buffer.readInteger(as: UInt32.self), Int(length) == buffer.readableBytes,
            let request = try? Envoy_Service_Ratelimit_V3_RateLimitRequest(
                serializedBytes: Array(buffer.readableBytesView))
        else {
            fail(stream, .invalidArgument, "the request is not one uncompressed RateLimitRequest", context: context)
            return
        }
        let loop = context.eventLoop
        let bound = NIOLoopBound((self, context), eventLoop: loop)
        let service = service
        Task {
            let result: Result<Envoy_Service_Ratelimit_V3_RateLimitResponse, RPCError>
            do throws(RPCError) {
                result = .success(try await service.respond(to: request))
            } catch {
                result = .failure(error)
            }
            loop.execute {
                let (handler, context) = bound.value
                switch result {
                case .success(let response): handler.answer(stream, response, context: context)
                case .failure(let error): handler.fail(stream, error.code, error.message, context: context)
                }
            }
        }
    }

    private func answer(
        _ stream: HTTP2StreamID, _ response: Envoy_Service_Ratelimit_V3_RateLimitResponse,
        context: ChannelHandlerContext
    ) {
        guard context.channel.isActive, let bytes: [UInt8] = try? response.serializedBytes() else { return }
        var message = context.channel.allocator.buffer(capacity: bytes.count + 5)
        message.writeInteger(UInt8(0))
        message.writeInteger(UInt32(bytes.count))
        message.writeBytes(bytes)
        let head: HPACKHeaders = [":status": "200", "content-type": "application/grpc"]
        context.write(
            wrapOutboundOut(HTTP2Frame(streamID: stream, payload: .headers(.init(headers: head)))), promise: nil)
        context.write(
            wrapOutboundOut(HTTP2Frame(streamID: stream, payload: .data(.init(data: .byteBuffer(message))))),
            promise: nil)
        let trailers: HPACKHeaders = ["grpc-status": "0"]
        context.writeAndFlush(
            wrapOutboundOut(HTTP2Frame(streamID: stream, payload: .headers(.init(headers: trailers, endStream: true)))),
            promise: nil)
    }

    /// `grpc-message` as gRPC carries it: printable ASCII but `%` as is, every other byte as %XX.
    static func percentEncoded(_ message: String) -> String {
        var encoded = ""
        for byte in message.utf8 {
            if (0x20...0x7E).contains(byte) && byte != UInt8(ascii: "%") {
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                encoded += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return encoded
    }

    /// A trailers-only response with the call's status, as gRPC ends a call that failed.
    private func fail(_ stream: HTTP2StreamID, _ code: RPCError.Code, _ message: String, context: ChannelHandlerContext)
    {
        requests[stream] = nil
        guard context.channel.isActive else { return }
        let headers: HPACKHeaders = [
            ":status": "200", "content-type": "application/grpc", "grpc-status": "\(code.rawValue)",
            "grpc-message": Self.percentEncoded(message),
        ]
        context.writeAndFlush(
            wrapOutboundOut(HTTP2Frame(streamID: stream, payload: .headers(.init(headers: headers, endStream: true)))),
            promise: nil)
    }
}

extension String {
    fileprivate func leftPadded(to length: Int) -> String {
        String(repeating: "0", count: max(0, length - count)) + self
    }
}
