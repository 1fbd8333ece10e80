import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP2
import Testing

@testable import XDSServer

/// The handshake timeout, on an embedded loop whose timers fire when the test says, and a clock
/// that says how late they fired.
@Suite struct HandshakeTimeoutTests {
    final class Clock {
        var now = NIODeadline.uptimeNanoseconds(1_000_000_000_000)
    }

    static func connection(clock: Clock) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        let handler = HandshakeTimeoutHandler(timeout: .seconds(10), logger: Logger(label: "test"), now: { clock.now })
        try channel.pipeline.syncOperations.addHandler(handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    static let settings = HTTP2Frame(streamID: .rootStream, payload: .settings(.settings([])))

    @Test func onTimeWithoutAHandshakeItCloses() throws {
        let clock = Clock()
        let channel = try Self.connection(clock: clock)
        clock.now = clock.now + .seconds(10)
        channel.embeddedEventLoop.advanceTime(by: .seconds(10))
        #expect(!channel.isActive)
    }

    @Test func firedLateItLooksAgainAfterTheLoopHasRead() throws {
        let clock = Clock()
        let channel = try Self.connection(clock: clock)
        defer { _ = try? channel.finish() }
        // The loop was held for 15 s past the timeout: the client's SETTINGS may be unread.
        clock.now = clock.now + .seconds(25)
        channel.embeddedEventLoop.advanceTime(by: .seconds(10))
        #expect(channel.isActive)
        // Read once the loop has had its turn: the handshake is done, and the timer gone.
        try channel.writeInbound(Self.settings)
        clock.now = clock.now + .seconds(60)
        channel.embeddedEventLoop.advanceTime(by: .seconds(60))
        #expect(channel.isActive)
    }

    @Test func firedLateWithNoHandshakeSinceItClosesAtTheSecondLook() throws {
        let clock = Clock()
        let channel = try Self.connection(clock: clock)
        clock.now = clock.now + .seconds(25)
        channel.embeddedEventLoop.advanceTime(by: .seconds(10))
        #expect(channel.isActive)
        // It looks again as long after as it was late, at most the timeout; on time now.
        clock.now = clock.now + .seconds(10)
        channel.embeddedEventLoop.advanceTime(by: .seconds(10))
        #expect(!channel.isActive)
    }
}
