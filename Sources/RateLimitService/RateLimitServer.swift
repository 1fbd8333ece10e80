import NIOCore
import NIOHPACK
import NIOHTTP2
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The rate limit service on its own gRPC port, beside ADS: where Envoy's rate limit filter asks
/// (`ratelimit_cluster`). Plaintext HTTP/2, as Envoy's gRPC client speaks to a cluster without a
/// transport socket; each connection's calls are answered by a `RateLimitConnectionHandler`.
public final class RateLimitServer: Service, Sendable {
    public let service: RateLimitGRPCService
    private let host: String
    private let port: Int
    /// Most calls in flight on one connection (its SETTINGS_MAX_CONCURRENT_STREAMS).
    private let maxConcurrentCalls: Int
    private let state = Mutex(State())

    private struct State {
        var listener: (any Channel)?
        var bound: [CheckedContinuation<Int, any Error>] = []
        var connections: [ObjectIdentifier: any Channel] = [:]
        var failure: (any Error)?
    }

    public init(host: String, port: Int, service: RateLimitGRPCService, maxConcurrentCalls: Int = 1000) {
        self.host = host
        self.port = port
        self.service = service
        self.maxConcurrentCalls = maxConcurrentCalls
    }

    /// The port actually bound (useful with port 0), once `run` has bound it.
    public func listeningPort() async throws -> Int {
        try await withCheckedThrowingContinuation { continuation in
            state.withLock { state in
                if let failure = state.failure {
                    continuation.resume(throwing: failure)
                } else if let port = state.listener?.localAddress?.port {
                    continuation.resume(returning: port)
                } else {
                    state.bound.append(continuation)
                }
            }
        }
    }

    public func run() async throws {
        let settings = [
            HTTP2Setting(parameter: .maxConcurrentStreams, value: maxConcurrentCalls),
            HTTP2Setting(parameter: .maxHeaderListSize, value: HPACKDecoder.defaultMaxHeaderListSize),
        ]
        let service = service
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                // The listener holds this closure, and a connection its close callback, only
                // while they are open: no cycle outlives them.
                self.state.withLock { $0.connections[ObjectIdentifier(channel)] = channel }
                channel.closeFuture.whenComplete { _ in
                    _ = self.state.withLock { $0.connections.removeValue(forKey: ObjectIdentifier(channel)) }
                }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        NIOHTTP2Handler(mode: .server, initialSettings: settings))
                    try channel.pipeline.syncOperations.addHandler(RateLimitConnectionHandler(service: service))
                }
            }
        let listener: any Channel
        do {
            listener = try await bootstrap.bind(host: host, port: port).get()
        } catch {
            let waiting = state.withLock { state in
                state.failure = error
                defer { state.bound = [] }
                return state.bound
            }
            for continuation in waiting { continuation.resume(throwing: error) }
            throw error
        }
        let (waiting, port) = state.withLock { state in
            state.listener = listener
            defer { state.bound = [] }
            return (state.bound, listener.localAddress?.port ?? 0)
        }
        for continuation in waiting { continuation.resume(returning: port) }
        try await withGracefulShutdownHandler {
            try await withTaskCancellationHandler {
                try await listener.closeFuture.get()
            } onCancel: {
                self.close()
            }
        } onGracefulShutdown: {
            self.close()
        }
    }

    /// Stops listening and closes every connection: Envoy's calls in flight fail, and each Envoy
    /// applies its failure mode.
    private func close() {
        let (listener, connections) = state.withLock { ($0.listener, Array($0.connections.values)) }
        listener?.close(promise: nil)
        for connection in connections { connection.close(promise: nil) }
    }
}
