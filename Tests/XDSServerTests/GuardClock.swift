import NIOCore
import NIOEmbedded

/// For tests of the connection guards' timers on an embedded loop: the clock a guard reads, and
/// the loop whose timers fire when the test says.
final class GuardClock {
    var now = NIODeadline.uptimeNanoseconds(1_000_000_000_000)
    let channel = EmbeddedChannel()

    /// Adds the guard and connects, so that its timer starts.
    func connect(_ handler: some ChannelHandler) throws -> EmbeddedChannel {
        try channel.pipeline.syncOperations.addHandler(handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    /// Time passes on the clock and the loop together.
    func advance(_ amount: TimeAmount) {
        now = now + amount
        channel.embeddedEventLoop.advanceTime(by: amount)
    }

    /// The loop was held: `held` passes on the clock while the loop runs only the timers due
    /// within `timers`, before it reads anything.
    func hold(_ held: TimeAmount, timersDueWithin timers: TimeAmount) {
        now = now + held
        channel.embeddedEventLoop.advanceTime(by: timers)
    }
}
