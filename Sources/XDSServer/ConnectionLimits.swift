import Logging
import NIOCore
import NIOHTTP2
import Synchronization

/// The open connections of the ADS port, and the most it takes.
final class ConnectionLimiter: Sendable {
    let limit: Int?
    private let count = Mutex(0)

    init(limit: Int?) {
        self.limit = limit
    }

    /// Counts a new connection, or returns false when `limit` are open already.
    func open() -> Bool {
        count.withLock { count in
            if let limit, count >= limit { return false }
            count += 1
            // Recorded under the lock, so the gauge never goes back to an older count.
            XDSMetrics.openConnections(count)
            return true
        }
    }

    func close() {
        count.withLock { count in
            count -= 1
            XDSMetrics.openConnections(count)
        }
    }
}

/// On the listening channel, ahead of the handler that sets up accepted connections: a connection
/// beyond the limit is closed at once, before any TLS or HTTP/2 work is spent on it.
final class ConnectionLimitHandler: ChannelInboundHandler {
    typealias InboundIn = any Channel
    typealias InboundOut = any Channel

    private let limiter: ConnectionLimiter
    private let logger: Logger

    init(limiter: ConnectionLimiter, logger: Logger) {
        self.limiter = limiter
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let connection = unwrapInboundIn(data)
        guard limiter.open() else {
            XDSMetrics.connectionRefused()
            let peer = connection.remoteAddress.map { "\($0)" } ?? ""
            logger.warning(
                "connection refused: the connection limit is reached (--max-connections)",
                metadata: ["limit": "\(limiter.limit ?? 0)", "peer": "\(peer)"])
            connection.close(promise: nil)
            return
        }
        let limiter = self.limiter
        connection.closeFuture.whenComplete { _ in limiter.close() }
        context.fireChannelRead(data)
    }
}

/// A connection guard whose timer decides only when it fires on time. NIO runs an event loop's due
/// timers before it reads, so a timer that fires late, after the loop was held by other work, may
/// find the peer's bytes waiting unread in the socket. One that fires more than `slack` late looks
/// again, as long after as it was late (at most `period`), once the loop has read, before the
/// guard judges: the server does not blame a client for its own delay. A loop that stays busy
/// defers the judgement for as long as it is busy.
protocol OnTimeTimer: AnyObject {
    /// The pending timer; nil when none runs.
    var timer: Scheduled<Void>? { get set }
    /// The clock the lateness is measured on (injected by tests).
    var now: () -> NIODeadline { get }
    /// The longest a late timer waits before it looks again.
    var period: TimeAmount { get }
    /// The timer fired on time.
    func timerFired(context: ChannelHandlerContext)
}

private let onTimeSlack = TimeAmount.seconds(1)

extension OnTimeTimer {
    func schedule(in delay: TimeAmount, context: ChannelHandlerContext) {
        let due = now() + delay
        // As an existential: a closure run on the loop may not capture the metatype of `Self`.
        let bound = NIOLoopBound((self as any OnTimeTimer, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: delay) {
            let (owner, context) = bound.value
            owner.fired(due: due, context: context)
        }
    }

    func cancelTimer() {
        timer?.cancel()
        timer = nil
    }

    private func fired(due: NIODeadline, context: ChannelHandlerContext) {
        guard timer != nil else { return }
        let late = now() - due
        if late > onTimeSlack {
            schedule(in: min(late, period), context: context)
            return
        }
        timerFired(context: context)
    }
}

/// Right after the HTTP/2 handler of each connection: closes a connection whose client has not
/// completed the HTTP/2 preface and its first SETTINGS frame (and, with TLS, the TLS handshake
/// before them) within the timeout, so half-open connections cannot pile up. NIOHTTP2 passes the
/// connection's frames on only once the preface is valid, and the first must be SETTINGS, so the
/// first frame seen here marks the handshake done. A timer that fires late looks again
/// (`OnTimeTimer`).
final class HandshakeTimeoutHandler: ChannelInboundHandler, RemovableChannelHandler, OnTimeTimer {
    typealias InboundIn = HTTP2Frame
    typealias InboundOut = HTTP2Frame

    private let timeout: TimeAmount
    private let logger: Logger
    let now: () -> NIODeadline
    var timer: Scheduled<Void>?
    var period: TimeAmount { timeout }

    /// `now` is the clock the lateness is measured on (injected by tests).
    init(timeout: Duration, logger: Logger, now: @escaping () -> NIODeadline = { .now() }) {
        self.timeout = TimeAmount(timeout)
        self.logger = logger
        self.now = now
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        cancelTimer()
        context.fireChannelRead(data)
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelTimer()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) { cancelTimer() }

    private func start(context: ChannelHandlerContext) {
        guard timer == nil else { return }
        schedule(in: timeout, context: context)
    }

    func timerFired(context: ChannelHandlerContext) {
        timer = nil
        XDSMetrics.handshakeTimedOut()
        logger.notice(
            "connection closed: no HTTP/2 handshake within the handshake timeout (--handshake-timeout)",
            metadata: [
                "timeout_ms": "\(timeout.nanoseconds / 1_000_000)",
                "peer": "\(context.channel.remoteAddress.map { "\($0)" } ?? "")",
            ])
        context.channel.close(promise: nil)
    }
}

/// Last on each connection of the NIO transport: closes a connection NIO's HTTP/2 handler has
/// sent GOAWAY for a flood (of control frames, resets, stream errors, empty DATA or CONTINUATION
/// frames, glitches, or frames it could not send), which NIO leaves open. Only those: NIO fires
/// a stream's errors here too, unwrapped, and they end only the stream.
final class FloodCloseHandler: ChannelInboundHandler {
    typealias InboundIn = Any
    private let logger: Logger

    init(logger: Logger) {
        self.logger = logger
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        switch error {
        case is NIOHTTP2Errors.ExcessiveControlFrames, is NIOHTTP2Errors.ExcessiveRSTFrames,
            is NIOHTTP2Errors.ExcessiveStreamErrors, is NIOHTTP2Errors.ExcessiveEmptyDataFrames,
            is NIOHTTP2Errors.ExcessiveContinuationFrames, is NIOHTTP2Errors.ExcessiveNumberOfGlitches,
            is NIOHTTP2Errors.ExcessiveOutboundFrameBuffering:
            logger.notice(
                "closed a connection that flooded the server",
                metadata: [
                    "remote": "\(context.channel.remoteAddress.map { "\($0)" } ?? "?")", "error": "\(error)",
                ])
            context.close(promise: nil)
        default:
            context.fireErrorCaught(error)
        }
    }
}

/// Closes a connection nothing has been read from for `--keepalive-interval` plus
/// `--keepalive-timeout`; first on a connection, so it sees raw bytes. gRPC pings a connection
/// after the interval, and a live peer answers; but gRPC answers a missing answer with a graceful
/// shutdown, GOAWAY and another ping, whose own answer it then waits for without limit, so a dead
/// or stuck peer kept its connection and streams. This closes it.
///
/// It watches reads as NIO's `IdleStateHandler` does, but as an inbound handler only: every frame
/// a push writes (two writes a frame) passed through that duplex handler, 3-4 % of a push's
/// server CPU. A check that fires late looks again before it closes (`OnTimeTimer`).
final class DeadPeerHandler: ChannelInboundHandler, OnTimeTimer {
    typealias InboundIn = NIOAny

    private let silence: TimeAmount
    private let logger: Logger
    let now: () -> NIODeadline
    private var reading = false
    private var lastRead: NIODeadline
    var timer: Scheduled<Void>?
    var period: TimeAmount { silence }

    /// `now` is the clock reads and lateness are measured on (injected by tests).
    init(silence: Duration, logger: Logger, now: @escaping () -> NIODeadline = { .now() }) {
        self.silence = TimeAmount(silence)
        self.logger = logger
        self.now = now
        self.lastRead = now()
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        reading = true
        context.fireChannelRead(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if reading {
            lastRead = now()
            reading = false
        }
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelTimer()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) { cancelTimer() }

    private func start(context: ChannelHandlerContext) {
        guard timer == nil else { return }
        lastRead = now()
        schedule(in: silence, context: context)
    }

    func timerFired(context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        // A read in progress counts as one just now.
        let quiet = reading ? .zero : now() - lastRead
        guard quiet >= silence else {
            schedule(in: silence - quiet, context: context)
            return
        }
        timer = nil
        logger.notice(
            "closed a connection that answered no ping: its peer is gone or stopped reading",
            metadata: ["remote": "\(context.channel.remoteAddress.map { "\($0)" } ?? "?")", "silent_for": "\(silence)"])
        context.close(promise: nil)
    }
}

/// What both ADS transports put on each connection, built one way.
enum ConnectionGuards {
    /// First on a connection: any bytes read, pings' answers included, show the peer is alive;
    /// silence for longer than a ping and its answer take closes the connection.
    static func deadPeer(_ keepalive: ADSServerConfiguration.Keepalive, logger: Logger) -> DeadPeerHandler {
        DeadPeerHandler(silence: keepalive.interval + keepalive.timeout, logger: logger)
    }

    /// Each connection keeps its read buffer between reads, at the size its largest reads grew it
    /// to (64 KiB by default: Envoy's ACKs list every name it holds), and HTTP/2 frames sliced from
    /// it keep older ones alive. Capped at 4 KiB, an idle stream holds about 22 KiB less than at
    /// 16 KiB (ads-load, 1000 streams); a 66 KB ACK takes 17 reads instead of 5, within the noise
    /// of a push's server CPU.
    static var readAllocator: AdaptiveRecvByteBufferAllocator {
        AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 2048, maximum: 4 * 1024)
    }
}
