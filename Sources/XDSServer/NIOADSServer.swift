import Logging
import NIOCore
import NIOHTTP2
import NIOPosix
import NIOSSL
import ServiceLifecycle
import Synchronization
import XDSCache

/// ADS on NIO's HTTP/2 directly (serve's default; `--ads-transport grpc` serves with grpc-swift's
/// server, `ADSServer`, instead): each stream is an `ADSStreamHandler` on its HTTP/2 stream's
/// channel, driven on the connection's event loop, where the gRPC transport runs every stream as
/// Swift tasks and copies every response into a frame buffer of its own. The connection guards
/// are the gRPC transport's (connection limit, handshake timeout, dead peers, request memory;
/// clients' pings policed as gRPC does) and NIO's connection manager (keepalive pings, GOAWAY on
/// shutdown), large responses are paced as there (`PushPacer`), and TLS is NIOSSL's, with the
/// same files, client CA and node authorization.
public final class NIOADSServer: Service, Sendable {
    private let configuration: ADSServerConfiguration
    private let shared: ADSStreamHandler.Shared
    private let logger: Logger
    private let group: MultiThreadedEventLoopGroup
    private let state = Mutex(State())
    public let registry: StreamRegistry
    /// What request messages still arriving hold, and how many wait for it.
    public let requestMemory: RequestMemoryBudget
    /// Paces large responses across streams; nil when `pacing` is off.
    public let pacer: PushPacer?

    private struct State {
        var listener: (any Channel)?
        var waiting: [CheckedContinuation<Int, any Error>] = []
        var stopped = false
        /// Open connections with their streams, to end them on shutdown.
        var connections: [ObjectIdentifier: (channel: any Channel, streams: ADSConnectionStreams)] = [:]
    }

    /// `eventLoopGroup` runs the connections and their streams (see `ADSServer.init`).
    public init(
        configuration: ADSServerConfiguration, watcher: any ConfigWatcher, registry: StreamRegistry = StreamRegistry(),
        logger: Logger = Logger(label: "switchboard.xds"), eventLoopGroup: MultiThreadedEventLoopGroup = .singleton
    ) {
        self.configuration = configuration
        self.group = eventLoopGroup
        self.registry = registry
        requestMemory = RequestMemoryBudget(limit: configuration.maxRequestMemory)
        self.logger = logger
        let pacer = configuration.pacing.map { PushPacer($0) }
        self.pacer = pacer
        shared = ADSStreamHandler.Shared(
            watcher: watcher, registry: registry, defaultNodeGroup: configuration.defaultNodeGroup,
            maxStreams: configuration.maxStreams, maxRequestBytes: configuration.maxRequestBytes, pacer: pacer,
            authorizeNodes: configuration.tls?.authorizeNodes == true, logger: logger)
    }

    /// The port actually bound (useful with port 0), once listening.
    public func listeningPort() async throws -> Int {
        try await withCheckedThrowingContinuation { continuation in
            let ready = state.withLock { state -> (any Channel)? in
                if let listener = state.listener { return listener }
                state.waiting.append(continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready.localAddress?.port ?? 0) }
        }
    }

    public func run() async throws {
        let (shared, logger, configuration, pacer) = (shared, logger, configuration, pacer)
        // As the gRPC transport: NIO's HTTP/2 is given a higher limit than the one advertised, and
        // `ConnectionStreamLimitHandler` refuses a stream beyond the advertised one by itself,
        // where NIO would end the whole connection (see `StreamsPerConnection`).
        let streamLimit = StreamsPerConnection(advertised: configuration.maxStreamsPerConnection)
        let connection = {
            var connection = NIOHTTP2Handler.ConnectionConfiguration()
            connection.initialSettings = [
                HTTP2Setting(parameter: .maxConcurrentStreams, value: streamLimit.enforced),
                HTTP2Setting(parameter: .maxHeaderListSize, value: 16384),
            ]
            connection.controlFrameRateLimit.maximumCount = Self.floodLimit.count
            connection.controlFrameRateLimit.windowLength = Self.floodLimit.window
            return connection
        }()
        let streamConfiguration = {
            var stream = NIOHTTP2Handler.StreamConfiguration()
            // A client may cancel every stream it may open at once; NIO's rate all the same.
            let resets = min(max(Self.floodLimit.count, streamLimit.advertised), Self.nioFloodLimit)
            stream.streamResetFrameRateLimit.maximumCount = resets
            stream.streamResetFrameRateLimit.windowLength = .nanoseconds(
                Self.floodLimit.window.nanoseconds * Int64(resets) / Int64(Self.floodLimit.count))
            stream.streamErrorRateLimit.maximumCount = Self.floodLimit.count
            stream.streamErrorRateLimit.windowLength = Self.floodLimit.window
            return stream
        }()
        let budget = requestMemory
        let limiter = ConnectionLimiter(limit: configuration.maxConnections)
        let keepalive = configuration.keepalive
        // Each connection's stream initializer captures what it uses, not the whole configuration.
        let maxRequestBytes = configuration.maxRequestBytes
        let handshakeTimeout = configuration.handshakeTimeout
        let maxRequestWait = keepalive.timeout
        let management = NIOHTTP2ServerConnectionManagementHandler.Configuration(
            maxIdleTime: nil, maxAge: nil, maxGraceTime: .seconds(10),
            keepalive: .init(pingInterval: TimeAmount(keepalive.interval), ackTimeout: TimeAmount(keepalive.timeout)))
        let tls = try configuration.tls.map(Self.sslContext)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { listener in
                listener.eventLoop.makeCompletedFuture {
                    try listener.pipeline.syncOperations.addHandler(
                        ConnectionLimitHandler(limiter: limiter, logger: logger))
                }
            }
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(.recvAllocator, value: ConnectionGuards.readAllocator)
            .childChannelInitializer { [weak self] channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let tls { try sync.addHandler(NIOSSLServerHandler(context: tls)) }
                    // Next (after TLS, on the bytes it decrypts).
                    try sync.addHandler(ConnectionGuards.deadPeer(keepalive, logger: logger))
                    let manager = NIOHTTP2ServerConnectionManagementHandler(
                        eventLoop: channel.eventLoop, configuration: management)
                    let streams = ADSConnectionStreams(eventLoop: channel.eventLoop)
                    let limit = ConnectionStreamLimitHandler(
                        limit: streamLimit, leavesAfterPreface: true, logger: logger)
                    // The connection's streams run on its event loop, where the handler is read.
                    let boundLimit = NIOLoopBound(limit, eventLoop: channel.eventLoop)
                    let gate = NIOLoopBound(ConnectionReadGate(), eventLoop: channel.eventLoop)
                    _ = try sync.configureHTTP2Pipeline(
                        mode: .server, connectionConfiguration: connection, streamConfiguration: streamConfiguration,
                        streamDelegate: manager.http2StreamDelegate
                    ) { stream in
                        stream.eventLoop.makeCompletedFuture {
                            try stream.pipeline.syncOperations.addHandlers([
                                // First, so it sees each DATA frame before it is buffered.
                                StreamGuardHandler(
                                    budget: budget, maxMessageBytes: maxRequestBytes, maxWait: maxRequestWait,
                                    connection: boundLimit.value, gate: gate.value, logger: logger),
                                ADSStreamHandler(shared: shared, streams: streams),
                            ])
                        }
                    }
                    let http2 = try sync.handler(type: NIOHTTP2Handler.self)
                    // Before it: it sees the SETTINGS frame as bytes on their way out.
                    try sync.addHandler(limit, position: .before(http2))
                    try sync.addHandler(manager, position: .after(http2))
                    try sync.addHandler(
                        PingPolicingHandler(minInterval: TimeAmount(keepalive.minClientPingInterval), logger: logger),
                        position: .after(http2))
                    // After the HTTP/2 handler: it passes frames on only once the preface is valid.
                    try sync.addHandler(
                        HandshakeTimeoutHandler(timeout: handshakeTimeout, logger: logger),
                        position: .after(http2))
                    // Last: the reads the connection and its streams ask for start at the tail.
                    try sync.addHandler(gate.value)
                    try sync.addHandler(FloodCloseHandler(logger: logger))
                    self?.opened(channel, streams: streams)
                }
            }
        let listener: any Channel
        do {
            listener = try await bootstrap.bind(host: configuration.host, port: configuration.port).get()
        } catch {
            let waiting = state.withLock { state in
                defer { state.waiting = [] }
                return state.waiting
            }
            for continuation in waiting { continuation.resume(throwing: error) }
            throw error
        }
        let port = listener.localAddress?.port ?? 0
        let (waiting, stopped) = state.withLock { state in
            state.listener = listener
            defer { state.waiting = [] }
            return (state.waiting, state.stopped)
        }
        for continuation in waiting { continuation.resume(returning: port) }
        if stopped { beginGracefulShutdown() }
        try await withTaskCancellationHandler {
            try await withGracefulShutdownHandler {
                try await withThrowingDiscardingTaskGroup { group in
                    if let pacer { group.addTask { await pacer.run() } }
                    try await listener.closeFuture.get()
                    group.cancelAll()
                }
            } onGracefulShutdown: {
                self.beginGracefulShutdown()
            }
        } onCancel: {
            // Cancelled (another service failed): close everything now.
            self.beginGracefulShutdown()
            for (channel, _) in self.state.withLock({ Array($0.connections.values) }) { channel.close(promise: nil) }
        }
        // The open streams' trailers and each GOAWAY are on their way: wait for the connections
        // to close (their connection manager closes them within its grace time).
        for (channel, _) in state.withLock({ Array($0.connections.values) }) {
            try? await channel.closeFuture.get()
        }
    }

    /// How many control frames (PING, SETTINGS, ...) and stream errors a client may cause in how
    /// long before NIO ends its connection: NIO's rate (200 in 30 s) over a tenth of its window.
    /// Stream resets at the same rate, but at least as many as a connection's streams, up to
    /// NIO's 200. Each limit keeps room for a timestamp per frame it allows, made up front: at 200
    /// the three cost every connection 4 KiB (ads-load, 1000 idle streams: 46.3 to 42.2 KiB a
    /// stream). An Envoy sends a handful of such frames a minute.
    static let floodLimit = (count: 20, window: TimeAmount.seconds(3))
    static let nioFloodLimit = 200

    /// The server's TLS context: its certificate chain and key, and with a client CA, mTLS
    /// (client certificates verified against it; no hostname, which a client certificate lacks).
    static func sslContext(_ tls: ADSServerConfiguration.TLS) throws -> NIOSSLContext {
        let chain = try NIOSSLCertificate.fromPEMFile(tls.certificateChainPath).map {
            NIOSSLCertificateSource.certificate($0)
        }
        let key = NIOSSLPrivateKeySource.privateKey(try NIOSSLPrivateKey(file: tls.privateKeyPath, format: .pem))
        var configuration: TLSConfiguration
        if let ca = tls.clientCAPath {
            configuration = .makeServerConfigurationWithMTLS(
                certificateChain: chain, privateKey: key,
                trustRoots: .certificates(try NIOSSLCertificate.fromPEMFile(ca)))
            configuration.certificateVerification = .noHostnameVerification
        } else {
            configuration = .makeServerConfiguration(certificateChain: chain, privateKey: key)
        }
        configuration.applicationProtocols = ["grpc-exp", "h2"]
        return try NIOSSLContext(configuration: configuration)
    }

    private func opened(_ channel: any Channel, streams: ADSConnectionStreams) {
        let id = ObjectIdentifier(channel)
        let stopping = state.withLock { state in
            if !state.stopped { state.connections[id] = (channel, streams) }
            return state.stopped
        }
        if stopping {
            channel.close(promise: nil)
            return
        }
        channel.closeFuture.whenComplete { [weak self] _ in
            _ = self?.state.withLock { $0.connections.removeValue(forKey: id) }
        }
    }

    /// Stops accepting connections and ends every open stream with status OK; each connection
    /// then gets a GOAWAY and closes (within 10 s, whatever its client does).
    public func beginGracefulShutdown() {
        let (listener, connections) = state.withLock { state in
            state.stopped = true
            return (state.listener, Array(state.connections.values))
        }
        // Streams waiting for a permit go on at once: a shutdown does not wait on slow clients.
        pacer?.open()
        listener?.close(promise: nil)
        for (channel, streams) in connections {
            channel.eventLoop.execute {
                streams.endAll()
                channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
            }
        }
    }
}

/// The open streams of one connection, kept on its event loop: shutdown ends each, and any
/// that opens after (before the client has seen the GOAWAY) is refused.
final class ADSConnectionStreams: Sendable {
    private let ends: NIOLoopBoundBox<[ObjectIdentifier: () -> Void]?>

    init(eventLoop: any EventLoop) { ends = NIOLoopBoundBox([:], eventLoop: eventLoop) }

    /// Adds an open stream; false once the connection is shutting down.
    func add(_ stream: AnyObject, end: @escaping () -> Void) -> Bool {
        guard ends.value != nil else { return false }
        ends.value![ObjectIdentifier(stream)] = end
        return true
    }

    func remove(_ stream: AnyObject) { ends.value?[ObjectIdentifier(stream)] = nil }

    func endAll() {
        let all = Array((ends.value ?? [:]).values)
        ends.value = nil
        for end in all { end() }
    }
}
