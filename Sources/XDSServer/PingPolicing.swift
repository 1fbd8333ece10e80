import Logging
import NIOCore
import NIOHTTP2

/// When a client's PING is one too many: gRPC's rule (gRFC A8), as the gRPC transport applies it.
/// A ping sooner than `minInterval` after the last acceptable one is a strike; past `maxStrikes`
/// the connection is told ENHANCE_YOUR_CALM and closed. Every ping is answered by the HTTP/2
/// handler, so a client pinging in a loop costs a frame each way until then. Pure: the caller
/// gives the time.
struct PingPolicy {
    let minInterval: TimeAmount
    let maxStrikes = 2
    private var lastAcceptable: NIODeadline?
    private var strikes = 0

    init(minInterval: TimeAmount) {
        self.minInterval = minInterval
    }

    /// Counts a ping received at `now`; whether the client is now over the limit.
    mutating func tooMany(at now: NIODeadline) -> Bool {
        if let last = lastAcceptable, now < last + minInterval {
            strikes += 1
            return strikes > maxStrikes
        }
        lastAcceptable = now
        return false
    }
}

/// Applies `PingPolicy` to a connection's inbound frames, after its HTTP/2 handler (the NIO
/// transport; NIO's connection manager pings clients but does not police their pings).
final class PingPolicingHandler: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame
    typealias InboundOut = HTTP2Frame
    typealias OutboundOut = HTTP2Frame

    private var policy: PingPolicy
    private let logger: Logger
    private var closing = false

    init(minInterval: TimeAmount, logger: Logger) {
        policy = PingPolicy(minInterval: minInterval)
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        let frame = unwrapInboundIn(data)
        if case .ping(_, ack: false) = frame.payload, policy.tooMany(at: .now()) {
            closing = true
            logger.warning(
                "connection closed: the client pings more often than it may (ENHANCE_YOUR_CALM); set its keepalive interval to at least the server's minimum",
                metadata: [
                    "min_ping_interval_ms": "\(policy.minInterval.nanoseconds / 1_000_000)",
                    "peer": "\(context.channel.remoteAddress?.description ?? "")",
                ])
            let goAway = HTTP2Frame(
                streamID: .rootStream,
                payload: .goAway(
                    lastStreamID: .maxID, errorCode: .enhanceYourCalm, opaqueData: ByteBuffer(string: "too_many_pings"))
            )
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.writeAndFlush(wrapOutboundOut(goAway)).whenComplete { _ in bound.value.close(promise: nil) }
            return
        }
        context.fireChannelRead(data)
    }
}
