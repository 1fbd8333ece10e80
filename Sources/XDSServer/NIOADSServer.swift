import Logging
import NIOCore
import NIOHTTP2
import NIOPosix
import ServiceLifecycle
import Synchronization
import XDSCache

/// ADS on NIO's HTTP/2 directly (experimental, `serve --ads-transport nio`): each stream is an
/// `ADSStreamHandler` on its HTTP/2 stream's channel, driven on the connection's event loop,
/// where the gRPC transport runs every stream as Swift tasks and copies every response into a
/// frame buffer of its own. Plaintext only for now; no push pacing, connection limits or
/// keepalive yet (the gRPC transport has them).
public final class NIOADSServer: Service, Sendable {
    private let configuration: ADSServerConfiguration
    private let shared: ADSStreamHandler.Shared
    private let bound = Mutex<(channel: (any Channel)?, waiting: [CheckedContinuation<Int, any Error>], stopped: Bool)>(
        (nil, [], false))
    public let registry: StreamRegistry

    public init(
        configuration: ADSServerConfiguration, watcher: any ConfigWatcher, registry: StreamRegistry = StreamRegistry(),
        logger: Logger = Logger(label: "switchboard.xds")
    ) {
        self.configuration = configuration
        self.registry = registry
        shared = ADSStreamHandler.Shared(
            watcher: watcher, registry: registry, defaultNodeGroup: configuration.defaultNodeGroup,
            maxStreams: configuration.maxStreams, maxRequestBytes: configuration.maxRequestBytes, logger: logger)
    }

    /// The port actually bound (useful with port 0), once listening.
    public func listeningPort() async throws -> Int {
        let channel = try await withCheckedThrowingContinuation { continuation in
            let ready = bound.withLock { state -> (any Channel)? in
                if let channel = state.channel { return channel }
                state.waiting.append(continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready.localAddress?.port ?? 0) }
        }
        return channel
    }

    public func run() async throws {
        let shared = self.shared
        let connection = {
            var connection = NIOHTTP2Handler.ConnectionConfiguration()
            connection.initialSettings = [
                HTTP2Setting(parameter: .maxConcurrentStreams, value: configuration.maxStreamsPerConnection),
                HTTP2Setting(parameter: .maxHeaderListSize, value: 16384),
            ]
            return connection
        }()
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            // As the gRPC transport's connections (ADSServer): a read buffer grown by large ACKs
            // and kept by every idle connection would cost more than its streams.
            .childChannelOption(
                .recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 2048, maximum: 4 * 1024)
            )
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    _ = try channel.pipeline.syncOperations.configureHTTP2Pipeline(
                        mode: .server, connectionConfiguration: connection, streamConfiguration: .init()
                    ) { stream in
                        stream.eventLoop.makeCompletedFuture {
                            try stream.pipeline.syncOperations.addHandler(ADSStreamHandler(shared: shared))
                        }
                    }
                }
            }
        let channel = try await bootstrap.bind(host: configuration.host, port: configuration.port).get()
        let port = channel.localAddress?.port ?? 0
        let (waiting, stopped) = bound.withLock { state in
            state.channel = channel
            defer { state.waiting = [] }
            return (state.waiting, state.stopped)
        }
        for continuation in waiting { continuation.resume(returning: port) }
        if stopped { channel.close(promise: nil) }
        try await withGracefulShutdownHandler {
            try await channel.closeFuture.get()
        } onGracefulShutdown: {
            self.beginGracefulShutdown()
        }
    }

    /// Stops accepting connections. Open streams go on until their clients end them.
    public func beginGracefulShutdown() {
        let channel = bound.withLock { state in
            state.stopped = true
            return state.channel
        }
        channel?.close(promise: nil)
    }
}
