import Testing

@testable import XDSCache

/// A resource's references keep one name without a set, and read the same as the set they
/// were made from.
@Suite struct ReferencesTests {
    @Test(arguments: [Set<String>(), ["a"], ["a", "b"], ["x", "y", "z"]])
    func readsAsTheSet(_ names: Set<String>) {
        let references = References(names)
        #expect(Set(references) == names)
        #expect(Array(references).count == names.count, "each name once")
        #expect(references.count == names.count)
        #expect(references.isEmpty == names.isEmpty)
        for name in names { #expect(references.contains(name)) }
        #expect(!references.contains("other"))
        #expect(references == References(names))
        #expect(references.sorted() == names.sorted())
    }

    @Test func differentNamesDiffer() {
        #expect(References(["a"]) != References(["b"]))
        #expect(References(["a"]) != References(["a", "b"]))
        #expect(References([]) != References(["a"]))
        #expect(["a"] == References(["a"]))
    }
}
