import Logging
import NIOCore
import NIOEmbedded
import Testing

@testable import XDSServer

/// The dead-peer guard (30 s of silence here), on an embedded loop whose timers fire when the
/// test says, and a clock that says how late they fired.
@Suite struct DeadPeerTests {
    static func connection(_ clock: GuardClock) throws -> EmbeddedChannel {
        try clock.connect(DeadPeerHandler(silence: .seconds(30), logger: Logger(label: "test"), now: { clock.now }))
    }

    static func read(_ channel: EmbeddedChannel) throws {
        try channel.writeInbound(ByteBuffer(bytes: [0]))
        _ = try channel.readInbound(as: ByteBuffer.self)
    }

    @Test func silentForTheWholeWindowItCloses() throws {
        let clock = GuardClock()
        let channel = try Self.connection(clock)
        clock.advance(.seconds(29))
        #expect(channel.isActive)
        clock.advance(.seconds(1))
        #expect(!channel.isActive)
    }

    @Test func aReadStartsTheWindowAgain() throws {
        let clock = GuardClock()
        let channel = try Self.connection(clock)
        defer { _ = try? channel.finish() }
        clock.advance(.seconds(20))
        try Self.read(channel)
        clock.advance(.seconds(20))
        #expect(channel.isActive)
    }

    @Test(arguments: [true, false]) func firedLateItLooksAgainBeforeItCloses(peerAnswers: Bool) throws {
        let clock = GuardClock()
        let channel = try Self.connection(clock)
        defer { _ = try? channel.finish() }
        // The loop was held for 40 s past the check: the peer's ping answer may be unread.
        clock.hold(.seconds(70), timersDueWithin: .seconds(30))
        #expect(channel.isActive)
        // It looks again as long after as it was late, at most the window: a peer read meanwhile
        // (once the loop had its turn, and at the next ping) stays; one that sent nothing goes.
        if peerAnswers { try Self.read(channel) }
        clock.advance(.seconds(15))
        if peerAnswers { try Self.read(channel) }
        clock.advance(.seconds(15))
        #expect(channel.isActive == peerAnswers)
    }
}
