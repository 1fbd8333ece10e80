import ControlPlane
import EnvoyAPI
import Foundation
import GRPCCore
import Logging
import Testing
import XDSCache
import XDSServer
import XDSTesting

@Suite("Reloading and limits")
struct ReloaderTests {
    @Test("a result over the resource limit is refused and the current snapshots stay; unchanged files push nothing")
    func resourceLimit() throws {
        let directory = try SwitchboardCommand.configDirectory(
            "reload", files: ["gw.yaml": TestManifests.gatewayWithBackend(listenerPort: 8080, upstreamPort: 3000)])
        let cache = SnapshotCache()
        let reloader = ConfigReloader(
            paths: [directory.path], cache: cache, watcher: nil, maxResources: 4, logger: testLogger())
        #expect(reloader.reload().outcome == .applied)
        let before = try #require(cache.snapshot(for: "default/eg"))
        #expect(reloader.reload().outcome == .unchanged)

        let second = """
            ---
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: more}
            spec:
              parentRefs: [{name: eg}]
              rules: [{matches: [{path: {value: /more}}], backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: backend}]}]
            """
        try second.write(to: directory.appendingPathComponent("more.yaml"), atomically: true, encoding: .utf8)
        let refused = reloader.reload()
        #expect(refused.outcome == .failed)
        #expect(refused.error?.code == .resourceLimit)
        #expect(refused.error?.message.contains("the limit is 4 (--max-resources)") == true)
        #expect(cache.snapshot(for: "default/eg") == before)
    }

    @Test("with the watcher, an edit to a known file is read alone, without listing the files; a new file lists them")
    func namedReload() async throws {
        let directory = try SwitchboardCommand.configDirectory(
            "named-reload", files: ["gw.yaml": TestManifests.gatewayWithBackend(listenerPort: 8080, upstreamPort: 3000)]
        )
        defer { try? FileManager.default.removeItem(at: directory) }
        let cache = SnapshotCache()
        let watcher = FileWatcher(paths: [directory.path], debounce: .milliseconds(50))
        let reloader = ConfigReloader(paths: [directory.path], cache: cache, watcher: watcher, logger: testLogger())
        #expect(reloader.reload().outcome == .applied)
        let route = { (path: String) in
            """
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: more}
            spec:
              parentRefs: [{name: eg}]
              rules: [{matches: [{path: {value: \(path)}}], backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: backend}]}]
            """
        }
        let file = directory.appendingPathComponent("more.yaml")
        func served(_ path: String) -> Bool {
            let routes = cache.snapshot(for: "default/eg")?[.route].sorted ?? []
            return routes.contains { $0.encoded.range(of: Data(path.utf8)) != nil }
        }
        // As `run()` does; the watches are set when `changes()` returns.
        let changes = watcher.changes()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { for await seen in changes { reloader.reload(changeSeenAt: seen, named: true) } }
            // The watcher's first signal reads every file: edits before its watches were unseen.
            try route("/new").write(to: file, atomically: true, encoding: .utf8)
            #expect(await eventually(timeout: .seconds(60)) { served("/new") })
            #expect(reloader.lastResult?.listed == true)
            try route("/edited").write(to: file, atomically: true, encoding: .utf8)
            let named = await eventually(timeout: .seconds(60)) {
                served("/edited") && reloader.lastResult?.listed == false
            }
            #expect(named, "last reload: listed \(String(describing: reloader.lastResult?.listed))")
            group.cancelAll()
        }
    }

    @Test("streams past --max-streams are refused with RESOURCE_EXHAUSTED")
    func streamLimit() async throws {
        let cache = SnapshotCache()
        try await withInProcessADS(watcher: cache, maxStreams: 1) { client, registry in
            try await ADSTestClient.withDeltaStream(client) { first in
                let request = {
                    var request = Envoy_Service_Discovery_V3_DeltaDiscoveryRequest()
                    request.typeURL = ResourceType.cluster.typeURL
                    request.node = ADSTestClient.node(id: "a", cluster: "default/eg")
                    return request
                }()
                first.send(request)
                // Generous: under a sanitizer or a busy machine the in-process stream takes a while.
                let opened = await eventually(timeout: .seconds(60)) { registry.streams.count == 1 }
                #expect(opened)
                do {
                    try await ADSTestClient.withDeltaStream(client) { second in
                        second.send(request)
                        var responses = second.responses.makeAsyncIterator()
                        _ = try await responses.next()
                    }
                    Issue.record("the second stream was not refused")
                } catch let error as RPCError {
                    #expect(error.code == .resourceExhausted)
                    #expect(error.message.contains("--max-streams"))
                }
            }
        }
    }
}
