import Testing

@testable import XDSServer

@Suite("Wait queue")
struct WaitQueueTests {
    @Test("waiters come out in the order they were queued; one that left is skipped wherever it was")
    func order() {
        var queue = WaitQueue<String>()
        for (id, name) in [(1, "a"), (2, "b"), (3, "c"), (4, "d")] { queue.append(UInt64(id), name) }
        #expect(queue.remove(1) == "a")
        #expect(queue.remove(3) == "c")
        #expect(queue.remove(3) == nil)
        #expect(queue.count == 2)
        // The head is looked at without being taken.
        #expect(queue.first()?.waiter == "b")
        #expect(queue.first()?.id == 2)
        #expect(queue.removeFirst()?.waiter == "b")
        #expect(queue.removeFirst()?.waiter == "d")
        #expect(queue.removeFirst() == nil)
        #expect(queue.first() == nil && queue.isEmpty)
    }

    @Test("a waiter set but not queued is counted and found, never served; emptying keeps what it is told to")
    func unqueued() {
        var queue = WaitQueue<String>()
        queue[7] = "told to wait"
        queue.append(8, "queued")
        #expect(queue.count == 2 && queue[7] == "told to wait")
        #expect(queue.first()?.id == 8)
        let removed = queue.removeAll { $0 == "told to wait" }
        #expect(removed == ["queued"])
        #expect(queue.count == 1 && queue.first() == nil)
        // Queued later, it is served then.
        queue.append(7, "queued late")
        #expect(queue.removeFirst()?.waiter == "queued late")
    }
}
