import Synchronization
import Testing

@testable import RateLimitService

/// A clock the test steps: Unix seconds.
final class SteppedClock: Sendable {
    private let seconds: Atomic<Int64>
    init(_ start: Int64) { seconds = Atomic(start) }
    func advance(by delta: Int64) { seconds.add(delta, ordering: .relaxed) }
    var now: @Sendable () -> Int64 { { [self] in seconds.load(ordering: .relaxed) } }
}

typealias Entry = FixedWindowLimiter.Descriptor.Entry

extension RateLimitTable {
    /// Domain `gw`: route `r` with a rule of 10 a minute on header `x-user` `alice` exactly, one
    /// of 3 a minute per distinct `x-user`, and one of 2 an hour in shadow mode.
    static let example = RateLimitTable(domains: [
        "gw": [
            Node(
                key: "r", value: "r",
                children: [
                    Node(
                        key: "rule-0-match-0", value: "rule-0-match-0",
                        limit: RateLimit(requestsPerUnit: 10, unit: .minute)),
                    Node(key: "rule-1-match-0", limit: RateLimit(requestsPerUnit: 3, unit: .minute)),
                    Node(
                        key: "rule-2-match--1", value: "rule-2-match--1",
                        limit: RateLimit(requestsPerUnit: 2, unit: .hour),
                        shadowMode: true),
                ])
        ]
    ])
}

@Suite struct RateLimitTableTests {
    @Test func matchesLevelByLevel() {
        let table = RateLimitTable.example
        let exact = table.match(domain: "gw", entries: [("r", "r"), ("rule-0-match-0", "rule-0-match-0")])
        #expect(exact?.limit == RateLimit(requestsPerUnit: 10, unit: .minute))
        // A node without a value takes any value: Distinct.
        #expect(
            table.match(domain: "gw", entries: [("r", "r"), ("rule-1-match-0", "bob")])?.limit.requestsPerUnit == 3)
        #expect(
            table.match(domain: "gw", entries: [("r", "r"), ("rule-2-match--1", "rule-2-match--1")])?.shadowMode == true
        )
        // The limit is the last entry's: too few or too many entries, another value, another domain.
        #expect(table.match(domain: "gw", entries: [("r", "r")]) == nil)
        #expect(table.match(domain: "gw", entries: [("r", "r"), ("rule-1-match-0", "x"), ("extra", "x")]) == nil)
        #expect(table.match(domain: "gw", entries: [("r", "r"), ("rule-0-match-0", "other")]) == nil)
        #expect(table.match(domain: "other", entries: [("r", "r"), ("rule-1-match-0", "x")]) == nil)
        #expect(table.match(domain: "gw", entries: []) == nil)
    }
}

@Suite struct FixedWindowLimiterTests {
    static let alice = [Entry(key: "r", value: "r"), Entry(key: "rule-0-match-0", value: "rule-0-match-0")]
    static func user(_ name: String) -> [Entry] {
        [Entry(key: "r", value: "r"), Entry(key: "rule-1-match-0", value: name)]
    }

    @Test func windowKeyIsEnvoyRatelimits() {
        #expect(
            FixedWindowLimiter.key(domain: "gw", entries: Self.user("bob"), windowStart: 120)
                == "gw_r_r_rule-1-match-0_bob_120")
    }

    /// Ten a minute: ten pass with the remaining count going down, the eleventh is over with the
    /// seconds until the window ends, and the next window starts again.
    @Test func fixedWindow() async throws {
        let clock = SteppedClock(1_000_000_040)  // 20 s into a minute
        let limiter = FixedWindowLimiter(store: MemoryCounterStore(now: clock.now), now: clock.now)
        for expected in (0...9).reversed() {
            let decision = try await limiter.decide(
                domain: "gw", descriptors: [.init(entries: Self.alice)], table: .example)
            #expect(decision.overall == .ok)
            #expect(
                decision.statuses == [
                    .init(
                        code: .ok, limit: .init(requestsPerUnit: 10, unit: .minute), remaining: UInt32(expected),
                        resetSeconds: Int64(31 + expected))
                ])
            clock.advance(by: 1)
        }
        let over = try await limiter.decide(domain: "gw", descriptors: [.init(entries: Self.alice)], table: .example)
        #expect(over.overall == .overLimit)
        #expect(
            over.statuses == [
                .init(
                    code: .overLimit, limit: .init(requestsPerUnit: 10, unit: .minute), remaining: 0, resetSeconds: 30)
            ])
        clock.advance(by: 30)
        let next = try await limiter.decide(domain: "gw", descriptors: [.init(entries: Self.alice)], table: .example)
        #expect(next.overall == .ok)
        #expect(next.statuses.first?.remaining == 9)
    }

    @Test func distinctValuesCountApart() async throws {
        let clock = SteppedClock(600)
        let limiter = FixedWindowLimiter(store: MemoryCounterStore(now: clock.now), now: clock.now)
        for _ in 0..<3 {
            #expect(
                try await limiter.decide(domain: "gw", descriptors: [.init(entries: Self.user("ann"))], table: .example)
                    .overall == .ok)
        }
        #expect(
            try await limiter.decide(domain: "gw", descriptors: [.init(entries: Self.user("ann"))], table: .example)
                .overall == .overLimit)
        #expect(
            try await limiter.decide(domain: "gw", descriptors: [.init(entries: Self.user("ben"))], table: .example)
                .overall == .ok)
    }

    /// Over the limit in shadow mode: counted and reported, never refused.
    @Test func shadowModeLetsThrough() async throws {
        let clock = SteppedClock(3600)
        let limiter = FixedWindowLimiter(store: MemoryCounterStore(now: clock.now), now: clock.now)
        let shadow = [Entry(key: "r", value: "r"), Entry(key: "rule-2-match--1", value: "rule-2-match--1")]
        var last: FixedWindowLimiter.Decision?
        for _ in 0..<3 {
            last = try await limiter.decide(domain: "gw", descriptors: [.init(entries: shadow)], table: .example)
        }
        #expect(last?.overall == .ok)
        #expect(
            last?.statuses == [
                .init(
                    code: .ok, limit: .init(requestsPerUnit: 2, unit: .hour), remaining: 0, resetSeconds: 3600,
                    shadowed: true)
            ])
    }

    /// A descriptor's own cost wins over the request's; zero checks without counting; a
    /// descriptor no limit covers passes and is not counted.
    @Test func costsAndUnlimitedDescriptors() async throws {
        let clock = SteppedClock(60)
        let store = MemoryCounterStore(now: clock.now)
        let limiter = FixedWindowLimiter(store: store, now: clock.now)
        let check = try await limiter.decide(
            domain: "gw", descriptors: [.init(entries: Self.alice, hitsAddend: 0)], table: .example)
        #expect(check.statuses.first?.remaining == 10)
        let heavy = try await limiter.decide(
            domain: "gw", descriptors: [.init(entries: Self.alice)], hitsAddend: 7, table: .example)
        #expect(heavy.statuses.first?.remaining == 3)
        let unlimited = try await limiter.decide(
            domain: "gw", descriptors: [.init(entries: [Entry(key: "nope", value: "x")])], table: .example)
        #expect(unlimited.overall == .ok && unlimited.statuses.first?.limit == nil)
        #expect(store.liveCounters == 1)
    }

    /// Distinct values from clients cannot grow the in-memory store past its bound; expired
    /// windows make room again.
    @Test func memoryStoreIsBounded() async throws {
        let clock = SteppedClock(0)
        let store = MemoryCounterStore(maxKeys: 3, now: clock.now)
        for key in ["a", "b", "c"] { _ = try store.increment([.init(key: key, hits: 1, expirySeconds: 60)]) }
        #expect(throws: CounterStoreError.full(3)) {
            try store.increment([.init(key: "d", hits: 1, expirySeconds: 60)])
        }
        #expect(try store.increment([.init(key: "a", hits: 1, expirySeconds: 60)]) == [2])
        clock.advance(by: 61)
        #expect(try store.increment([.init(key: "d", hits: 1, expirySeconds: 60)]) == [1])
        #expect(store.liveCounters == 1)
    }
}
