import FoundationEssentials
import Logging
import NIOCore
import NIOHPACK
import NIOHTTP2
import Synchronization

/// The bytes that request messages still arriving may hold, shared by every stream of the server.
///
/// gRPC buffers a request message until its last byte has arrived, so clients announcing large
/// messages and sending them slowly, on many streams, could make the server hold gigabytes. Each
/// message's announced length is reserved here before its bytes are buffered, and released when
/// the message is complete or its stream ends. A message that does not fit waits its turn
/// (`reserveOrQueue`), in the order they asked: ten thousand Envoys reconnecting at once each send
/// an EDS request listing every cluster, more than the budget holds, and each gets in as the ones
/// before it complete, where refusing them had them retry for minutes.
public final class RequestMemoryBudget: Sendable {
    public let limit: Int
    private let state = Mutex(State())

    /// Called with the waiter's ticket once its bytes are reserved for it, on no particular thread.
    typealias Grant = @Sendable (UInt64) -> Void

    private struct State: ~Copyable {
        var used = 0
        var nextTicket: UInt64 = 0
        var waiters = WaitQueue<(bytes: Int, grant: Grant)>()

        /// Reserves `bytes` if they fit and no message waits ahead of them.
        mutating func reserveNow(_ bytes: Int, limit: Int) -> Bool {
            guard waiters.isEmpty, used + bytes <= limit else { return false }
            used += bytes
            return true
        }

        /// Reserves for the waiters at the head of the queue while they fit.
        mutating func handOver(limit: Int) -> [(UInt64, Grant)] {
            var granted: [(UInt64, Grant)] = []
            while let (ticket, waiter) = waiters.first(), used + waiter.bytes <= limit {
                _ = waiters.removeFirst()
                used += waiter.bytes
                granted.append((ticket, waiter.grant))
            }
            return granted
        }
    }

    init(limit: Int) {
        self.limit = limit
    }

    /// Bytes reserved now.
    public var inUse: Int { state.withLock { $0.used } }

    /// Messages waiting for their bytes now.
    public var waitingCount: Int { state.withLock { $0.waiters.count } }

    /// Reserves `bytes`, or returns false (reserving nothing) when they do not fit or others wait.
    func reserve(_ bytes: Int) -> Bool {
        guard bytes > 0 else { return true }
        return state.withLock { $0.reserveNow(bytes, limit: limit) }
    }

    /// Reserves `bytes` now (nil), or queues for them and returns the ticket `grant` will be
    /// called with once they are reserved. `bytes` must be at most `limit`.
    func reserveOrQueue(_ bytes: Int, grant: @escaping Grant) -> UInt64? {
        precondition(bytes <= limit, "a request larger than the whole budget would wait forever")
        return state.withLock { state in
            if state.reserveNow(bytes, limit: limit) { return nil }
            state.nextTicket += 1
            state.waiters.append(state.nextTicket, (bytes, grant))
            return state.nextTicket
        }
    }

    /// Takes a waiter out of the queue; false when its bytes were reserved already (its grant is
    /// on its way, and whoever receives it releases them).
    @discardableResult
    func cancel(_ ticket: UInt64) -> Bool {
        let (cancelled, granted) = state.withLock { state in
            guard state.waiters.remove(ticket) != nil else { return (false, [(UInt64, Grant)]()) }
            // The head may have been the one that did not fit.
            return (true, state.handOver(limit: limit))
        }
        for (ticket, grant) in granted { grant(ticket) }
        return cancelled
    }

    func release(_ bytes: Int) {
        guard bytes > 0 else { return }
        let granted = state.withLock { state in
            state.used -= bytes
            return state.handOver(limit: limit)
        }
        for (ticket, grant) in granted { grant(ticket) }
    }
}

/// Holds back a connection's reads while one of its streams waits for request memory, so that the
/// client's bytes wait in its socket, and TCP stops the client, instead of in the server. Last in
/// the connection's pipeline: the reads the connection asks for after each read and those its
/// HTTP/2 streams ask for start at the pipeline's tail, where nothing written passes.
///
/// A stream may wait only while no stream of its connection has a message partly read: those
/// could complete only by reading, and their reservations, held meanwhile, might be what the
/// waiting stream needs. Envoy opens one stream per connection, so this is every stream of an
/// Envoy; a second message of a many-streamed connection that does not fit is refused.
final class ConnectionReadGate: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = Any

    /// Streams of this connection whose current message holds a reservation (partly read).
    var messagesInProgress = 0
    /// A stream of this connection waits for request memory: the connection reads nothing.
    private(set) var closed = false
    /// A read was asked for while closed.
    private var readHeld = false
    private var context: ChannelHandlerContext?

    /// Whether a stream of the connection may wait for request memory now: a connection with one
    /// waiting (and so reading nothing) takes no other.
    var mayWait: Bool { !closed && messagesInProgress == 0 }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func close() {
        closed = true
    }

    /// Lets reads through again, and makes the one held back unless `reading` is false.
    func open(reading: Bool = true) {
        closed = false
        guard reading, readHeld, let context else { return }
        readHeld = false
        context.read()
    }

    func read(context: ChannelHandlerContext) {
        guard !closed else {
            readHeld = true
            return
        }
        context.read()
    }
}

/// The first handler of every HTTP/2 stream, ahead of gRPC's. It refuses a stream beyond the
/// connection's limit (see `StreamsPerConnection`) as soon as it opens, with
/// RST_STREAM(REFUSED_STREAM). And it reads each request message's 5-byte gRPC prefix as the DATA
/// frames go by and reserves the announced length from the `RequestMemoryBudget` before gRPC
/// buffers a byte of it.
///
/// A message that does not fit waits for its bytes with its connection's reads held back
/// (`ConnectionReadGate`): the frame its prefix came in and any after it are kept here, and passed
/// on once the bytes are reserved. It waits at most `maxWait`: its connection reads nothing
/// meanwhile, not even its client's answers to the server's pings, which the server waits for no
/// longer (the keepalive timeout). A message over the per-message limit, one that does not fit
/// while its connection may not wait, or one that waited too long, refuses its stream alone: the
/// client gets `RESOURCE_EXHAUSTED` in trailers, then RST_STREAM(NO_ERROR) to stop it sending the
/// rest (RFC 9113 §8.1); the connection and its other streams go on.
final class StreamGuardHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias InboundOut = HTTP2Frame.FramePayload
    typealias OutboundIn = HTTP2Frame.FramePayload
    typealias OutboundOut = HTTP2Frame.FramePayload

    private let budget: RequestMemoryBudget
    private let maxMessageBytes: Int
    /// How long a message may wait for its bytes.
    private let maxWait: Duration
    /// The connection's stream count; nil when the limit is not enforced here.
    private let connection: ConnectionStreamLimitHandler?
    /// The connection's reads, held back while this stream waits; nil when streams may not wait.
    private let gate: ConnectionReadGate?
    private let logger: Logger
    /// This stream is counted in `connection.openStreams`.
    private var counted = false

    /// Bytes of the current message's prefix read so far (at most 5).
    private var prefix: [UInt8] = []
    /// Bytes of the current message's body still to come.
    private var remaining = 0
    /// Bytes reserved for the current message.
    private var reserved = 0
    private var sentResponseHeaders = false
    private var refused = false
    /// The message waiting for its bytes, if one is.
    private var waiting: Waiting?
    private var context: ChannelHandlerContext?

    /// A message waiting for request memory: the frame its prefix ended in, where its body starts
    /// there, and the frames that came after, in order.
    private struct Waiting {
        let ticket: UInt64
        let length: Int
        let frame: NIOAny
        let bodyStart: Int
        var later: [NIOAny] = []
        /// Refuses the message once it has waited `maxWait`.
        var deadline: Scheduled<Void>?
    }

    init(
        budget: RequestMemoryBudget, maxMessageBytes: Int, maxWait: Duration, connection: ConnectionStreamLimitHandler?,
        gate: ConnectionReadGate?, logger: Logger
    ) {
        self.budget = budget
        self.maxMessageBytes = maxMessageBytes
        self.maxWait = maxWait
        self.connection = connection
        self.gate = gate
        self.logger = logger
        prefix.reserveCapacity(5)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        // Added as the stream opens, before any of its frames is read.
        guard let connection else { return }
        if connection.openStreams < connection.limit.advertised {
            connection.openStreams += 1
            counted = true
        } else {
            refused = true
        }
    }

    func channelActive(context: ChannelHandlerContext) {
        if refused && !counted {
            // Refused before NIOHTTP2 reads the next frame, so its own count stays within one of ours.
            XDSMetrics.streamRefused(reason: .streamsPerConnection)
            logger.debug(
                "stream refused: the connection has as many streams open as --max-streams-per-connection allows",
                metadata: ["limit": "\(connection?.limit.advertised ?? 0)"])
            context.writeAndFlush(wrapOutboundOut(.rstStream(.refusedStream)), promise: nil)
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Once refused, nothing more reaches gRPC: the client may still be sending the message.
        guard !refused else { return }
        guard waiting == nil else {
            waiting?.later.append(data)
            return
        }
        pass(data, from: nil, context: context)
    }

    /// Passes a frame on once its messages are accounted for, from `start` in it (its start when
    /// nil); or refuses the stream, or keeps the frame while its message waits.
    private func pass(_ data: NIOAny, from start: Int?, context: ChannelHandlerContext) {
        if case .data(let body) = unwrapInboundIn(data), case .byteBuffer(let buffer) = body.data {
            switch accountForMessages(in: buffer, from: start ?? buffer.readerIndex, context: context) {
            case nil:
                break
            case .tooLarge(let length):
                refuse(
                    context: context, metric: .requestSize,
                    reason: "a request message of \(length) bytes is larger than this server accepts "
                        + "(--max-request-size \(maxMessageBytes) bytes)")
                return
            case .noMemory(let length):
                refuse(
                    context: context, metric: .requestMemory,
                    reason: "a request message of \(length) bytes does not fit in the memory this server gives "
                        + "requests still arriving (--max-request-memory \(budget.limit) bytes, shared by all streams); "
                        + "retry later")
                return
            case .wait(let ticket, let length, let bodyStart):
                let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
                let deadline = context.eventLoop.scheduleTask(in: TimeAmount(maxWait)) {
                    handler.value.waitedTooLong(ticket)
                }
                waiting = Waiting(
                    ticket: ticket, length: length, frame: data, bodyStart: bodyStart, deadline: deadline)
                gate?.close()
                XDSMetrics.requestMemoryWaited()
                return
            }
        }
        context.fireChannelRead(data)
        releaseDeframerBuffer(context: context, after: data)
    }

    /// The bytes of the waiting message are reserved: its frames go on, and the connection reads.
    private func granted(_ ticket: UInt64, bytes: Int) {
        guard let current = waiting, current.ticket == ticket, let context else {
            // The stream ended while the grant was on its way.
            budget.release(bytes)
            return
        }
        waiting = nil
        current.deadline?.cancel()
        // Open for a message of the replay to wait again; reads go on only after it.
        gate?.open(reading: false)
        hold(current.length)
        pass(current.frame, from: current.bodyStart, context: context)
        for frame in current.later {
            if refused { break }
            if waiting != nil {
                waiting?.later.append(frame)
            } else {
                pass(frame, from: nil, context: context)
            }
        }
        context.fireChannelReadComplete()
        if waiting == nil { gate?.open() }
    }

    /// The waiting message has waited `maxWait`: out of the queue, its stream refused, and its
    /// connection reads again. Unless its bytes were reserved meanwhile: their grant is on its way.
    private func waitedTooLong(_ ticket: UInt64) {
        guard let current = waiting, current.ticket == ticket, let context, budget.cancel(ticket) else { return }
        waiting = nil
        refuse(
            context: context, metric: .requestMemory,
            reason: "a request message of \(current.length) bytes waited \(maxWait) for room in the memory this server "
                + "gives requests still arriving (--max-request-memory \(budget.limit) bytes, shared by all streams); "
                + "retry later")
        gate?.open()
    }

    /// gRPC's deframer keeps the buffer of the last message it read, though it has read all of it,
    /// until the next DATA frame replaces it: Envoy's last ACK (66 KB when it lists a thousand load
    /// assignments), or the HTTP/2 read buffer a frame was sliced from. An empty DATA frame at a
    /// message boundary makes it let go; gRPC reads no message from it. Measured with ads-load, a
    /// SotW push to 1000 unpaced streams: the server's peak RSS 326–399 MiB without, 265–298 with.
    private func releaseDeframerBuffer(context: ChannelHandlerContext, after data: NIOAny) {
        guard case .data(let body) = unwrapInboundIn(data), !body.endStream, case .byteBuffer(let buffer) = body.data,
            buffer.readableBytes > 0, remaining == 0, prefix.isEmpty
        else { return }
        context.fireChannelRead(wrapInboundOut(.data(.init(data: .byteBuffer(Self.empty)))))
    }

    private static let empty = ByteBuffer()

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard !refused else {
            // gRPC does not know the stream was refused; its writes go nowhere.
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        if case .headers = unwrapOutboundIn(data) { sentResponseHeaders = true }
        context.write(data, promise: promise)
    }

    func channelInactive(context: ChannelHandlerContext) {
        releaseReservation()
        releaseStream()
        stopWaiting()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        releaseReservation()
        releaseStream()
        stopWaiting()
        self.context = nil
    }

    /// The stream ends while its message waits: out of the queue (or, granted meanwhile, the
    /// grant finds no message and releases), and its connection reads again.
    private func stopWaiting() {
        guard let current = waiting else { return }
        waiting = nil
        current.deadline?.cancel()
        budget.cancel(current.ticket)
        gate?.open()
    }

    private func releaseStream() {
        if counted { connection?.openStreams -= 1 }
        counted = false
    }

    private enum Refusal {
        case tooLarge(Int)
        case noMemory(Int)
        /// Queued for the bytes with `ticket`; the message's body starts at `bodyStart`.
        case wait(ticket: UInt64, length: Int, bodyStart: Int)
    }

    /// Follows the gRPC framing through `buffer` from `start`, reserving each new message's length;
    /// returns why a message may not be buffered yet, or nil when all may.
    private func accountForMessages(in buffer: ByteBuffer, from start: Int, context: ChannelHandlerContext)
        -> Refusal?
    {
        var index = start
        let end = buffer.writerIndex
        while index < end {
            if remaining > 0 {
                let taken = min(remaining, end - index)
                index += taken
                remaining -= taken
                if remaining == 0 { releaseReservation() }
                continue
            }
            prefix.append(buffer.getInteger(at: index, as: UInt8.self)!)
            index += 1
            guard prefix.count == 5 else { continue }
            // Compression flag, then the length as a big-endian UInt32.
            let length = prefix[1...].reduce(0) { $0 << 8 | Int($1) }
            prefix.removeAll(keepingCapacity: true)
            // gRPC would refuse it too, but with a bare RST_STREAM(CANCEL) that tells Envoy nothing.
            if length > maxMessageBytes { return .tooLarge(length) }
            // All of it is in this frame, in memory already: nothing to reserve or wait for.
            if length <= end - index {
                remaining = length
                continue
            }
            if !budget.reserve(length) {
                guard let gate, gate.mayWait, length <= budget.limit else { return .noMemory(length) }
                let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
                let ticket = budget.reserveOrQueue(length) { ticket in
                    handler.eventLoop.execute { handler.value.granted(ticket, bytes: length) }
                }
                // Nil: freed meanwhile, and reserved.
                if let ticket { return .wait(ticket: ticket, length: length, bodyStart: index) }
            }
            hold(length)
        }
        return nil
    }

    /// The current message's bytes, reserved.
    private func hold(_ length: Int) {
        reserved = length
        remaining = length
        if length > 0 { gate?.messagesInProgress += 1 }
    }

    private func releaseReservation() {
        if reserved > 0 {
            budget.release(reserved)
            gate?.messagesInProgress -= 1
        }
        reserved = 0
    }

    /// Ends the stream with `RESOURCE_EXHAUSTED`, trailers-only if gRPC has not answered yet.
    private func refuse(context: ChannelHandlerContext, metric: XDSMetrics.StreamRefusal, reason: String) {
        refused = true
        releaseReservation()
        XDSMetrics.streamRefused(reason: metric)
        logger.warning("stream refused: \(reason)")
        var trailers: HPACKHeaders = sentResponseHeaders ? [:] : [":status": "200", "content-type": "application/grpc"]
        trailers.add(name: "grpc-status", value: "8")
        trailers.add(name: "grpc-message", value: Self.percentEncoded(reason))
        context.write(wrapOutboundOut(.headers(.init(headers: trailers, endStream: true))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.rstStream(.noError)), promise: nil)
    }

    /// grpc-message is percent-encoded: everything but printable ASCII, and `%` itself.
    static func percentEncoded(_ message: String) -> String {
        var encoded = ""
        for byte in message.utf8 {
            if (0x20...0x7E).contains(byte) && byte != UInt8(ascii: "%") {
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                encoded += (byte < 16 ? "%0" : "%") + String(byte, radix: 16, uppercase: true)
            }
        }
        return encoded
    }
}
