import EnvoyAPI
import GRPCCore
import Logging
import NIOCore
import NIOHPACK
import NIOHTTP2
import NIOSSL
import Synchronization
import X509
import XDSCache

/// One ADS stream on the NIO transport (`NIOADSServer`): an HTTP/2 stream's channel, its gRPC
/// framing and the stream's state machine, all on the connection's event loop. Nothing runs in a
/// task of its own: a request is handled as its DATA frame is read, and a new snapshot as the
/// cache hands it on (one hop to the event loop). Responses are written as the shared buffers the
/// serializers made, their gRPC prefix included. A response is written when the stream
/// can take it (its client reads, and a large one has its pacing permit); while one waits, the
/// stream reads no more requests (but the ends of the ones it has begun, two at most) and takes no
/// new snapshot, so what waits is bounded by what three requests or a snapshot make.
final class ADSStreamHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias OutboundIn = HTTP2Frame.FramePayload
    typealias OutboundOut = HTTP2Frame.FramePayload

    /// What every stream of a server shares.
    struct Shared: Sendable {
        var watcher: any ConfigWatcher
        var registry: StreamRegistry
        var defaultNodeGroup: String?
        var maxStreams: Int?
        var maxRequestBytes: Int
        /// Paces large responses across streams; nil writes them all at once.
        var pacer: PushPacer?
        /// With mTLS: an Envoy may fetch only the Gateway its certificate names.
        var authorizeNodes: Bool
        var logger: Logger
    }

    static let sotwPath = "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources"
    static let deltaPath = "/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources"
    /// gRPC's content types for protobuf messages.
    static let contentTypes: Set<String> = ["application/grpc", "application/grpc+proto"]

    private let shared: Shared
    /// Its connection's open streams, which a shutdown ends.
    private let streams: ADSConnectionStreams
    private var logger: Logger
    private var reader: GRPCMessageReader
    private var machine: ADSStreamMachine?
    private var id: UInt64?
    private var nodeGroup: String?
    private var watch: SnapshotWatch?
    /// The newest snapshot the cache handed on and the stream has not taken: snapshots never
    /// queue, and a stream that cannot write keeps only this one.
    private let latest = LatestSnapshotBox()
    private var ended = false
    /// Responses encoded and not yet written: those behind a large one waiting for a pacing
    /// permit. A stream that waits takes no new snapshot (the newest waits in `latest`).
    /// Rarely more than one: NIO's default capacity of 16 cost an idle stream 0.66 KiB.
    private var queued = CircularBuffer<ADSStreamMachine.Encoded>(initialCapacity: 1)
    /// The pacing permit while large responses are out, and their types; the place in the
    /// pacer's queue while waiting for one.
    private var lease: PushPacer.Lease?
    private var paced: Set<ResourceType> = []
    private var waitingForPermit: UInt64?
    /// A read asked for while the stream could not write, passed on once it can.
    private var readHeld = false
    /// Messages completed while responses waited (see `mayFinishMessage`).
    private var finishedWhileWaiting = 0

    init(shared: Shared, streams: ADSConnectionStreams) {
        self.shared = shared
        self.streams = streams
        logger = shared.logger
        reader = GRPCMessageReader(maxMessageBytes: shared.maxRequestBytes)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !ended else { return }
        let payload = unwrapInboundIn(data)
        switch payload {
        case .headers(let headers):
            if machine == nil {
                open(context: context, headers: headers.headers)
            }
            // Trailers or a HEADERS frame that ends the stream: the client is done.
            if headers.endStream { finish(context: context, code: nil, message: nil) }
        case .data(let data):
            guard machine != nil, case .byteBuffer(let bytes) = data.data else { return }
            reader.append(bytes)
            do throws(GRPCMessageReader.Failure) {
                while !ended, let message = try reader.next() {
                    if !queued.isEmpty { finishedWhileWaiting += 1 }
                    handle(message, context: context)
                }
                // A message that waited for request memory began while this stream's reads were
                // held: its rest is read now.
                if readHeld, mayFinishMessage {
                    readHeld = false
                    context.read()
                }
            } catch {
                switch error {
                case .compressed:
                    // No grpc-encoding was offered, so a compressed message is a protocol error.
                    finish(context: context, code: .internalError, message: "compressed messages are not accepted")
                case .tooLarge(let announced):
                    finish(
                        context: context, code: .resourceExhausted,
                        message: "request of \(announced) bytes is over the limit of \(shared.maxRequestBytes)")
                }
            }
            if data.endStream {
                let partial = reader.holdsPartialMessage
                finish(
                    context: context, code: partial ? .internalError : nil,
                    message: partial ? "the stream ended inside a message" : nil)
            }
        case .rstStream:
            close(context: context)
        default:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        close(context: context)
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        // A stream that could not write left its responses, its snapshot and its next read waiting.
        if context.channel.isWritable { resume(context: context) }
        context.fireChannelWritabilityChanged()
    }

    func read(context: ChannelHandlerContext) {
        if !ended && !queued.isEmpty && !mayFinishMessage {
            readHeld = true
            return
        }
        context.read()
    }

    /// While responses wait, a message begun is still read to its end: the request memory it holds
    /// (see `StreamGuardHandler`) goes back only then. Streams waiting for a permit held enough of
    /// it to keep the permit holders' ACKs out (10000 streams connecting at once). Two at most: the
    /// one begun before the wait, and one whose start came in the same frame as that one's end.
    private var mayFinishMessage: Bool { reader.holdsPartialMessage && finishedWhileWaiting < 2 }

    /// Writes what waited, then takes the snapshot and the read that waited behind it.
    private func resume(context: ChannelHandlerContext) {
        drain(context: context)
        takeSnapshot(context: context)
        guard queued.isEmpty else { return }
        finishedWhileWaiting = 0
        guard readHeld else { return }
        readHeld = false
        context.read()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("stream error", metadata: ["error": "\(error)"])
        close(context: context)
        context.close(promise: nil)
    }

    // MARK: - The stream

    private func open(context: ChannelHandlerContext, headers: HPACKHeaders) {
        // Checked in the order, and answered as, grpc-swift's server does, so both transports
        // refuse the same requests the same way: what is not gRPC gets HTTP 415 (gRPC over
        // HTTP/2: "SHOULD respond with HTTP status of 415").
        guard let contentType = headers.first(name: "content-type"), Self.contentTypes.contains(contentType) else {
            refuse(context: context, httpStatus: 415)
            return
        }
        guard let path = headers.first(name: ":path") else {
            finish(context: context, code: .invalidArgument, message: "no :path header", headersSent: false)
            return
        }
        guard let scheme = headers.first(name: ":scheme"), scheme == "http" || scheme == "https" else {
            finish(
                context: context, code: .invalidArgument, message: ":scheme must be http or https",
                headersSent: false)
            return
        }
        guard headers.first(name: ":method") == "POST" else {
            finish(context: context, code: .invalidArgument, message: ":method must be POST", headersSent: false)
            return
        }
        if let encoding = headers.first(name: "grpc-encoding"), encoding != "identity" {
            finish(
                context: context, code: .unimplemented,
                message: "\(encoding) compression is not supported: send messages uncompressed",
                headersSent: false)
            return
        }
        let kind: StreamKind
        switch path {
        case Self.sotwPath:
            kind = .sotw
            machine = .sotw(SotWStreamStateMachine(), SotWRequestDecoder())
        case Self.deltaPath:
            kind = .delta
            machine = .delta(DeltaStreamStateMachine())
        default:
            finish(context: context, code: .unimplemented, message: "no method \(path)", headersSent: false)
            return
        }
        guard let id = shared.registry.open(kind: kind, limit: shared.maxStreams) else {
            logger.warning(
                "stream refused: the stream limit is reached", metadata: ["limit": "\(shared.maxStreams ?? 0)"])
            finish(
                context: context, code: .resourceExhausted,
                message:
                    "this server serves at most \(shared.maxStreams ?? 0) streams (--max-streams); connect to another replica or raise the limit",
                headersSent: false)
            return
        }
        self.id = id
        // A stream that opens while its connection is shutting down ends at once.
        guard streams.add(self, end: { [unowned self] in finish(context: context, code: nil, message: nil) }) else {
            finish(context: context, code: .unavailable, message: "the server is shutting down", headersSent: false)
            return
        }
        logger[metadataKey: "stream_id"] = "\(id)"
        logger[metadataKey: "stream_kind"] = "\(kind.rawValue)"
        let response: HPACKHeaders = [":status": "200", "content-type": "application/grpc"]
        context.writeAndFlush(wrapOutboundOut(.headers(.init(headers: response))), promise: nil)
    }

    private func handle(_ message: ByteBuffer, context: ChannelHandlerContext) {
        // Taken out while it changes, so that it changes in place, not in a copy.
        guard var changing = machine.take() else { return }
        let received = Result { try changing.receive(message) { node in try identify(node, context: context) } }
        machine = changing
        switch received {
        case .success(let output):
            write(output, context: context)
        case .failure(let error as RPCError):
            finish(context: context, code: error.code, message: error.message)
        case .failure(let error):
            finish(context: context, code: .invalidArgument, message: "the request does not decode: \(error)")
        }
    }

    /// On the first request: the node group, and the watch of its snapshots.
    private func identify(_ node: Envoy_Config_Core_V3_Node?, context: ChannelHandlerContext) throws {
        guard nodeGroup == nil else { return }
        guard let node else {
            throw RPCError(code: .invalidArgument, message: "the first request of a stream must carry a node")
        }
        let resolved = try AggregatedDiscoveryService.nodeGroup(of: node, default: shared.defaultNodeGroup)
        if shared.authorizeNodes,
            let denial = NodeAuthorization.check(peer: peerCertificate(context), nodeGroup: resolved)
        {
            logger.warning(
                "stream refused: the client certificate does not name its gateway",
                metadata: ["node_id": "\(node.id)", "node_cluster": "\(resolved)", "reason": "\(denial)"])
            throw RPCError(code: .permissionDenied, message: denial)
        }
        nodeGroup = resolved
        logger[metadataKey: "node_id"] = "\(node.id)"
        logger[metadataKey: "node_cluster"] = "\(resolved)"
        if let id { shared.registry.identify(id, nodeID: node.id, nodeGroup: resolved) }
        logger.debug("stream opened")
        let loop = context.eventLoop
        let bound = NIOLoopBound((self, context), eventLoop: loop)
        let latest = self.latest
        watch = shared.watcher.watch(nodeGroup: resolved) { snapshot in
            // One hop for any number of snapshots handed on before the loop takes them.
            guard latest.put(snapshot) else { return }
            loop.execute {
                let (handler, context) = bound.value
                handler.takeSnapshot(context: context)
            }
        }
    }

    /// The client's certificate, from its connection's TLS handler (the stream's parent channel,
    /// on the same event loop).
    private func peerCertificate(_ context: ChannelHandlerContext) -> Certificate? {
        guard let tls = try? context.channel.parent?.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self),
            let peer = tls.peerCertificate, let der = try? peer.toDERBytes()
        else { return nil }
        return try? Certificate(derEncoded: der)
    }

    private func takeSnapshot(context: ChannelHandlerContext) {
        guard !ended, machine != nil, queued.isEmpty, context.channel.isWritable, let snapshot = latest.take()
        else { return }
        guard var changing = machine.take() else { return }
        let output = changing.update(snapshot)
        machine = changing
        write(output, context: context)
    }

    private func write(_ output: ADSStreamMachine.Output, context: ChannelHandlerContext) {
        AggregatedDiscoveryService.observe(output.events, nodeGroup: nodeGroup ?? "", logger: logger)
        if let error = output.encodingError {
            finish(context: context, code: .internalError, message: "a response did not encode: \(error)")
            return
        }
        // An answer with nothing to write (an ACK, a NACK) is recorded here; what is written is
        // recorded by `drain` once it is.
        let nothingToWrite = queued.isEmpty && output.responses.isEmpty
        queued.append(contentsOf: output.responses)
        drain(context: context)
        // The permit goes back once the client has answered each large response, the last one
        // of its type: a request of another type may come first (the load assignments of new
        // clusters, asked for while the clusters warm).
        if let held = lease, queued.isEmpty, paced.allSatisfy({ !status(of: $0).awaitingReply }) {
            shared.pacer?.release(held)
            lease = nil
            paced = []
        }
        if nothingToWrite { recordStatus() }
    }

    /// Writes the queued responses, in order, while the stream can take them and until a large
    /// one must wait for a permit.
    private func drain(context: ChannelHandlerContext) {
        guard waitingForPermit == nil, !queued.isEmpty else { return }
        while let next = queued.first, context.channel.isWritable {
            if let pacer = shared.pacer, next.bytes.count >= pacer.pacing.threshold {
                let loop = context.eventLoop
                let bound = NIOLoopBound((self, context), eventLoop: loop)
                switch pacer.acquire(
                    keeping: lease,
                    whenGranted: { granted in
                        loop.execute {
                            let (handler, context) = bound.value
                            handler.permitGranted(granted, context: context)
                        }
                    })
                {
                case .granted(let granted):
                    lease = granted
                case .waiting(let id):
                    waitingForPermit = id
                    break
                }
                if waitingForPermit != nil { break }
                paced.insert(next.type)
            }
            queued.removeFirst()
            context.write(wrapOutboundOut(.data(.init(data: .byteBuffer(next.bytes.framed)))), promise: nil)
            XDSMetrics.push(type: next.type, bytes: next.resourceBytes)
        }
        context.flush()
        if queued.isEmpty { recordStatus() }
    }

    private func permitGranted(_ granted: PushPacer.Lease?, context: ChannelHandlerContext) {
        guard !ended else {
            if let granted { shared.pacer?.release(granted) }
            return
        }
        waitingForPermit = nil
        lease = granted
        resume(context: context)
    }

    private func status(of type: ResourceType) -> TypeStatus {
        machine?.status(of: type) ?? TypeStatus(awaitingReply: false)
    }

    private func recordStatus() {
        guard let id, machine != nil else { return }
        shared.registry.record(id, statuses: status(of:))
    }

    /// Ends the stream with `code` (nil: OK): trailers (or, before any response headers, a
    /// trailers-only response), then the stream closes.
    private func finish(
        context: ChannelHandlerContext, code: RPCError.Code?, message: String?, headersSent: Bool = true
    ) {
        var trailers: HPACKHeaders = headersSent ? [:] : [":status": "200", "content-type": "application/grpc"]
        trailers.add(name: "grpc-status", value: String(code.map { $0.rawValue } ?? 0))
        if let message { trailers.add(name: "grpc-message", value: GRPCStatusMessage.encode(message)) }
        end(context: context, with: trailers)
    }

    /// Ends a stream that is not a gRPC call with an HTTP status alone.
    private func refuse(context: ChannelHandlerContext, httpStatus: Int) {
        end(context: context, with: [":status": String(httpStatus)])
    }

    /// Ends the stream with `headers` as its last frame, once.
    private func end(context: ChannelHandlerContext, with headers: HPACKHeaders) {
        guard !ended else { return }
        // Forgotten first: nothing the flush sets off may write after these headers.
        close(context: context)
        context.writeAndFlush(wrapOutboundOut(.headers(.init(headers: headers, endStream: true))), promise: nil)
        // Closed, not left half-open: a client that ignores the trailers does not keep its
        // place among the connection's streams (a reset if it has not ended its side).
        context.close(promise: nil)
    }

    /// Forgets the stream: its watch, its registry entry.
    private func close(context: ChannelHandlerContext) {
        guard !ended else { return }
        ended = true
        streams.remove(self)
        if let id = waitingForPermit { shared.pacer?.cancelWaiting(id) }
        if let lease { shared.pacer?.release(lease) }
        queued.removeAll()
        watch?.cancel()
        watch = nil
        if let id { shared.registry.close(id) }
        if nodeGroup != nil { logger.debug("stream closed") }
    }
}

/// A stream's protocol variant on the NIO transport: its state machine, with how its requests
/// decode and its responses encode, so the handler drives either the same way.
private enum ADSStreamMachine {
    case sotw(SotWStreamStateMachine, SotWRequestDecoder)
    case delta(DeltaStreamStateMachine)
    /// Held while the machine is out being changed, so that it is the only copy and changes in
    /// place (a machine changed while the enum still held it would copy its storage).
    case moved

    /// A response encoded for the wire, with what the metrics and the pacer need of it.
    typealias Encoded = (type: ResourceType, bytes: ADSMessageBytes, resourceBytes: Int)

    struct Output {
        var responses: [Encoded] = []
        var events: [StreamEvent] = []
        /// A response that did not encode; the responses before it are kept.
        var encodingError: (any Error)?

        init() {}

        init<Response: ADSResponse>(_ output: StreamOutput<Response>, encode: (Response) throws -> ADSMessageBytes) {
            events = output.events
            for response in output.responses {
                do {
                    responses.append((response.type, try encode(response), response.resourceBytes))
                } catch {
                    encodingError = error
                    return
                }
            }
        }
    }

    /// Decodes `message`, has `identify` check its node (the first request must carry one), and
    /// hands the request to the machine.
    mutating func receive(
        _ message: ByteBuffer, identify: (Envoy_Config_Core_V3_Node?) throws -> Void
    ) throws -> Output {
        switch self {
        case .sotw(var sotw, var decoder):
            self = .moved
            defer { self = .sotw(sotw, decoder) }
            let request = try decoder.decode(message)
            try identify(request.hasNode ? request.node : nil)
            return Output(sotw.receive(SotWRequest(request))) { try SotWResponseSerializer().serialize($0) }
        case .delta(var delta):
            self = .moved
            defer { self = .delta(delta) }
            let request = try Envoy_Service_Discovery_V3_DeltaDiscoveryRequest(
                serializedBytes: ADSMessageBytes(message))
            try identify(request.hasNode ? request.node : nil)
            return Output(delta.receive(DeltaRequest(request))) { try DeltaResponseSerializer().serialize($0) }
        case .moved:
            return Output()
        }
    }

    mutating func update(_ snapshot: Snapshot) -> Output {
        switch self {
        case .sotw(var sotw, let decoder):
            self = .moved
            defer { self = .sotw(sotw, decoder) }
            return Output(sotw.update(snapshot)) { try SotWResponseSerializer().serialize($0) }
        case .delta(var delta):
            self = .moved
            defer { self = .delta(delta) }
            return Output(delta.update(snapshot)) { try DeltaResponseSerializer().serialize($0) }
        case .moved:
            return Output()
        }
    }

    func status(of type: ResourceType) -> TypeStatus {
        switch self {
        case .sotw(let sotw, _): sotw.status(of: type)
        case .delta(let delta): delta.status(of: type)
        case .moved: TypeStatus(awaitingReply: false)
        }
    }
}

/// What both responses tell the metrics and the pacer.
protocol ADSResponse {
    var type: ResourceType { get }
    var resourceBytes: Int { get }
}

extension SotWResponse: ADSResponse {
    var resourceBytes: Int { resources.reduce(0) { $0 + $1.serializedSize } }
}

extension DeltaResponse: ADSResponse {
    var resourceBytes: Int { resources.reduce(0) { $0 + $1.serializedSize } }
}

/// The newest snapshot handed on and not yet taken, across threads.
final class LatestSnapshotBox: Sendable {
    private let value = Mutex<Snapshot?>(nil)

    /// Keeps `snapshot`; whether the box was empty (the taker must be woken).
    func put(_ snapshot: Snapshot) -> Bool {
        value.withLock { value in
            defer { value = snapshot }
            return value == nil
        }
    }

    func take() -> Snapshot? { value.withLock { $0.take() } }
}

/// gRPC's `grpc-message`: percent-encoded, as the protocol asks.
enum GRPCStatusMessage {
    static func encode(_ message: String) -> String {
        var encoded = ""
        for byte in message.utf8 {
            if byte >= 0x20 && byte <= 0x7E && byte != UInt8(ascii: "%") {
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                encoded += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return encoded
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
