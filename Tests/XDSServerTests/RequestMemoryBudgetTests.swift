import Synchronization
import Testing

@testable import XDSServer

/// The shared request memory: what does not fit waits, in the order it asked.
@Suite struct RequestMemoryBudgetTests {
    /// Tickets granted so far, in order.
    final class Grants: Sendable {
        let tickets = Mutex<[UInt64]>([])
        var grant: RequestMemoryBudget.Grant { { ticket in self.tickets.withLock { $0.append(ticket) } } }
        var granted: [UInt64] { tickets.withLock { $0 } }
    }

    @Test func waitersAreServedInTheOrderTheyAskedAndNothingJumpsTheQueue() throws {
        let budget = RequestMemoryBudget(limit: 100)
        let grants = Grants()
        #expect(budget.reserve(60))
        #expect(budget.reserveOrQueue(30, grant: grants.grant) == nil)
        // 10 left: 50 waits, then 5 waits behind it though it would fit.
        let big = try #require(budget.reserveOrQueue(50, grant: grants.grant))
        let small = try #require(budget.reserveOrQueue(5, grant: grants.grant))
        #expect(!budget.reserve(5))
        #expect(budget.reserve(0))
        #expect(budget.waitingCount == 2 && budget.inUse == 90)
        // 30 back: 50 still does not fit (60 + 50 > 100), so neither is served.
        budget.release(30)
        #expect(grants.granted.isEmpty)
        // 60 back: both are, in order.
        budget.release(60)
        #expect(grants.granted == [big, small])
        #expect(budget.inUse == 55 && budget.waitingCount == 0)
    }

    @Test func aCancelledWaiterLetsTheNextOneIn() throws {
        let budget = RequestMemoryBudget(limit: 100)
        let grants = Grants()
        #expect(budget.reserve(90))
        let big = try #require(budget.reserveOrQueue(80, grant: grants.grant))
        let small = try #require(budget.reserveOrQueue(10, grant: grants.grant))
        #expect(budget.cancel(big))
        #expect(grants.granted == [small])
        // Granted already: it is not waiting, and its holder releases.
        #expect(!budget.cancel(small))
        budget.release(10)
        budget.release(90)
        #expect(budget.inUse == 0 && budget.waitingCount == 0)
    }
}
