import Synchronization
import Testing
import XDSCache
import XDSTesting

@Suite("Snapshot cache")
struct SnapshotCacheTests {
    func snapshot(port: Int) throws -> Snapshot {
        try TestResources.snapshot(listenerPort: 10080, clusters: [("a", [("127.0.0.1", port)])])
    }

    @Test("a watch gets the current snapshot, then each new one, per node group")
    func watches() async throws {
        let cache = SnapshotCache()
        let first = try snapshot(port: 1)
        try cache.setSnapshot(first, for: "ns/gw")
        var updates = cache.watch(nodeGroup: "ns/gw").makeAsyncIterator()
        #expect(await updates.next() == first)
        let second = try snapshot(port: 2)
        #expect(try cache.setSnapshot(second, for: "ns/gw"))
        try cache.setSnapshot(try snapshot(port: 3), for: "ns/other")
        #expect(await updates.next() == second)
        #expect(cache.nodeGroups == ["ns/gw", "ns/other"])
    }

    @Test("a callback watch is called with the current snapshot and each new one, until cancelled")
    func callbackWatch() throws {
        let cache = SnapshotCache()
        let first = try snapshot(port: 1)
        try cache.setSnapshot(first, for: "g")
        let seen = Mutex<[Snapshot]>([])
        let watch = cache.watch(nodeGroup: "g") { snapshot in seen.withLock { $0.append(snapshot) } }
        let second = try snapshot(port: 2)
        try cache.setSnapshot(second, for: "g")
        try cache.setSnapshot(try snapshot(port: 3), for: "other")
        #expect(seen.withLock { $0 } == [first, second])
        #expect(cache.watchCount(nodeGroup: "g") == 1)
        watch.cancel()
        watch.cancel()
        #expect(cache.watchCount(nodeGroup: "g") == 0)
        try cache.setSnapshot(try snapshot(port: 4), for: "g")
        #expect(seen.withLock { $0 } == [first, second])
    }

    @Test("setting an equal snapshot notifies nobody")
    func equalSnapshot() throws {
        let cache = SnapshotCache()
        #expect(try cache.setSnapshot(try snapshot(port: 1), for: "g"))
        #expect(try cache.setSnapshot(try snapshot(port: 1), for: "g") == false)
    }

    @Test("an inconsistent snapshot is refused and the current one stays")
    func refusesInconsistent() throws {
        let cache = SnapshotCache()
        let good = try snapshot(port: 1)
        try cache.setSnapshot(good, for: "g")
        let broken = try Snapshot([try Resource(TestResources.edsCluster("lonely"))])
        #expect(
            throws: SnapshotError.missingReference(from: .cluster, name: "lonely", to: .endpoint, missing: "lonely")
        ) {
            try cache.setSnapshot(broken, for: "g")
        }
        #expect(cache.snapshot(for: "g") == good)
    }

    @Test("a watch whose consumer stops is released")
    func releasesWatch() async throws {
        let cache = SnapshotCache()
        try cache.setSnapshot(try snapshot(port: 1), for: "g")
        let task = Task {
            for await _ in cache.watch(nodeGroup: "g") {}
        }
        #expect(await eventually { cache.watchCount(nodeGroup: "g") == 1 })
        task.cancel()
        #expect(await eventually { cache.watchCount(nodeGroup: "g") == 0 })
    }
}
