import EnvoyAPI
import GRPCCore
import GRPCProtobuf
import Logging
import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle
import Synchronization
import XDSCache

/// ADS over gRPC: `StreamAggregatedResources` (state of the world) and `DeltaAggregatedResources`
/// (incremental). Each stream is one task that owns a pure state machine and is the only writer;
/// a child task reads requests and another follows the node group's snapshots, and both feed it.
/// Requests are decoded by SwiftProtobuf; responses are written by `WireEncoding` straight from
/// the snapshot's encoded resources.
public struct AggregatedDiscoveryService: RegistrableRPCService {
    public typealias Node = Envoy_Config_Core_V3_Node

    private let watcher: any ConfigWatcher
    private let registry: StreamRegistry
    private let defaultNodeGroup: String?
    private let maxStreams: Int?
    private let nodeAuthorizer: NodeAuthorizer?
    private let pacer: PushPacer?
    private let logger: Logger

    /// Decides whether the peer of `context` may fetch `nodeGroup`; returns why not, or nil.
    public typealias NodeAuthorizer = @Sendable (_ context: ServerContext, _ nodeGroup: String) -> String?

    /// - Parameters:
    ///   - defaultNodeGroup: the group of an Envoy whose `node.cluster` is empty.
    ///   - maxStreams: streams beyond this many are refused (`RESOURCE_EXHAUSTED`), so a crowd of
    ///     Envoys cannot exhaust the server; nil for no limit.
    ///   - pacer: bounds the streams with large responses out at once; nil writes them all at once.
    public init(
        watcher: any ConfigWatcher, registry: StreamRegistry, defaultNodeGroup: String? = nil, maxStreams: Int? = nil,
        nodeAuthorizer: NodeAuthorizer? = nil, pacer: PushPacer? = nil, logger: Logger
    ) {
        self.nodeAuthorizer = nodeAuthorizer
        self.pacer = pacer
        self.watcher = watcher
        self.registry = registry
        self.defaultNodeGroup = defaultNodeGroup
        self.maxStreams = maxStreams
        self.logger = logger
    }

    public func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        typealias Methods = Envoy_Service_Discovery_V3_AggregatedDiscoveryService.Method
        router.registerHandler(
            forMethod: Methods.StreamAggregatedResources.descriptor,
            deserializer: ProtobufDeserializer<Envoy_Service_Discovery_V3_DiscoveryRequest>(),
            serializer: SotWResponseSerializer(),
            handler: { request, context in
                StreamingServerResponse { writer in
                    try await run(
                        SotWStreamStateMachine.self, kind: .sotw, context: context, requests: request.messages,
                        node: { $0.hasNode ? $0.node : nil }, decode: SotWRequest.init,
                        write: { try await writer.write($0) })
                    return [:]
                }
            })
        router.registerHandler(
            forMethod: Methods.DeltaAggregatedResources.descriptor,
            deserializer: ProtobufDeserializer<Envoy_Service_Discovery_V3_DeltaDiscoveryRequest>(),
            serializer: DeltaResponseSerializer(),
            handler: { request, context in
                StreamingServerResponse { writer in
                    try await run(
                        DeltaStreamStateMachine.self, kind: .delta, context: context, requests: request.messages,
                        node: { $0.hasNode ? $0.node : nil }, decode: DeltaRequest.init,
                        write: { try await writer.write($0) })
                    return [:]
                }
            })
    }

    /// The node group an Envoy belongs to: its `node.cluster`, else the default. An
    /// envoyproxy/ratelimit (node id `envoy-ratelimit`, no cluster) gets the rate limit configs.
    func nodeGroup(of node: Node) throws -> String {
        try Self.nodeGroup(of: node, default: defaultNodeGroup)
    }

    static func nodeGroup(of node: Node, default defaultNodeGroup: String?) throws(RPCError) -> String {
        if !node.cluster.isEmpty { return node.cluster }
        if node.id == ResourceType.rateLimitServiceNode { return ResourceType.rateLimitServiceNode }
        if let defaultNodeGroup { return defaultNodeGroup }
        throw RPCError(
            code: .invalidArgument,
            message: "node \"\(node.id)\" has no node.cluster: set it to the gateway's <namespace>/<name> "
                + "in Envoy's bootstrap, or start the server with a default gateway")
    }

    private enum Input: Sendable {
        /// The next request is in the inbox.
        case request
        case snapshotChanged
        case end
    }

    private func run<Machine: StreamStateMachine, Message: Sendable>(
        _: Machine.Type,
        kind: StreamKind,
        context: ServerContext,
        requests: RPCAsyncSequence<Message, any Error>,
        node: (Message) -> Node?,
        decode: (Message) -> Machine.Request,
        write: (Machine.Response) async throws -> Void
    ) async throws where Machine.Response: ADSResponse {
        guard let id = registry.open(kind: kind, limit: maxStreams) else {
            logger.warning("stream refused: the stream limit is reached", metadata: ["limit": "\(maxStreams ?? 0)"])
            throw RPCError(
                code: .resourceExhausted,
                message:
                    "this server serves at most \(maxStreams ?? 0) streams (--max-streams); connect to another replica or raise the limit"
            )
        }
        defer { registry.close(id) }
        var logger = self.logger
        logger[metadataKey: "stream_id"] = "\(id)"
        logger[metadataKey: "stream_kind"] = "\(kind.rawValue)"

        let (inputs, continuation) = AsyncStream.makeStream(of: Input.self)
        defer { continuation.finish() }
        let latest = LatestSnapshot()
        let inbox = RequestInbox<Message>()
        var watch: SnapshotWatch?
        defer { watch?.cancel() }

        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask {
                    do {
                        for try await message in requests {
                            inbox.put(message)
                            continuation.yield(.request)
                        }
                    } catch {
                        // The client went away or the transport failed: either way the stream is over.
                    }
                    continuation.yield(.end)
                }

                var machine = Machine()
                var nodeGroup: String?
                // The pacer's permit while large responses are out, and their types.
                var lease: PushPacer.Lease?
                var paced: Set<ResourceType> = []
                defer { if let lease { pacer?.release(lease) } }
                for await input in inputs {
                    let output: StreamOutput<Machine.Response>
                    switch input {
                    case .request:
                        guard let message = inbox.take() else { continue }
                        if nodeGroup == nil {
                            guard let node = node(message) else {
                                throw RPCError(
                                    code: .invalidArgument, message: "the first request of a stream must carry a node")
                            }
                            let resolved = try self.nodeGroup(of: node)
                            if let denial = nodeAuthorizer?(context, resolved) {
                                logger.warning(
                                    "stream refused: the client certificate does not name its gateway",
                                    metadata: [
                                        "node_id": "\(node.id)", "node_cluster": "\(resolved)", "reason": "\(denial)",
                                    ])
                                throw RPCError(code: .permissionDenied, message: denial)
                            }
                            nodeGroup = resolved
                            logger[metadataKey: "node_id"] = "\(node.id)"
                            logger[metadataKey: "node_cluster"] = "\(resolved)"
                            registry.identify(id, nodeID: node.id, nodeGroup: resolved)
                            logger.debug("stream opened")
                            // No task of its own: the cache hands each snapshot straight on.
                            watch = watcher.watch(nodeGroup: resolved) { snapshot in
                                latest.set(snapshot)
                                continuation.yield(.snapshotChanged)
                            }
                        }
                        let request = decode(message)
                        logger.trace("request", metadata: ["request": "\(request)"])
                        output = machine.receive(request)
                    case .snapshotChanged:
                        // Several changes may queue while a write waits; only the newest matters.
                        guard let snapshot = latest.take() else { continue }
                        output = machine.update(snapshot)
                    case .end:
                        logger.debug("stream closed")
                        group.cancelAll()
                        return
                    }
                    Self.observe(output.events, nodeGroup: nodeGroup ?? "", logger: logger)
                    for response in output.responses {
                        let (type, bytes) = (response.type, response.resourceBytes)
                        if let pacer, bytes >= pacer.pacing.threshold {
                            lease = await pacer.acquire(keeping: lease)
                            paced.insert(type)
                        }
                        try await write(response)
                        XDSMetrics.push(type: type, bytes: bytes)
                        logger.trace("sent", metadata: ["response": "\(response)"])
                    }
                    // The permit goes back once the client has answered each large response,
                    // the last one of its type: a request of another type may come first (the
                    // load assignments of new clusters, asked for while the clusters warm).
                    if let held = lease, paced.allSatisfy({ !machine.status(of: $0).awaitingReply }) {
                        pacer?.release(held)
                        lease = nil
                        paced = []
                    }
                    registry.record(id, statuses: machine.status(of:))
                }
            }
        } onGracefulShutdown: {
            continuation.yield(.end)
        }
    }

    static func observe(_ events: [StreamEvent], nodeGroup: String, logger: Logger) {
        for event in events {
            switch event {
            case .ack(let type, let version):
                logger.debug("ACK", metadata: ["type": "\(type)", "version": "\(version)"])
            case .nack(let type, let nack):
                XDSMetrics.nack(type: type, nodeGroup: nodeGroup)
                logger.warning(
                    "Envoy rejected the configuration (NACK); it keeps its previous config for this type",
                    metadata: [
                        "type": "\(type)", "version": "\(nack.version)", "code": "\(nack.error.code)",
                        "error": "\(nack.error.message)",
                    ])
            case .staleNonce(let type, let nonce):
                logger.trace(
                    "ignored a request with a stale nonce", metadata: ["type": "\(type)", "nonce": "\(nonce)"])
            case .unknownTypeURL(let url):
                logger.notice(
                    "ignored a request for a type this server does not serve", metadata: ["type_url": "\(url)"])
            }
        }
    }
}

/// The newest snapshot not yet taken by the stream: writes may lag, snapshots must not queue.
/// Requests on their way, in order, from the task that reads and decodes them to the stream's
/// loop. An AsyncStream element that waits in its buffer is handed over under a lock inside the
/// Swift runtime, which ThreadSanitizer cannot see: the decoder's writes then looked unordered
/// with the loop's reads (so would the fields of any object passed along). So the messages go
/// through this queue, made before either task starts, under a pthread lock TSan does see; the
/// AsyncStream only says that one is waiting. Taken once on each side per request.
private final class RequestInbox<Message: Sendable>: Sendable {
    private let queue = NIOLockedValueBox(CircularBuffer<Message>())

    func put(_ message: Message) { queue.withLockedValue { $0.append(message) } }

    func take() -> Message? { queue.withLockedValue { $0.popFirst() } }
}

private final class LatestSnapshot: Sendable {
    private let value = Mutex<Snapshot?>(nil)

    func set(_ snapshot: Snapshot) { value.withLock { $0 = snapshot } }
    func take() -> Snapshot? { value.withLock { $0.take() } }
}
