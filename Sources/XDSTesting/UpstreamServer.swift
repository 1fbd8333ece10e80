import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A real HTTP/1.1 upstream on 127.0.0.1 that answers with its own name (body and `x-upstream`),
/// and echoes what it received (`x-path`, `x-host`), so a test can tell which backend Envoy sent
/// a request to and what Envoy changed on the way. Its behaviour can be slowed or made to fail.
public final class UpstreamServer: Sendable {
    public enum Behavior: Sendable {
        /// 200 at once.
        case ok
        /// 200 after this long.
        case delay(Duration)
        /// These statuses for the first requests, in order, then 200.
        case statuses([Int])
        /// This status, always.
        case always(Int)
    }

    public let name: String
    public let port: Int
    private let channel: any Channel
    private let state: State

    public static func start(name: String, behavior: Behavior = .ok) async throws -> UpstreamServer {
        let state = State(behavior: behavior)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(NameResponder(name: name, state: state))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return UpstreamServer(name: name, port: channel.localAddress?.port ?? 0, channel: channel, state: state)
    }

    private init(name: String, port: Int, channel: any Channel, state: State) {
        self.name = name
        self.port = port
        self.channel = channel
        self.state = state
    }

    /// Requests received so far.
    public var requests: Int { state.counter.withLock { $0 } }

    public func stop() async {
        try? await channel.close()
    }

    fileprivate final class State: Sendable {
        let behavior: Behavior
        let counter = Mutex(0)

        init(behavior: Behavior) { self.behavior = behavior }

        /// Counts the request and says how to answer it.
        func next() -> (status: Int, delay: Duration?) {
            let index = counter.withLock { count in
                count += 1
                return count - 1
            }
            switch behavior {
            case .ok: return (200, nil)
            case .delay(let delay): return (200, delay)
            case .statuses(let statuses): return (index < statuses.count ? statuses[index] : 200, nil)
            case .always(let status): return (status, nil)
            }
        }
    }
}

private final class NameResponder: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let name: String
    let state: UpstreamServer.State
    private let request = Mutex<HTTPRequestHead?>(nil)

    init(name: String, state: UpstreamServer.State) {
        self.name = name
        self.state = state
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            request.withLock { $0 = head }
            return
        case .body:
            return
        case .end:
            break
        }
        let head = request.withLock { $0 }
        let (status, delay) = state.next()
        let body = context.channel.allocator.buffer(string: name)
        var headers = HTTPHeaders()
        headers.add(name: "content-length", value: "\(body.readableBytes)")
        headers.add(name: "x-upstream", value: name)
        headers.add(name: "x-path", value: head?.uri ?? "")
        headers.add(name: "x-host", value: head?.headers["host"].first ?? "")
        let response = HTTPResponseHead(
            version: .http1_1, status: HTTPResponseStatus(statusCode: status), headers: headers)
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        let respond: @Sendable () -> Void = { [self] in
            let context = bound.value
            context.write(self.wrapOutboundOut(.head(response)), promise: nil)
            context.write(self.wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
            context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
        }
        if let delay {
            context.eventLoop.scheduleTask(in: TimeAmount(delay)) { respond() }
        } else {
            respond()
        }
    }
}
