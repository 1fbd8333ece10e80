import Foundation
import NIOCore
import NIOHPACK
import NIOHTTP2
import NIOPosix
import Synchronization

/// An HTTP/2 client connection driven frame by frame, for what a gRPC client never does: stall in
/// the middle of a message, open more streams than the server allows, or look at the server's
/// SETTINGS.
public final class RawHTTP2Connection: Sendable {
    public let channel: any Channel
    private let multiplexer: NIOHTTP2Handler.AsyncStreamMultiplexer<Void>
    private let state: ConnectionState

    /// Connects and sends the client preface. With `ignoringStreamLimit`, the client is not told
    /// the server's MAX_CONCURRENT_STREAMS (it still shows in `serverSettings`), so it opens as
    /// many streams as it is asked to, as a misbehaving client would. `initialWindowSize` 0 makes
    /// a client that never reads: the server may send it no response data at all. The connection
    /// runs on `eventLoopGroup`: NIO's shared one unless the test keeps its own.
    public static func connect(
        host: String = "127.0.0.1", port: Int, ignoringStreamLimit: Bool = false, initialWindowSize: Int? = nil,
        eventLoopGroup: MultiThreadedEventLoopGroup = .singleton
    ) async throws -> RawHTTP2Connection {
        let configuration = {
            var configuration = NIOHTTP2Handler.Configuration()
            if let initialWindowSize {
                configuration.connection.initialSettings.removeAll { $0.parameter == .initialWindowSize }
                configuration.connection.initialSettings.append(
                    HTTP2Setting(parameter: .initialWindowSize, value: initialWindowSize))
            }
            return configuration
        }()
        let state = ConnectionState()
        let (channel, multiplexer) = try await ClientBootstrap(group: eventLoopGroup)
            .connectTimeout(.seconds(60))  // NIO's 10 s is too short under TSan on a busy machine
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    let settings = channel.eventLoop.makePromise(of: HTTP2Settings.self)
                    state.settings.withLock { $0 = settings.futureResult }
                    try sync.addHandler(
                        ServerSettingsReader(promise: settings, ignoringStreamLimit: ignoringStreamLimit))
                    // The client's own streams only; the server opens none.
                    let multiplexer = try sync.configureAsyncHTTP2Pipeline(mode: .client, configuration: configuration)
                    { stream in
                        stream.eventLoop.makeSucceededVoidFuture()
                    }
                    let acknowledged = channel.eventLoop.makePromise(of: Void.self)
                    state.acknowledged.withLock { $0 = acknowledged.futureResult }
                    try sync.addHandler(RootFrameRecorder(state: state, acknowledged: acknowledged))
                    return (channel, multiplexer)
                }
            }
        return RawHTTP2Connection(channel: channel, multiplexer: multiplexer, state: state)
    }

    private init(
        channel: any Channel, multiplexer: NIOHTTP2Handler.AsyncStreamMultiplexer<Void>, state: ConnectionState
    ) {
        self.channel = channel
        self.multiplexer = multiplexer
        self.state = state
    }

    /// The server's first SETTINGS frame, as it was sent; throws if the connection closed first.
    public var serverSettings: HTTP2Settings {
        get async throws { try await state.settings.withLock { $0! }.get() }
    }

    /// Returns once the server has acknowledged the client's SETTINGS, and so has read its whole
    /// preface; throws if the connection closed first.
    public func settingsAcknowledged() async throws {
        try await state.acknowledged.withLock { $0! }.get()
    }

    /// The error code of the GOAWAY the server sent, if it sent one.
    public var goAway: HTTP2ErrorCode? { state.goAway.withLock { $0 } }

    /// Whether the connection is closed (by either side).
    public var isClosed: Bool { !channel.isActive }

    public func openStream() async throws -> RawHTTP2Stream {
        let (channel, events, sink) = try await multiplexer.openStream { channel in
            channel.eventLoop.makeCompletedFuture {
                let (events, sink) = AsyncStream.makeStream(of: RawHTTP2Stream.Event.self)
                try channel.pipeline.syncOperations.addHandler(StreamRecorder(sink: sink))
                return (channel, events, sink)
            }
        }
        return RawHTTP2Stream(channel: channel, events: events, sink: sink)
    }

    /// Sends a PING (the server's HTTP/2 handler answers it).
    public func ping() async throws {
        let ping = HTTP2Frame(streamID: .rootStream, payload: .ping(HTTP2PingData(withInteger: 7), ack: false))
        try await channel.writeAndFlush(ping)
    }

    /// Sends `count` empty SETTINGS frames (control frames the server must answer) in one flush:
    /// they arrive together, however slowly the test's tasks run.
    public func sendEmptySettings(count: Int = 1) async throws {
        let channel = channel
        try await channel.eventLoop.flatSubmit {
            let frame = HTTP2Frame(streamID: .rootStream, payload: .settings(.settings([])))
            for _ in 1..<max(count, 1) { channel.write(frame, promise: nil) }
            return channel.writeAndFlush(frame)
        }.get()
    }

    public func close() async {
        try? await channel.close()
    }
}

/// One stream of a `RawHTTP2Connection`, speaking gRPC's framing by hand.
public final class RawHTTP2Stream {
    public enum Event: Sendable {
        case headers(HPACKHeaders, endStream: Bool)
        case data(ByteBuffer, endStream: Bool)
        case reset(HTTP2ErrorCode)
        case closed
    }

    /// How the server ended a stream: a gRPC status in trailers, or a reset.
    public struct End: Sendable, CustomStringConvertible {
        public var grpcStatus: Int?
        public var grpcMessage: String?
        /// The `:status` of the headers that ended the stream, when they had one.
        public var httpStatus: Int?
        public var reset: HTTP2ErrorCode?
        /// The server had not ended the stream when the test stopped waiting.
        public var timedOut = false

        public init() {}

        public var description: String {
            if timedOut { return "not ended by the server in time" }
            let status = grpcStatus.map { "grpc-status \($0) (\(grpcMessage ?? ""))" } ?? "no grpc-status"
            let http = httpStatus.map { ", HTTP \($0)" } ?? ""
            return "\(status)\(http), \(reset.map { "reset \($0)" } ?? "no reset")"
        }
    }

    public let channel: any Channel
    private var events: AsyncStream<Event>.Iterator
    private let sink: AsyncStream<Event>.Continuation
    private var received = ByteBuffer()
    private var end: End?

    init(channel: any Channel, events: AsyncStream<Event>, sink: AsyncStream<Event>.Continuation) {
        self.channel = channel
        self.events = events.makeAsyncIterator()
        self.sink = sink
    }

    /// The request headers of a gRPC call to `path` (e.g. `/package.Service/Method`), with
    /// `changing` replacing headers of the same name (nil: left out) or added.
    public func sendRequestHeaders(path: String, changing: KeyValuePairs<String, String?> = [:]) async throws {
        var fields: [(String, String)] = [
            (":method", "POST"), (":scheme", "http"), (":path", path), (":authority", "localhost"),
            ("content-type", "application/grpc"), ("te", "trailers"),
        ]
        for (name, value) in changing {
            fields.removeAll { $0.0 == name }
            if let value { fields.append((name, value)) }
        }
        // Pseudo-headers first, as HTTP/2 requires.
        let ordered = fields.filter { $0.0.hasPrefix(":") } + fields.filter { !$0.0.hasPrefix(":") }
        try await channel.writeAndFlush(
            HTTP2Frame.FramePayload.headers(.init(headers: HPACKHeaders(ordered))))
    }

    /// A whole gRPC message: its 5-byte prefix and `message`.
    public func sendMessage(_ message: [UInt8], endStream: Bool = false) async throws {
        var buffer = Self.prefix(length: message.count)
        buffer.writeBytes(message)
        try await sendData(buffer, endStream: endStream)
    }

    /// The 5-byte prefix of an uncompressed message of `length` bytes, followed by `body`: a message
    /// whose rest never comes, unless sent later.
    public func sendPartialMessage(announcing length: Int, body: Int) async throws {
        var buffer = Self.prefix(length: length)
        buffer.writeRepeatingByte(0, count: body)
        try await sendData(buffer, endStream: false)
    }

    public func sendData(_ buffer: ByteBuffer, endStream: Bool = false) async throws {
        try await channel.writeAndFlush(
            HTTP2Frame.FramePayload.data(.init(data: .byteBuffer(buffer), endStream: endStream)))
    }

    /// Resets the stream, as a client that gives up does.
    public func reset() async throws {
        try await channel.writeAndFlush(HTTP2Frame.FramePayload.rstStream(.cancel))
    }

    /// The next whole response message, or nil once the stream has ended (see `ended`). After
    /// `timeout` the stream is reset, so a test that waits in vain fails instead of hanging. The
    /// deadline bounds a failure only: with the whole suite and two CI builds on two cores, a
    /// server's first response has taken more than 30 s.
    public func nextMessage(timeout: Duration = .seconds(120)) async -> [UInt8]? {
        await resettingAfter(timeout) {
            while true {
                if received.readableBytes >= 5,
                    let length = received.getInteger(at: received.readerIndex + 1, as: UInt32.self),
                    received.readableBytes >= 5 + Int(length)
                {
                    received.moveReaderIndex(forwardBy: 5)
                    return received.readBytes(length: Int(length))
                }
                if end != nil { return nil }
                await receive()
            }
        }
    }

    /// Waits until the server ends the stream, and says how; response messages are skipped. After
    /// `timeout` the stream is reset and the end has `timedOut` set.
    public func ended(timeout: Duration = .seconds(120)) async -> End {
        await resettingAfter(timeout) {
            while end == nil { await receive() }
        }
        return end!
    }

    private func resettingAfter<T>(_ timeout: Duration, _ body: () async -> T) async -> T {
        let channel = self.channel
        let sink = self.sink
        let timer = Task {
            try await Task.sleep(for: timeout)
            channel.close(promise: nil)
            // Also when the stream cannot report its close (its connection is gone).
            sink.finish()
            return true
        }
        let result = await body()
        timer.cancel()
        if (try? await timer.value) == true, end?.grpcStatus == nil, end?.reset == nil { end?.timedOut = true }
        return result
    }

    private func receive() async {
        switch await events.next() {
        case .headers(let headers, let endStream):
            if endStream || headers.first(name: "grpc-status") != nil {
                var end = self.end ?? End()
                end.grpcStatus = headers.first(name: "grpc-status").flatMap { Int($0) }
                end.grpcMessage = headers.first(name: "grpc-message")?.removingPercentEncoding
                end.httpStatus = headers.first(name: ":status").flatMap { Int($0) }
                self.end = end
            }
        case .data(var buffer, _):
            received.writeBuffer(&buffer)
        case .reset(let code):
            var end = self.end ?? End()
            end.reset = code
            self.end = end
        case .closed, nil:
            if end == nil { end = End() }
        }
    }

    public static func prefix(length: Int) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt8(0))
        buffer.writeInteger(UInt32(length))
        return buffer
    }
}

private final class ConnectionState: Sendable {
    let settings = Mutex<EventLoopFuture<HTTP2Settings>?>(nil)
    let goAway = Mutex<HTTP2ErrorCode?>(nil)
    let acknowledged = Mutex<EventLoopFuture<Void>?>(nil)
}

/// Reads the server's first SETTINGS frame from the bytes before the client's HTTP/2 handler parses
/// them, and can hide MAX_CONCURRENT_STREAMS from it (by raising it to 2^31-1).
private final class ServerSettingsReader: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let promise: EventLoopPromise<HTTP2Settings>
    private let ignoringStreamLimit: Bool
    private var pending = ByteBuffer()

    init(promise: EventLoopPromise<HTTP2Settings>, ignoringStreamLimit: Bool) {
        self.promise = promise
        self.ignoringStreamLimit = ignoringStreamLimit
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        pending.writeBuffer(&bytes)
        // A frame header: 24-bit length, type, flags, stream ID; SETTINGS is type 4.
        guard pending.readableBytes >= 9,
            let length = pending.getInteger(at: pending.readerIndex, as: UInt32.self).map({ $0 >> 8 }),
            pending.readableBytes >= 9 + Int(length)
        else { return }
        let start = pending.readerIndex
        var settings = HTTP2Settings()
        if pending.getInteger(at: start + 3, as: UInt8.self) == 4 {
            for offset in stride(from: start + 9, to: start + 9 + Int(length), by: 6) {
                let identifier = pending.getInteger(at: offset, as: UInt16.self)!
                let value = pending.getInteger(at: offset + 2, as: UInt32.self)!
                settings.append(
                    HTTP2Setting(
                        parameter: HTTP2SettingsParameter(extensionSetting: Int(identifier)), value: Int(value)))
                if ignoringStreamLimit && identifier == 3 { pending.setInteger(UInt32(Int32.max), at: offset + 2) }
            }
            if ignoringStreamLimit && !settings.contains(where: { $0.parameter == .maxConcurrentStreams }) {
                // No limit advertised: NIOHTTP2 would assume 100. Add the setting, as 2^31-1.
                var frame = ByteBuffer()
                frame.writeInteger((length + 6) << 8 | 4)
                frame.writeBytes(pending.getBytes(at: start + 4, length: 5 + Int(length))!)
                frame.writeInteger(UInt16(3))
                frame.writeInteger(UInt32(Int32.max))
                pending.moveReaderIndex(forwardBy: 9 + Int(length))
                frame.writeBuffer(&pending)
                pending = frame
            }
        }
        // Passed on first, so the client has acknowledged them when a test learns of them.
        context.fireChannelRead(wrapInboundOut(pending))
        promise.succeed(settings)
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(ChannelError.eof)
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        promise.fail(ChannelError.eof)
    }
}

/// Records the connection-level frames a test asks about: GOAWAY, and the ACK of our SETTINGS.
private final class RootFrameRecorder: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame
    typealias InboundOut = HTTP2Frame

    private let state: ConnectionState
    private let acknowledged: EventLoopPromise<Void>

    init(state: ConnectionState, acknowledged: EventLoopPromise<Void>) {
        self.state = state
        self.acknowledged = acknowledged
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data).payload {
        case .goAway(_, let code, _): state.goAway.withLock { $0 = code }
        case .settings(.ack): acknowledged.succeed()
        default: break
        }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        acknowledged.fail(ChannelError.eof)
        context.fireChannelInactive()
    }

    /// Also when the connection never became active (connect failed).
    func handlerRemoved(context: ChannelHandlerContext) {
        acknowledged.fail(ChannelError.eof)
    }
}

private final class StreamRecorder: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame.FramePayload

    private let sink: AsyncStream<RawHTTP2Stream.Event>.Continuation

    init(sink: AsyncStream<RawHTTP2Stream.Event>.Continuation) { self.sink = sink }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .headers(let headers): sink.yield(.headers(headers.headers, endStream: headers.endStream))
        case .data(let body):
            if case .byteBuffer(let buffer) = body.data { sink.yield(.data(buffer, endStream: body.endStream)) }
        case .rstStream(let code): sink.yield(.reset(code))
        default: break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        sink.yield(.closed)
        sink.finish()
        context.fireChannelInactive()
    }
}
