import Testing
import XDSCache

@testable import XDSServer

/// Streams asking for the same names share one copy of them.
@Suite("Name interning")
struct NameInternerTests {
    /// Equal names made separately, as each stream's request decodes its own.
    static func names(_ count: Int, prefix: String = "httproute/default/route-") -> [String] {
        (0..<count).map { "\(prefix)\($0)/rule/0" }
    }

    static func storage(_ array: [String]) -> UnsafeRawPointer? {
        array.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) }
    }

    @Test("equal lists come back as one shared array and set; the wildcard is told apart from duplicates")
    func sharesStorage() {
        let interner = NameInterner(limit: 10_000)
        let first = interner.list(Self.names(1000))
        let second = interner.list(Self.names(1000))
        #expect(first.names == Self.names(1000))
        #expect(Self.storage(first.names) == Self.storage(second.names))
        #expect(first.set == Set(Self.names(1000)))
        #expect(!first.wildcard)
        #expect(interner.held == 1000)
        let duplicated = interner.list(["a", "a"])
        #expect(!duplicated.wildcard && duplicated.set == ["a"])
        let wildcard = interner.list(["*", "a"])
        #expect(wildcard.wildcard && wildcard.set == ["a"])
    }

    @Test("past its limit it forgets everything and starts again; values stay equal to those given")
    func bounded() {
        let interner = NameInterner(limit: 2500)
        let a = interner.list(Self.names(1000, prefix: "a"))
        _ = interner.list(Self.names(1000, prefix: "b"))
        #expect(interner.held == 2000)
        let c = interner.list(Self.names(1000, prefix: "c"))
        #expect(interner.held == 1000)
        #expect(c.names == Self.names(1000, prefix: "c"))
        // "a" was forgotten: interned again, a fresh copy (streams holding the old one keep it).
        let again = interner.list(Self.names(1000, prefix: "a"))
        #expect(again.names == a.names && Self.storage(again.names) != Self.storage(a.names))
        let set = interner.set(Set(Self.names(3000, prefix: "d")))
        #expect(set.count == 3000 && interner.held == 3000)
    }

    @Test("two state-of-the-world streams asking for the same endpoints hold one copy of the names")
    func streamsShare() throws {
        let snapshot = try Fixtures.snapshot(clusters: ["a": 1, "b": 2])
        var machines = [SotWStreamStateMachine(), SotWStreamStateMachine()]
        for index in machines.indices {
            _ = machines[index].update(snapshot)
            _ = machines[index].receive(SotWRequest(typeURL: Fixtures.eds, resourceNames: Self.names(500, prefix: "x")))
        }
        let held = machines.map { Self.storage($0.requestedNames(of: .endpoint)) }
        #expect(held[0] != nil && held[0] == held[1])
    }
}
