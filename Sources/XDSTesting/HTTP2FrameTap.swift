import NIOCore
import NIOPosix
import Synchronization

/// A TCP relay between an HTTP/2 client and server over plaintext that reads the frame headers
/// going by: what a test needs to see of frames neither side exposes (the sizes of the DATA
/// frames a server sends, the settings a client such as Envoy announces).
public final class HTTP2FrameTap: Sendable {
    /// What passed through, as of now.
    public struct Seen: Sendable {
        /// The largest DATA frame payload the server sent.
        public var largestServerData = 0
        /// How many DATA frames the server sent.
        public var serverDataFrames = 0
        /// SETTINGS_MAX_FRAME_SIZE in the client's SETTINGS, when it sent one.
        public var clientMaxFrameSize: Int?
    }

    public let port: Int
    private let listener: any Channel
    private let state: Recorded

    public var seen: Seen { state.seen.withLock { $0 } }

    /// Listens on a free local port and relays each connection to `targetPort`.
    public static func start(targetPort: Int) async throws -> HTTP2FrameTap {
        let state = Recorded()
        let group = MultiThreadedEventLoopGroup.singleton
        let listener = try await ServerBootstrap(group: group)
            .childChannelOption(.autoRead, value: false)
            .childChannelInitializer { inbound in
                ClientBootstrap(group: inbound.eventLoop)
                    .channelInitializer { outbound in
                        outbound.eventLoop.makeCompletedFuture {
                            try outbound.pipeline.syncOperations.addHandler(
                                Relay(peer: inbound, reader: FrameReader(client: false, state: state)))
                        }
                    }
                    .connect(host: "127.0.0.1", port: targetPort)
                    .flatMap { outbound in
                        inbound.eventLoop.makeCompletedFuture {
                            try inbound.pipeline.syncOperations.addHandler(
                                Relay(peer: outbound, reader: FrameReader(client: true, state: state)))
                            try inbound.syncOptions?.setOption(.autoRead, value: true)
                        }
                    }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return HTTP2FrameTap(port: listener.localAddress!.port!, listener: listener, state: state)
    }

    private init(port: Int, listener: any Channel, state: Recorded) {
        self.port = port
        self.listener = listener
        self.state = state
    }

    public func stop() async {
        try? await listener.close()
    }

    private final class Recorded: Sendable {
        let seen = Mutex(Seen())
    }

    /// Passes bytes to the other side, and reads them as frames on the way.
    private final class Relay: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer

        private let peer: any Channel
        private var reader: FrameReader

        init(peer: any Channel, reader: FrameReader) {
            self.peer = peer
            self.reader = reader
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let bytes = unwrapInboundIn(data)
            reader.read(bytes)
            peer.writeAndFlush(bytes, promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            peer.close(promise: nil)
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }

    /// Frame headers (RFC 9113 §4.1: 24-bit length, type, flags, stream ID) and, for SETTINGS,
    /// their entries (16-bit identifier, 32-bit value).
    private struct FrameReader {
        let client: Bool
        let state: Recorded
        private var pending = ByteBuffer()
        private var prefaceLeft: Int

        init(client: Bool, state: Recorded) {
            self.client = client
            self.state = state
            // The client's connection preface comes before its first frame.
            prefaceLeft = client ? 24 : 0
        }

        mutating func read(_ bytes: ByteBuffer) {
            var bytes = bytes
            pending.writeBuffer(&bytes)
            if prefaceLeft > 0 {
                let skipped = min(prefaceLeft, pending.readableBytes)
                pending.moveReaderIndex(forwardBy: skipped)
                prefaceLeft -= skipped
            }
            while pending.readableBytes >= 9, let word = pending.getInteger(at: pending.readerIndex, as: UInt32.self) {
                let length = Int(word >> 8)
                guard pending.readableBytes >= 9 + length else { break }
                let type = pending.getInteger(at: pending.readerIndex + 3, as: UInt8.self)!
                let flags = pending.getInteger(at: pending.readerIndex + 4, as: UInt8.self)!
                let payload = pending.readerIndex + 9
                state.seen.withLock { seen in
                    if type == 0, !client {
                        seen.serverDataFrames += 1
                        seen.largestServerData = max(seen.largestServerData, length)
                    }
                    // SETTINGS without ACK: entries of 6 bytes.
                    if type == 4, flags & 1 == 0, client {
                        for offset in stride(from: payload, to: payload + length - 5, by: 6)
                        where pending.getInteger(at: offset, as: UInt16.self) == 5 {
                            seen.clientMaxFrameSize = pending.getInteger(at: offset + 2, as: UInt32.self).map(Int.init)
                        }
                    }
                }
                pending.moveReaderIndex(forwardBy: 9 + length)
            }
            pending.discardReadBytes()
        }
    }
}
