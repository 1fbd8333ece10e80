import Testing

@testable import XDSServer

@Suite("Shared values kept within a budget")
struct BoundedCacheTests {
    @Test("the oldest go first when the budget is passed; the newest always stays")
    func evictsOldestFirst() {
        var cache = BoundedCache<String, Int>(budget: 10)
        cache.insert(1, for: "a", cost: 4)
        cache.insert(2, for: "b", cost: 4)
        #expect(cache["a"] == 1 && cache["b"] == 2 && cache.total == 8)
        cache.insert(3, for: "c", cost: 4)
        #expect(cache["a"] == nil && cache["b"] == 2 && cache["c"] == 3 && cache.total == 8)
        // Replacing a key moves it to the newest place.
        cache.insert(4, for: "b", cost: 4)
        cache.insert(5, for: "d", cost: 4)
        #expect(cache["c"] == nil && cache["b"] == 4 && cache["d"] == 5)
        // One entry over the budget on its own is kept, alone.
        cache.insert(6, for: "e", cost: 50)
        #expect(cache.count == 1 && cache["e"] == 6 && cache.total == 50)
    }
}
