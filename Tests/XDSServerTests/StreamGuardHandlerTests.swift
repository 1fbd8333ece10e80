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
            budget: RequestMemoryBudget(limit: 1 << 20), maxMessageBytes: 1 << 20, connection: nil,
            logger: Logger(label: "test"))
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
