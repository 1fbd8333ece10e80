import ArgumentParser
import ControlPlane
import Foundation
import Logging
import XDSCache
import XDSServer
import XDSTesting

/// Measures what an operator waits for: from saving a file to every connected Envoy having
/// ACKed the result. Switchboard runs in this process (file watcher with its debounce, reload,
/// translation, ADS over a real socket); the Envoys are real processes. Each edit changes a
/// BackendTrafficPolicy's connect timeout, which changes one cluster (and resends its endpoints).
@main
struct ReloadBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload-bench",
        abstract: "File save → Envoy ACK latency with real Envoys (needs ENVOY_BIN or .venv).")

    @Option(name: .long, parsing: .upToNextOption, help: "Numbers of Envoys to measure with.")
    var envoys: [Int] = [1, 20]

    @Option(help: "Edits per run.")
    var edits = 50

    @Option(help: "inotify or poll.")
    var watchMode = "inotify"

    @Option(help: "Watcher debounce in milliseconds.")
    var debounceMs = 100

    @Option(help: "delta or sotw.")
    var stream = "delta"

    func run() async throws {
        print(
            "edits=\(edits) watch=\(watchMode) debounce=\(debounceMs)ms stream=\(stream); latency = file saved → every Envoy ACKed the new CDS"
        )
        print("envoys      p50        p90        p99        max")
        for count in envoys {
            let samples = try await measure(envoys: count)
            let sorted = samples.sorted()
            func pick(_ q: Double) -> String {
                String(format: "%7.1f ms", sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))])
            }
            print(
                String(format: "%6d", count) + "  "
                    + [pick(0.5), pick(0.9), pick(0.99), pick(1.0)].joined(separator: "  "))
        }
    }

    func measure(envoys count: Int) async throws -> [Double] {
        let directory = try SwitchboardCommand.temporaryDirectory("reload-bench")
        defer { try? FileManager.default.removeItem(at: directory) }
        let listenerPort = try freePort()
        try TestManifests.gatewayWithBackend(listenerPort: listenerPort, upstreamPort: 9)
            .write(to: directory.appendingPathComponent("gateway.yaml"), atomically: true, encoding: .utf8)
        @Sendable func writePolicy(_ seconds: Int) throws {
            try """
            apiVersion: gateway.envoyproxy.io/v1alpha1
            kind: BackendTrafficPolicy
            metadata: {name: bench}
            spec:
              targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: backend}]
              timeout: {tcp: {connectTimeout: \(seconds)s}}
            """.write(to: directory.appendingPathComponent("policy.yaml"), atomically: true, encoding: .utf8)
        }
        try writePolicy(1)

        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let cache = SnapshotCache()
        let watcher = FileWatcher(
            paths: [directory.path], mode: watchMode == "poll" ? .poll : .inotify, debounce: .milliseconds(debounceMs))
        let reloader = ConfigReloader(paths: [directory.path], cache: cache, watcher: watcher, logger: logger)
        reloader.reload()
        return try await withADSServer(watcher: cache, logger: logger) { server, xdsPort in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await reloader.run() }
                var processes: [EnvoyProcess] = []
                for index in 0..<count {
                    processes.append(
                        try await EnvoyProcess.start(
                            bootstrap: EnvoyProcess.bootstrap(
                                xdsPort: xdsPort, mode: stream == "sotw" ? .sotw : .delta, nodeID: "bench-\(index)",
                                nodeCluster: "default/eg"),
                            logLevel: "warn"))
                }
                func allAcked(_ version: String) -> Bool {
                    let streams = server.registry.streams
                    return streams.count == count
                        && streams.allSatisfy { $0.types[.cluster]?.lastAckedVersion == version }
                }
                guard
                    await eventually(
                        timeout: .seconds(60), { allAcked(cache.snapshot(for: "default/eg")!.version(of: .cluster)) })
                else {
                    throw ValidationError("the Envoys did not all connect and ACK")
                }
                var samples: [Double] = []
                for edit in 0..<edits {
                    let before = cache.snapshot(for: "default/eg")!.version(of: .cluster)
                    let saved = ContinuousClock.now
                    try writePolicy(2 + edit % 2)
                    var done = false
                    while !done {
                        try await Task.sleep(for: .milliseconds(1))
                        let current = cache.snapshot(for: "default/eg")!.version(of: .cluster)
                        done = current != before && allAcked(current)
                        if ContinuousClock.now - saved > .seconds(30) {
                            throw ValidationError("edit \(edit) was not ACKed in 30 s")
                        }
                    }
                    let elapsed = ContinuousClock.now - saved
                    samples.append((elapsed / .milliseconds(1)))
                    try await Task.sleep(for: .milliseconds(50))
                }
                for process in processes { await process.stop() }
                group.cancelAll()
                return samples
            }
        }
    }
}
