import NIOCore
import NIOPosix

/// What went wrong talking to Redis. Each case closes nothing but what it names: a caller keeps
/// its connection after a command the server refused (that is a reply, `RESPValue.error`), and
/// makes a new one after any of these.
public enum RedisError: Error, Equatable, CustomStringConvertible {
    /// No connection: the address is wrong or Redis is not running there.
    case connect(address: String, reason: String)
    /// The connection closed before the reply came.
    case closed
    /// No reply within the time the caller allowed; the connection is closed, since a late reply
    /// would answer the next command.
    case timeout(Duration)
    /// The server sent something that is not RESP2 within `RESP.Limits`.
    case protocolViolation(String)

    public var description: String {
        switch self {
        case .connect(let address, let reason):
            "cannot connect to Redis at \(address): \(reason); check that redis-server runs there"
        case .closed: "the connection to Redis closed before its reply"
        case .timeout(let limit): "Redis did not answer within \(limit); the connection was closed"
        case .protocolViolation(let detail): "Redis sent a reply this client cannot read: \(detail)"
        }
    }
}

/// One connection to Redis that pipelines: commands go out as soon as they are sent, and replies
/// come back in order, each to its sender. Safe to share between tasks.
public final class RedisConnection: Sendable {
    private let channel: any Channel
    public let address: String

    private init(channel: any Channel, address: String) {
        self.channel = channel
        self.address = address
    }

    public static func connect(
        host: String, port: Int, connectTimeout: Duration = .seconds(2), limits: RESP.Limits = RESP.Limits(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws(RedisError) -> RedisConnection {
        let address = "\(host):\(port)"
        do {
            let channel = try await ClientBootstrap(group: group)
                .connectTimeout(TimeAmount(connectTimeout))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(RedisHandler(limits: limits))
                    }
                }
                .connect(host: host, port: port).get()
            return RedisConnection(channel: channel, address: address)
        } catch {
            throw .connect(address: address, reason: "\(error)")
        }
    }

    public var isActive: Bool { channel.isActive }

    /// Sends `commands` in one write and returns their replies in order. A reply that is a Redis
    /// error (`-ERR ...`) comes back as `RESPValue.error`; the connection stays usable.
    public func send(_ commands: [[String]], timeout: Duration) async throws(RedisError) -> [RESPValue] {
        guard !commands.isEmpty else { return [] }
        let promise = channel.eventLoop.makePromise(of: [RESPValue].self)
        let request = RedisHandler.Request(commands: commands, timeout: timeout, promise: promise)
        // A closed channel never hands the write to the handler: fail the reply with the write.
        let written = channel.eventLoop.makePromise(of: Void.self)
        written.futureResult.whenFailure { _ in promise.fail(RedisError.closed) }
        channel.writeAndFlush(request, promise: written)
        do {
            return try await promise.futureResult.get()
        } catch let error as RedisError {
            throw error
        } catch {
            throw .closed
        }
    }

    /// `send` of one command.
    public func send(_ command: String..., timeout: Duration) async throws(RedisError) -> RESPValue {
        try await send([command], timeout: timeout)[0]
    }

    public func close() async {
        try? await channel.close()
    }
}

/// Matches replies to requests, first in first out, and bounds how long each may wait.
final class RedisHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = Request
    typealias OutboundOut = ByteBuffer

    struct Request: Sendable {
        var commands: [[String]]
        var timeout: Duration
        var promise: EventLoopPromise<[RESPValue]>
    }

    private struct Pending {
        var expected: Int
        var replies: [RESPValue] = []
        var promise: EventLoopPromise<[RESPValue]>
        var timer: Scheduled<Void>?
        var id: Int
    }

    private let limits: RESP.Limits
    private var pending = CircularBuffer<Pending>()
    private var received: ByteBuffer?
    private var nextID = 0

    init(limits: RESP.Limits) { self.limits = limits }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        guard context.channel.isActive else {
            request.promise.fail(RedisError.closed)
            promise?.fail(RedisError.closed)
            return
        }
        var buffer = context.channel.allocator.buffer(capacity: 64 * request.commands.count)
        for command in request.commands { RESP.encode(command, into: &buffer) }
        let id = nextID
        nextID += 1
        let deadline = NIODeadline.now() + TimeAmount(request.timeout)
        let loop = context.eventLoop.assumeIsolated()
        let timer = loop.scheduleTask(deadline: deadline) { [self] in
            guard let index = pending.firstIndex(where: { $0.id == id }) else { return }
            let late = pending.remove(at: index)
            // Closed before the caller hears of it, so it never sees the connection still open.
            context.close(promise: nil)
            late.promise.fail(RedisError.timeout(request.timeout))
        }
        pending.append(
            Pending(expected: request.commands.count, promise: request.promise, timer: timer, id: id))
        context.writeAndFlush(wrapOutboundOut(buffer), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if received == nil {
            received = bytes
        } else {
            received!.writeBuffer(&bytes)
        }
        do throws(RESP.ProtocolError) {
            while let value = try RESP.decode(&received!, limits: limits) {
                guard !pending.isEmpty else {
                    throw RESP.ProtocolError(description: "a reply to no command")
                }
                pending[pending.startIndex].replies.append(value)
                if pending.first!.replies.count == pending.first!.expected {
                    let done = pending.removeFirst()
                    done.timer?.cancel()
                    done.promise.succeed(done.replies)
                }
            }
            if received!.readableBytes == 0 {
                received = nil
            } else if received!.readableBytes > limits.maxBufferedBytes {
                throw RESP.ProtocolError(
                    description: "more than \(limits.maxBufferedBytes) bytes without a whole reply")
            } else {
                received!.discardReadBytes()
            }
        } catch {
            fail(RedisError.protocolViolation(error.description))
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(RedisError.closed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(RedisError.closed)
        context.close(promise: nil)
    }

    private func fail(_ error: RedisError) {
        while let request = pending.popFirst() {
            request.timer?.cancel()
            request.promise.fail(error)
        }
    }
}
