import Testing
import XDSTesting

@testable import RateLimitService

/// Counters in a real redis-server, shared by limiters as replicas share them.
@Suite(.enabled(if: RedisServerProcess.required, "redis-server is not installed"))
struct RedisCounterStoreTests {
    /// Two replicas, one Redis: ten a minute lets exactly ten through in all.
    @Test func replicasShareOneLimit() async throws {
        let server = try await RedisServerProcess.start()
        defer { server.terminate() }
        let clock = SteppedClock(1_800_000_000)
        let replicas = (0..<2).map { _ in
            FixedWindowLimiter(
                store: RedisCounterStore(host: "127.0.0.1", port: server.port, timeout: .seconds(60)), now: clock.now)
        }
        var allowed = 0
        for index in 0..<30 {
            let decision = try await replicas[index % 2].decide(
                domain: "gw", descriptors: [.init(entries: FixedWindowLimiterTests.alice)], table: .example)
            if decision.overall == .ok { allowed += 1 }
        }
        #expect(allowed == 10)
    }

    /// Redis frozen: a call fails within its timeout. Redis gone: calls fail at once while the
    /// store backs off. Redis back on the same port: counting resumes.
    @Test func outagesFailBoundedAndRecover() async throws {
        let server = try await RedisServerProcess.start()
        // Calls wait 300 ms; connecting may take longer on a busy machine (a refused port fails at once).
        let store = RedisCounterStore(
            host: "127.0.0.1", port: server.port, timeout: .milliseconds(300), connectTimeout: .seconds(60))
        let increment = [CounterIncrement(key: "k", hits: 1, expirySeconds: 60)]
        // Under a sanitizer on a busy machine even a live Redis may miss 300 ms: try until it answers.
        var answered: [UInt64]?
        let warm = ContinuousClock.now + .seconds(60)
        while answered == nil, ContinuousClock.now < warm {
            answered = try? await store.increment(increment)
            if answered == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(answered?.count == 1)
        server.freeze()
        let frozen = await #expect(throws: CounterStoreError.self) { try await store.increment(increment) }
        #expect(frozen?.description.contains("did not answer within") == true)
        server.terminate()
        await #expect(throws: CounterStoreError.self) { try await store.increment(increment) }
        await #expect(throws: CounterStoreError.self) { try await store.increment(increment) }
        let restarted = try await RedisServerProcess.start(port: server.port)
        defer { restarted.terminate() }
        var counted: [UInt64]?
        var tries: UInt64 = 0
        let deadline = ContinuousClock.now + .seconds(30)
        while counted == nil, ContinuousClock.now < deadline {
            tries += 1
            counted = try? await store.increment(increment)
            if counted == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        // A fresh Redis: the count starts again. A try that ran out of time after Redis took it
        // still counted (a busy machine), so the count is at most the number of tries.
        #expect(counted.map { $0.count == 1 && (1...tries).contains($0[0]) } == true, "\(String(describing: counted))")
    }
}
