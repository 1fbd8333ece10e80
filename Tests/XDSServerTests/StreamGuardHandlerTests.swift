import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP2
import Testing

@testable import XDSServer

/// The guard hands gRPC an empty DATA frame after each frame that ends on a message boundary, so
/// gRPC's deframer lets go of the last message's buffer (see `releaseDeframerBuffer`).
@Suite struct StreamGuardHandlerTests {
    /// What reaches gRPC: the readable bytes of each DATA frame, and whether it ended the stream.
    final class Recorder: ChannelInboundHandler {
        typealias InboundIn = HTTP2Frame.FramePayload
        var frames: [(bytes: Int, endStream: Bool)] = []

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard case .data(let body) = unwrapInboundIn(data), case .byteBuffer(let buffer) = body.data else { return }
            frames.append((buffer.readableBytes, body.endStream))
        }
    }

    /// A gRPC message: the uncompressed flag, the length, then `length` bytes.
    static func message(_ length: Int) -> [UInt8] {
        [0, UInt8(length >> 24 & 0xFF), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)]
            + [UInt8](repeating: 7, count: length)
    }

    static func channel() throws -> (EmbeddedChannel, Recorder) {
        let channel = EmbeddedChannel()
        let recorder = Recorder()
        let guardHandler = StreamGuardHandler(
            budget: RequestMemoryBudget(limit: 1 << 20), maxMessageBytes: 1 << 20, maxWait: .seconds(20),
            connection: nil, gate: nil, logger: Logger(label: "test"))
        try channel.pipeline.syncOperations.addHandlers([guardHandler, recorder])
        return (channel, recorder)
    }

    static func send(_ bytes: ArraySlice<UInt8>, endStream: Bool = false, to channel: EmbeddedChannel) throws {
        let frame = HTTP2Frame.FramePayload.data(
            .init(data: .byteBuffer(ByteBuffer(bytes: bytes)), endStream: endStream))
        try channel.writeInbound(frame)
    }

    @Test func anEmptyFrameFollowsEachFrameThatEndsAMessage() throws {
        let (channel, recorder) = try Self.channel()
        defer { _ = try? channel.finish() }
        let first = Self.message(100)
        // Split inside the prefix, then inside the body: no message ends until the third frame.
        try Self.send(first[0..<3], to: channel)
        try Self.send(first[3..<50], to: channel)
        #expect(recorder.frames.map(\.bytes) == [3, 47])
        try Self.send(first[50...], to: channel)
        #expect(recorder.frames.map(\.bytes) == [3, 47, 55, 0])
        // Two whole messages in one frame, then one that ends inside a third message.
        let two = Self.message(10) + Self.message(20)
        try Self.send(two[...], to: channel)
        let third = Self.message(30)
        try Self.send((Self.message(5) + third[0..<12])[...], to: channel)
        #expect(recorder.frames.map(\.bytes) == [3, 47, 55, 0, 40, 0, 22])
        // The frame that ends the stream is followed by nothing: gRPC takes no DATA after it.
        try Self.send(third[12...], endStream: true, to: channel)
        let frames = recorder.frames
        #expect(frames.map(\.bytes) == [3, 47, 55, 0, 40, 0, 22, 23])
        #expect(frames.last?.endStream == true)
    }
}

/// A message that does not fit in the request memory waits with its frames kept, its connection
/// reading nothing, and goes on whole and in order once its bytes are reserved.
@Suite struct StreamGuardWaitTests {
    /// Counts the reads that get past the gate, on the connection's side of it.
    final class Reads: ChannelOutboundHandler {
        typealias OutboundIn = Any
        var count = 0

        func read(context: ChannelHandlerContext) {
            count += 1
            context.read()
        }
    }

    struct Stream {
        let channel: EmbeddedChannel
        let recorder: StreamGuardHandlerTests.Recorder
        let connection: EmbeddedChannel
        let reads: Reads
        let gate: ConnectionReadGate
        let budget: RequestMemoryBudget
    }

    static func stream(maxWait: Duration = .seconds(20)) throws -> Stream {
        let budget = RequestMemoryBudget(limit: 100)
        let loop = EmbeddedEventLoop()
        let connection = EmbeddedChannel(loop: loop)
        let (reads, gate) = (Reads(), ConnectionReadGate())
        try connection.pipeline.syncOperations.addHandlers([reads, gate])
        let channel = EmbeddedChannel(loop: loop)
        let recorder = StreamGuardHandlerTests.Recorder()
        let guardHandler = StreamGuardHandler(
            budget: budget, maxMessageBytes: 100, maxWait: maxWait, connection: nil, gate: gate,
            logger: Logger(label: "test"))
        try channel.pipeline.syncOperations.addHandlers([guardHandler, recorder])
        return Stream(
            channel: channel, recorder: recorder, connection: connection, reads: reads, gate: gate, budget: budget)
    }

    @Test func aWaitingMessageGoesOnWholeOnceReserved() throws {
        let stream = try Self.stream()
        defer { _ = try? stream.channel.finish() }
        #expect(stream.budget.reserve(50))
        // A 10-byte message fits and passes; a 60-byte one, starting in the same frame, waits.
        let first = StreamGuardHandlerTests.message(10)
        let second = StreamGuardHandlerTests.message(60)
        try StreamGuardHandlerTests.send((first + second[0..<20])[...], to: stream.channel)
        try StreamGuardHandlerTests.send(second[20...], endStream: true, to: stream.channel)
        #expect(stream.recorder.frames.isEmpty)
        #expect(stream.budget.waitingCount == 1)
        // The connection reads nothing meanwhile.
        stream.connection.read()
        #expect(stream.reads.count == 0)
        // Room: both frames go on in order, and the read held back is made.
        stream.budget.release(50)
        stream.channel.embeddedEventLoop.run()
        #expect(stream.recorder.frames.map(\.bytes) == [35, 45])
        #expect(stream.recorder.frames.last?.endStream == true)
        #expect(stream.reads.count == 1)
        // The whole message arrived: its bytes are released.
        #expect(stream.budget.inUse == 0)
    }

    @Test func aMessageThatWaitsTooLongIsRefusedAndItsConnectionReadsAgain() throws {
        let stream = try Self.stream(maxWait: .seconds(5))
        defer { _ = try? stream.channel.finish() }
        #expect(stream.budget.reserve(50))
        try StreamGuardHandlerTests.send(StreamGuardHandlerTests.message(60)[0..<30], to: stream.channel)
        try StreamGuardHandlerTests.send(StreamGuardHandlerTests.message(60)[30...], to: stream.channel)
        stream.connection.read()
        #expect(stream.reads.count == 0)
        stream.channel.embeddedEventLoop.advanceTime(by: .seconds(4))
        #expect(stream.budget.waitingCount == 1)
        #expect(try stream.channel.readOutbound(as: HTTP2Frame.FramePayload.self) == nil)
        // Its time is up: trailers saying why, RST_STREAM, out of the queue, and the held read made.
        stream.channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        let refusal = try stream.channel.readOutbound(as: HTTP2Frame.FramePayload.self)
        guard case .headers(let trailers) = refusal else {
            Issue.record("expected trailers, got \(String(describing: refusal))")
            return
        }
        #expect(trailers.headers.first(name: "grpc-status") == "8")
        let message = trailers.headers.first(name: "grpc-message") ?? ""
        #expect(message.contains("waited 5.0 seconds") && message.contains("--max-request-memory"), "\(message)")
        #expect(stream.budget.waitingCount == 0)
        #expect(stream.reads.count == 1 && !stream.gate.closed)
        // Nothing of the message went on, and room made later is not taken by it.
        #expect(stream.recorder.frames.isEmpty)
        stream.budget.release(50)
        stream.channel.embeddedEventLoop.run()
        #expect(stream.budget.inUse == 0 && stream.recorder.frames.isEmpty)
    }

    @Test func aMessageGrantedBeforeItsTimeIsUpIsNotRefused() throws {
        let stream = try Self.stream(maxWait: .seconds(5))
        defer { _ = try? stream.channel.finish() }
        #expect(stream.budget.reserve(50))
        try StreamGuardHandlerTests.send(StreamGuardHandlerTests.message(60)[0..<30], to: stream.channel)
        stream.budget.release(50)
        stream.channel.embeddedEventLoop.advanceTime(by: .seconds(10))
        #expect(stream.recorder.frames.map(\.bytes) == [30])
        #expect(try stream.channel.readOutbound(as: HTTP2Frame.FramePayload.self) == nil)
        #expect(stream.budget.inUse == 60)
    }

    @Test func aStreamThatEndsWhileWaitingGivesUpItsPlace() throws {
        let stream = try Self.stream()
        #expect(stream.budget.reserve(50))
        try StreamGuardHandlerTests.send(StreamGuardHandlerTests.message(60)[0..<30], to: stream.channel)
        #expect(stream.budget.waitingCount == 1)
        stream.connection.read()
        _ = try stream.channel.finish()
        #expect(stream.budget.waitingCount == 0)
        #expect(stream.reads.count == 1)
        stream.budget.release(50)
        #expect(stream.budget.inUse == 0)
    }

    @Test func aSecondMessageOfAConnectionWithOneInProgressIsRefused() throws {
        let stream = try Self.stream()
        defer { _ = try? stream.channel.finish() }
        // Another stream of the connection has a message partly read.
        stream.gate.messagesInProgress = 1
        #expect(stream.budget.reserve(50))
        try StreamGuardHandlerTests.send(StreamGuardHandlerTests.message(60)[0..<30], to: stream.channel)
        #expect(stream.budget.waitingCount == 0)
        let refusal = try stream.channel.readOutbound(as: HTTP2Frame.FramePayload.self)
        guard case .headers(let trailers) = refusal else {
            Issue.record("expected trailers, got \(String(describing: refusal))")
            return
        }
        #expect(trailers.headers.first(name: "grpc-status") == "8")
    }
}
