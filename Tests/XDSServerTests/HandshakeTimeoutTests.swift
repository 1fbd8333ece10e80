import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP2
import Testing

@testable import XDSServer

/// The handshake timeout (10 s here), on an embedded loop whose timers fire when the test says,
/// and a clock that says how late they fired.
@Suite struct HandshakeTimeoutTests {
    static func connection(_ clock: GuardClock) throws -> EmbeddedChannel {
        try clock.connect(
            HandshakeTimeoutHandler(timeout: .seconds(10), logger: Logger(label: "test"), now: { clock.now }))
    }

    static let settings = HTTP2Frame(streamID: .rootStream, payload: .settings(.settings([])))

    @Test func onTimeWithoutAHandshakeItCloses() throws {
        let clock = GuardClock()
        let channel = try Self.connection(clock)
        clock.advance(.seconds(10))
        #expect(!channel.isActive)
    }

    @Test func firedLateItLooksAgainAfterTheLoopHasRead() throws {
        let clock = GuardClock()
        let channel = try Self.connection(clock)
        defer { _ = try? channel.finish() }
        // The loop was held for 15 s past the timeout: the client's SETTINGS may be unread.
        clock.hold(.seconds(25), timersDueWithin: .seconds(10))
        #expect(channel.isActive)
        // Read once the loop has had its turn: the handshake is done, and the timer gone.
        try channel.writeInbound(Self.settings)
        clock.advance(.seconds(60))
        #expect(channel.isActive)
    }

    @Test func firedLateWithNoHandshakeSinceItClosesAtTheSecondLook() throws {
        let clock = GuardClock()
        let channel = try Self.connection(clock)
        clock.hold(.seconds(25), timersDueWithin: .seconds(10))
        #expect(channel.isActive)
        // It looks again as long after as it was late, at most the timeout; on time now.
        clock.advance(.seconds(10))
        #expect(!channel.isActive)
    }
}
