import Testing
import XDSCache

@testable import XDSServer

@Suite("Snapshot diffs shared by delta streams")
struct SnapshotDiffsTests {
    typealias F = Fixtures

    @Test("added and changed resources in name order, removed names in name order; unchanged ones left out")
    func diff() throws {
        let old = try F.snapshot(clusters: ["a": 1, "b": 2, "c": 3, "d": 4])
        let new = try F.snapshot(clusters: ["a": 1, "b": 20, "e": 5], connectTimeouts: ["a": 7])
        let diffs = SnapshotDiffs()
        let clusters = diffs.diff(.cluster, from: old, to: new)
        #expect(clusters.changed.map(\.name) == ["a", "e"])
        #expect(clusters.removed == ["c", "d"])
        let endpoints = diffs.diff(.endpoint, from: old, to: new)
        #expect(endpoints.changed.map(\.name) == ["b", "e"])
        #expect(endpoints.removed == ["c", "d"])
        #expect(diffs.diff(.listener, from: old, to: new).changed.isEmpty)
        // Asked again, the same answer (from the cache).
        #expect(diffs.diff(.cluster, from: old, to: new).changed.map(\.name) == ["a", "e"])
    }

    @Test("owed load assignments: the changed and the owed, in name order; one list for every stream owed the same set")
    func owedEndpoints() throws {
        let old = try F.snapshot(clusters: ["a": 1, "b": 2, "c": 3, "d": 4])
        let new = try F.snapshot(clusters: ["a": 1, "b": 20, "c": 3, "e": 5], connectTimeouts: ["a": 7, "c": 7])
        let diffs = SnapshotDiffs()
        let owed = diffs.diff(.cluster, from: old, to: new).referencesOfReplaced
        #expect(owed == ["a", "c"])
        let first = diffs.endpoints(owed: owed, from: old, to: new)
        #expect(first.map(\.name) == ["a", "b", "c", "e"])
        // Another stream owed the same set gets the same list, not one of its own.
        let second = diffs.endpoints(
            owed: diffs.diff(.cluster, from: old, to: new).referencesOfReplaced, from: old, to: new)
        #expect(first.withUnsafeBufferPointer { $0.baseAddress } == second.withUnsafeBufferPointer { $0.baseAddress })
        // A stream owed something else gets its own.
        #expect(diffs.endpoints(owed: ["d", "a"], from: old, to: new).map(\.name) == ["a", "b", "e"])
        #expect(diffs.endpoints(owed: owed, from: old, to: new).map(\.name) == ["a", "b", "c", "e"])
    }
}
