import ControlPlane
import Testing

@Suite("HeapTrimmer policy")
struct HeapTrimmerTests {
    /// Whether the policy trims at each tick, given the counters read at it.
    static func decisions(_ ticks: [[Int]]) -> [Bool] {
        var policy = HeapTrimmer.Policy()
        return ticks.map { policy.shouldTrim($0) }
    }

    @Test("trims at a tick when streams ended or reloads ran since the last tick, and not otherwise")
    func trimsAfterReleases() {
        let ticks = [[0, 0], [0, 1], [0, 1], [1000, 1], [1000, 1], [1000, 1], [1000, 2]]
        #expect(Self.decisions(ticks) == [false, true, false, true, false, false, true])
    }

    @Test("what was released before the first tick is trimmed at it")
    func firstTick() {
        #expect(Self.decisions([[1000, 1], [1000, 1]]) == [true, false])
    }
}
