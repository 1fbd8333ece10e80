import AdminAPI
import Testing

@testable import ControlPlane

@Suite struct JSONDiffTests {
    func changes(_ old: String, _ new: String) throws -> [String] {
        JSONDiff.changes(try JSONValue.parse(old), try JSONValue.parse(new), path: "")
    }

    @Test func scalarsAndMissingFields() throws {
        #expect(
            try changes(#"{"a":1,"b":"x"}"#, #"{"a":2,"c":true}"#) == ["a: 1 → 2", "b: x → (none)", "c: (none) → true"])
        #expect(try changes(#"{"a":[1,2]}"#, #"{"a":[1,2]}"#).isEmpty)
    }

    @Test func listsOfNamedItemsMatchByName() throws {
        // One filter added in front: one change, not a shift of every later item.
        let old = #"{"filters":[{"name":"router","x":1}]}"#
        let new = #"{"filters":[{"name":"fault","x":0},{"name":"router","x":1}]}"#
        #expect(try changes(old, new) == ["filters[fault]: (none) → {name: fault, x: 0}"])
    }

    @Test func otherListsMatchByPosition() throws {
        #expect(try changes(#"{"a":[1,2]}"#, #"{"a":[1,3,4]}"#) == ["a[1]: 2 → 3", "a[2]: (none) → 4"])
    }
}
