import Foundation
import GRPCCore
import GRPCInProcessTransport
import GRPCNIOTransportHTTP2
import Logging
import NIOPosix
import XDSCache
import XDSServer

/// Runs an `ADSServer` on a kernel-chosen loopback port for the duration of `body`, then shuts it down.
/// Its connections run on `eventLoopGroup` (NIO's shared one unless the test keeps its own).
public func withADSServer<Result: Sendable>(
    watcher: any ConfigWatcher,
    configuration: ADSServerConfiguration = ADSServerConfiguration(host: "127.0.0.1", port: 0),
    logger: Logger = testLogger(),
    eventLoopGroup: MultiThreadedEventLoopGroup = .singleton,
    _ body: @Sendable (ADSServer, Int) async throws -> Result
) async throws -> Result {
    let server = ADSServer(
        configuration: configuration, watcher: watcher, logger: logger, eventLoopGroup: eventLoopGroup)
    return try await whileServing(serve: server.run, shutdown: server.beginGracefulShutdown) {
        try await body(server, try await server.listeningPort())
    }
}

/// Runs the ADS server on `transport` on a kernel-chosen loopback port for the duration of `body`,
/// handing it the server's pacer, stream registry and port: a test of either transport.
public func withADSServer<Result: Sendable>(
    transport: ADSServerConfiguration.Transport,
    watcher: any ConfigWatcher,
    configuration: ADSServerConfiguration = ADSServerConfiguration(host: "127.0.0.1", port: 0),
    logger: Logger = testLogger(),
    _ body: @Sendable (PushPacer?, StreamRegistry, Int) async throws -> Result
) async throws -> Result {
    try await withADSServer(transport: transport, watcher: watcher, configuration: configuration, logger: logger) {
        (server: ServedADS) in try await body(server.pacer, server.registry, server.port)
    }
}

/// What a test sees of a running ADS server of either transport.
public struct ServedADS: Sendable {
    public let pacer: PushPacer?
    public let registry: StreamRegistry
    public let requestMemory: RequestMemoryBudget
    public let port: Int
}

/// Runs the ADS server on `transport` on a kernel-chosen loopback port for the duration of `body`,
/// its connections on `eventLoopGroup`.
public func withADSServer<Result: Sendable>(
    transport: ADSServerConfiguration.Transport,
    watcher: any ConfigWatcher,
    configuration: ADSServerConfiguration = ADSServerConfiguration(host: "127.0.0.1", port: 0),
    logger: Logger = testLogger(),
    eventLoopGroup: MultiThreadedEventLoopGroup = .singleton,
    _ body: @Sendable (ServedADS) async throws -> Result
) async throws -> Result {
    switch transport {
    case .grpc:
        return try await withADSServer(
            watcher: watcher, configuration: configuration, logger: logger, eventLoopGroup: eventLoopGroup
        ) { server, port in
            try await body(
                ServedADS(
                    pacer: server.pacer, registry: server.registry, requestMemory: server.requestMemory, port: port))
        }
    case .nio:
        let server = NIOADSServer(
            configuration: configuration, watcher: watcher, logger: logger, eventLoopGroup: eventLoopGroup)
        return try await whileServing(serve: server.run, shutdown: server.beginGracefulShutdown) {
            try await body(
                ServedADS(
                    pacer: server.pacer, registry: server.registry, requestMemory: server.requestMemory,
                    port: try await server.listeningPort()))
        }
    }
}

/// Runs `serve` beside `body`; when `body` ends, however it ends, shuts the server down and waits for it.
private func whileServing<Result: Sendable>(
    serve: @escaping @Sendable () async throws -> Void, shutdown: () -> Void, _ body: () async throws -> Result
) async throws -> Result {
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await serve() }
        let outcome: Swift.Result<Result, any Error>
        do { outcome = .success(try await body()) } catch { outcome = .failure(error) }
        shutdown()
        group.cancelAll()
        while (try? await group.next()) != nil {}
        return try outcome.get()
    }
}

/// A logger at `SWITCHBOARD_TEST_LOG` level (default `warning`), to read a failing test's protocol trace.
public func testLogger(_ label: String = "test.xds") -> Logger {
    var logger = Logger(label: label)
    let level = ProcessInfo.processInfo.environment["SWITCHBOARD_TEST_LOG"].flatMap(Logger.Level.init(rawValue:))
    logger.logLevel = level ?? .warning
    return logger
}

/// Runs the ADS service over gRPC's in-process transport (no sockets) for the duration of `body`,
/// handing it a client and the server's stream registry.
public func withInProcessADS<Result: Sendable>(
    watcher: any ConfigWatcher,
    defaultNodeGroup: String? = nil,
    maxStreams: Int? = nil,
    logger: Logger = testLogger(),
    _ body: @Sendable (InProcessADSClient, StreamRegistry) async throws -> Result
) async throws -> Result {
    let transport = InProcessTransport()
    let registry = StreamRegistry()
    let service = AggregatedDiscoveryService(
        watcher: watcher, registry: registry, defaultNodeGroup: defaultNodeGroup, maxStreams: maxStreams, logger: logger
    )
    let server = GRPCServer(transport: transport.server, services: [service])
    return try await whileServing(serve: server.serve, shutdown: server.beginGracefulShutdown) {
        try await withGRPCClient(transport: transport.client) { client in
            try await body(ADSTestClient.Client(wrapping: client), registry)
        }
    }
}

public typealias InProcessADSClient = ADSTestClient.Client<InProcessTransport.Client>

/// Runs the ADS server on `transport` on a loopback port for the duration of `body`, handing it
/// grpc-swift's client connected to it over the socket and the server's stream registry: the
/// same scenario on either transport, checked by a client that is not ours.
public func withADSClient<Result: Sendable>(
    transport: ADSServerConfiguration.Transport,
    watcher: any ConfigWatcher,
    defaultNodeGroup: String? = nil,
    maxStreams: Int? = nil,
    logger: Logger = testLogger(),
    _ body: @Sendable (ADSSocketClient, StreamRegistry) async throws -> Result
) async throws -> Result {
    var configuration = ADSServerConfiguration(host: "127.0.0.1", port: 0, defaultNodeGroup: defaultNodeGroup)
    configuration.maxStreams = maxStreams
    return try await withADSServer(
        transport: transport, watcher: watcher, configuration: configuration, logger: logger
    ) { _, registry, port in
        let client = try HTTP2ClientTransport.Posix(
            target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext)
        return try await withGRPCClient(transport: client) { client in
            try await body(ADSTestClient.Client(wrapping: client), registry)
        }
    }
}

public typealias ADSSocketClient = ADSTestClient.Client<HTTP2ClientTransport.Posix>
