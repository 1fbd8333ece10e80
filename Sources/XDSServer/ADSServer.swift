import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import NIOCore
import NIOHTTP2
import NIOPosix
import ServiceLifecycle
import XDSCache

/// How the ADS server listens. Built from flags by the CLI; every field has a working default.
public struct ADSServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// Largest request message accepted. Envoy's first delta request lists every resource it holds
    /// in `initial_resource_versions` and passes gRPC's 4 MiB default on large configurations
    /// (Envoy Gateway PR #9564), so the default is well above it.
    public var maxRequestBytes: Int
    /// Most bytes that request messages still arriving may hold, across all streams: each message's
    /// announced length is reserved before gRPC buffers it, and a stream whose message does not fit
    /// is refused with `RESOURCE_EXHAUSTED` (see `StreamGuardHandler`). At least `maxRequestBytes`.
    public var maxRequestMemory: Int
    /// A connection that has not completed its TLS handshake (with TLS) and the HTTP/2 preface and
    /// first SETTINGS within this is closed, so half-open connections cannot pile up.
    public var handshakeTimeout: Duration
    /// Connections open at once beyond this are closed on arrival; nil for no limit.
    public var maxConnections: Int?
    /// Streams one HTTP/2 connection may have open, advertised in SETTINGS_MAX_CONCURRENT_STREAMS;
    /// a stream beyond it is refused alone (RST_STREAM REFUSED_STREAM). See `StreamsPerConnection`.
    public var maxStreamsPerConnection: Int
    /// Node group for an Envoy whose `node.cluster` is empty.
    public var defaultNodeGroup: String?
    /// Open streams beyond this are refused; nil for no limit.
    public var maxStreams: Int?
    /// TLS for the ADS port; nil serves plaintext (for local use).
    public var tls: TLS?
    /// HTTP/2 pings, both ways.
    public var keepalive: Keepalive
    /// How many streams may have a large response out at once; nil for no bound.
    public var pacing: PushPacing?
    /// Which transport serves ADS: NIO's HTTP/2 directly (`NIOADSServer`: no task and no copy
    /// of a response per stream), or grpc-swift's server (`ADSServer`). Both apply every setting
    /// above.
    public var transport: Transport = .nio

    public enum Transport: String, Sendable, CaseIterable {
        case grpc
        case nio
    }

    /// The server pings a connection it has heard nothing from for `interval`, and closes it if
    /// the answer does not come within `timeout`: an Envoy whose host went away without closing
    /// its connection (power loss, a dropped network path), or that stopped reading, would
    /// otherwise keep its stream, the memory of its pending response and a `--max-streams` place
    /// for ever. Envoy's own pings (`connection_keepalive` in its bootstrap) are accepted as often
    /// as every `minClientPingInterval`, with or without a stream open, as Envoy Gateway accepts
    /// them (15 s). gRPC's default (5 minutes, three pings too early close the connection) made
    /// an Envoy that pings every 30 s lose its connection, and resync everything, after about
    /// two minutes without a configuration change.
    public struct Keepalive: Sendable {
        public var interval: Duration
        public var timeout: Duration
        public var minClientPingInterval: Duration

        public init(
            interval: Duration = .seconds(60), timeout: Duration = .seconds(20),
            minClientPingInterval: Duration = .seconds(15)
        ) {
            self.interval = interval
            self.timeout = timeout
            self.minClientPingInterval = minClientPingInterval
        }
    }

    /// Files of the server's certificate and key (PEM); with `clientCAPath`, clients must present
    /// a certificate signed by that CA (mTLS), and with `authorizeNodes` an Envoy may only fetch
    /// the Gateway its certificate names: its one URI SAN, exactly
    /// `spiffe://<trust-domain>/ns/<namespace>/gateway/<name>` (see `NodeAuthorization`).
    public struct TLS: Sendable {
        public var certificateChainPath: String
        public var privateKeyPath: String
        public var clientCAPath: String?
        public var authorizeNodes: Bool

        public init(
            certificateChainPath: String, privateKeyPath: String, clientCAPath: String? = nil,
            authorizeNodes: Bool = false
        ) {
            self.certificateChainPath = certificateChainPath
            self.privateKeyPath = privateKeyPath
            self.clientCAPath = clientCAPath
            self.authorizeNodes = authorizeNodes
        }
    }

    public init(
        host: String = "0.0.0.0", port: Int = 18000, maxRequestBytes: Int = 16 << 20, maxRequestMemory: Int = 128 << 20,
        handshakeTimeout: Duration = .seconds(10), maxConnections: Int? = nil, maxStreamsPerConnection: Int = 100,
        defaultNodeGroup: String? = nil, maxStreams: Int? = nil, tls: TLS? = nil, keepalive: Keepalive = Keepalive(),
        pacing: PushPacing? = PushPacing()
    ) {
        self.pacing = pacing
        self.host = host
        self.port = port
        self.maxRequestBytes = maxRequestBytes
        self.maxRequestMemory = maxRequestMemory
        self.handshakeTimeout = handshakeTimeout
        self.maxConnections = maxConnections
        self.maxStreamsPerConnection = maxStreamsPerConnection
        self.defaultNodeGroup = defaultNodeGroup
        self.maxStreams = maxStreams
        self.tls = tls
        self.keepalive = keepalive
    }
}

/// The ADS gRPC server as a lifecycle `Service`: `run()` serves until graceful shutdown, which
/// stops accepting streams and ends the open ones cleanly.
public final class ADSServer: Service, Sendable {
    private let server: GRPCServer<HTTP2ServerTransport.Posix>
    private let transport: HTTP2ServerTransport.Posix
    public let registry: StreamRegistry
    /// What request messages still arriving hold, and how many wait for it.
    public let requestMemory: RequestMemoryBudget
    /// Paces large responses across streams; nil when `pacing` is off.
    public let pacer: PushPacer?

    /// `eventLoopGroup` runs the connections: NIO's shared one unless a caller keeps its own apart
    /// (a test whose clients must be answered however busy the shared loops are).
    public init(
        configuration: ADSServerConfiguration, watcher: any ConfigWatcher, registry: StreamRegistry = StreamRegistry(),
        logger: Logger = Logger(label: "switchboard.xds"), eventLoopGroup: MultiThreadedEventLoopGroup = .singleton
    ) {
        var config = HTTP2ServerTransport.Posix.Config.defaults
        config.rpc.maxRequestPayloadSize = configuration.maxRequestBytes
        config.connection.keepalive = HTTP2ServerTransport.Config.Keepalive(
            time: configuration.keepalive.interval, timeout: configuration.keepalive.timeout,
            clientBehavior: HTTP2ServerTransport.Config.ClientKeepaliveBehavior(
                minPingIntervalWithoutCalls: configuration.keepalive.minClientPingInterval, allowWithoutCalls: true))
        let budget = RequestMemoryBudget(limit: configuration.maxRequestMemory)
        requestMemory = budget
        let maxRequestBytes = configuration.maxRequestBytes
        let limiter = ConnectionLimiter(limit: configuration.maxConnections)
        config.channelDebuggingCallbacks.onBindTCPListener = { listener in
            listener.eventLoop.makeCompletedFuture {
                let handler = ConnectionLimitHandler(limiter: limiter, logger: logger)
                try listener.pipeline.syncOperations.addHandler(handler)
            }
        }
        let handshakeTimeout = configuration.handshakeTimeout
        let keepalive = configuration.keepalive
        let streamLimit = StreamsPerConnection(advertised: configuration.maxStreamsPerConnection)
        config.http2.maxConcurrentStreams = streamLimit.enforced
        config.channelDebuggingCallbacks.onAcceptTCPConnection = { connection in
            connection.eventLoop.makeCompletedFuture {
                let sync = connection.pipeline.syncOperations
                let http2 = try sync.handler(type: NIOHTTP2Handler.self)
                // After the HTTP/2 handler: it passes frames on only once the preface is valid.
                let timeout = HandshakeTimeoutHandler(timeout: handshakeTimeout, logger: logger)
                try sync.addHandler(timeout, position: .after(http2))
                try sync.addHandler(ConnectionGuards.deadPeer(keepalive, logger: logger), position: .first)
                // Before it: it sees the SETTINGS frame as bytes on their way out.
                let streams = ConnectionStreamLimitHandler(limit: streamLimit, logger: logger)
                try sync.addHandler(streams, position: .before(http2))
                // Right after the HTTP/2 handler: the reads the connection and its streams ask for
                // start at the tail, and gRPC's async channel handler, there, makes its own.
                try sync.addHandler(ConnectionReadGate(), position: .after(http2))
                try connection.syncOptions?.setOption(
                    ChannelOptions.recvAllocator, value: ConnectionGuards.readAllocator)
            }
        }
        config.channelDebuggingCallbacks.onAcceptHTTP2Stream = { stream in
            stream.eventLoop.makeCompletedFuture {
                // The connection's stream count, on the same event loop.
                let connection = try stream.parent.map {
                    try $0.pipeline.syncOperations.handler(type: ConnectionStreamLimitHandler.self)
                }
                let gate = try stream.parent.map {
                    try $0.pipeline.syncOperations.handler(type: ConnectionReadGate.self)
                }
                // First, so it sees each DATA frame before gRPC buffers it.
                let handler = StreamGuardHandler(
                    budget: budget, maxMessageBytes: maxRequestBytes, maxWait: keepalive.timeout,
                    connection: connection, gate: gate, logger: logger)
                try stream.pipeline.syncOperations.addHandler(handler, position: .first)
            }
        }
        // An address with a colon is IPv6 (`::` listens on every address of both families).
        let address: GRPCNIOTransportCore.SocketAddress =
            configuration.host.contains(":")
            ? .ipv6(host: configuration.host, port: configuration.port)
            : .ipv4(host: configuration.host, port: configuration.port)
        var security: HTTP2ServerTransport.Posix.TransportSecurity = .plaintext
        var authorizer: AggregatedDiscoveryService.NodeAuthorizer?
        if let tls = configuration.tls {
            let chain: [TLSConfig.CertificateSource] = [.file(path: tls.certificateChainPath, format: .pem)]
            let key: TLSConfig.PrivateKeySource = .file(path: tls.privateKeyPath, format: .pem)
            if let ca = tls.clientCAPath {
                security = .mTLS(certificateChain: chain, privateKey: key) { config in
                    config.trustRoots = .certificates([.file(path: ca, format: .pem)])
                }
            } else {
                security = .tls(certificateChain: chain, privateKey: key)
            }
            if tls.authorizeNodes { authorizer = NodeAuthorization.check }
        }
        let transport = HTTP2ServerTransport.Posix(
            address: address, transportSecurity: security, config: config, eventLoopGroup: eventLoopGroup)
        let pacer = configuration.pacing.map { PushPacer($0) }
        let service = AggregatedDiscoveryService(
            watcher: watcher, registry: registry, defaultNodeGroup: configuration.defaultNodeGroup,
            maxStreams: configuration.maxStreams, nodeAuthorizer: authorizer, pacer: pacer, logger: logger)
        self.pacer = pacer
        self.transport = transport
        self.registry = registry
        self.server = GRPCServer(transport: transport, services: [service])
    }

    /// The port actually bound (useful with port 0).
    public func listeningPort() async throws -> Int {
        let address = try await transport.listeningAddress
        if let ipv4 = address.ipv4 { return ipv4.port }
        if let ipv6 = address.ipv6 { return ipv6.port }
        throw RPCError(code: .internalError, message: "the ADS server is not listening on an IP address")
    }

    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                if let pacer { group.addTask { await pacer.run() } }
                try await server.serve()
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.beginGracefulShutdown()
        }
    }

    /// Stops accepting streams and ends the open ones; streams waiting for a pacing permit go on
    /// at once, so the shutdown does not wait on slow clients' answers.
    public func beginGracefulShutdown() {
        pacer?.open()
        server.beginGracefulShutdown()
    }
}
