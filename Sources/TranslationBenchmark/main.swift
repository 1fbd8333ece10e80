import ArgumentParser
import ControlPlane
import Foundation
import GatewayTranslator
import XDSCache
import XDSTesting
import XDSTranslator

/// Measures the cost of turning files into snapshots as `serve` does it (ConfigStore, then the
/// translation): for N HTTPRoutes on one Gateway, each in a file of its own with a Backend and
/// (by default) BackendTrafficPolicies, the first load, then one-file edits (only the edited
/// file is decoded again; the refresh is told its path, as serve's watcher tells it), and the
/// process's resident memory and heap in use across reloads. Each reload edits a file not edited
/// before (while there are such): the heap figure shows what an edited file costs beyond what
/// its first load did, which a day of edits pays for every file.
@main
struct TranslationBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "translate-bench", abstract: "Time and memory to load and translate N HTTPRoutes.")

    @Option(name: .long, parsing: .upToNextOption, help: "Route counts to measure.")
    var routes: [Int] = [100, 1000, 10000]

    @Flag(help: "Leave out the BackendTrafficPolicies (one per Gateway, one per tenth route).")
    var noPolicies = false

    @Option(help: "First loads per count; the best is reported.")
    var runs = 3

    @Option(help: "One-file edits per count (alternating a route with and without a policy).")
    var edits = 20

    @Option(help: "Reloads after which resident memory is read again (a one-file edit each).")
    var reloads = 100

    @Flag(
        help:
            "Refresh as without the watcher's names for the edited file: list the directory and check every file's stamp."
    )
    var unnamed = false

    @Option(help: "Write the configuration for the first route count into this directory and exit (to run serve on).")
    var write: String?

    func run() throws {
        if let write {
            let config = try BenchmarkConfiguration(
                routes: routes.first ?? 1000, policies: !noPolicies, in: URL(fileURLWithPath: write))
            print(config.directory.path)
            return
        }
        let parent = try SwitchboardCommand.temporaryDirectory("translate-bench")
        defer { try? FileManager.default.removeItem(at: parent) }
        print(
            "routes  files  first load: read+decode  translate  total     | one-file edit p50  max       "
                + "| RSS first  after \(reloads) reloads")
        for count in routes {
            let config = try BenchmarkConfiguration(routes: count, policies: !noPolicies, in: parent)
            var best: [Double]?
            var store = ConfigStore(paths: [config.directory.path])
            // What serve's reloader keeps between reloads: the last translation, for reuse.
            var memo = Translation.Memo()
            for _ in 0..<runs {
                store = ConfigStore(paths: [config.directory.path])
                memo = Translation.Memo()
                let sample = try Self.reloadInParts(&store, memo: &memo, changed: nil)
                if best == nil || sample.reduce(0, +) < best!.reduce(0, +) { best = sample }
            }
            ProcessMemory.trim()
            let firstRSS = ProcessMemory.residentBytes ?? 0
            let firstHeap = ProcessMemory.heapInUseBytes ?? 0
            var editTimes: [Double] = []
            var parts: [[Double]] = []
            for edit in 1...max(1, edits) {
                // Every other edit touches a route with a policy (index a multiple of 10).
                let index = edit % 2 == 0 ? (edit * 10) % count : (edit * 10 + 1) % count
                let path = try config.setRoute(index, edit: edit)
                let sample = try Self.reloadInParts(&store, memo: &memo, changed: unnamed ? nil : [path])
                editTimes.append(sample.reduce(0, +))
                parts.append(sample)
            }
            for edit in 0..<reloads {
                let path = try config.setRoute((edit * 7 + 3) % count, edit: edits + edit + 1)
                _ = try Self.reload(&store, memo: &memo, changed: unnamed ? nil : [path])
            }
            ProcessMemory.trim()
            let lastRSS = ProcessMemory.residentBytes ?? 0
            let lastHeap = ProcessMemory.heapInUseBytes ?? 0
            editTimes.sort()
            let b = best!
            print(
                String(
                    format: "%6d  %5d  %17.1f ms  %6.1f ms  %6.1f ms | %10.1f ms  %6.1f ms | %5.1f MiB  %5.1f MiB",
                    count, config.files, b[0], b[1] + b[2], b.reduce(0, +), editTimes[editTimes.count / 2],
                    editTimes.last!, Double(firstRSS) / 1_048_576, Double(lastRSS) / 1_048_576))
            let median = { (part: Int) in parts.map { $0[part] }.sorted()[parts.count / 2] }
            print(
                String(
                    format:
                        "        one-file edit, medians: refresh %.1f ms, Gateway API → IR %.1f ms, IR → xDS %.1f ms",
                    median(0), median(1), median(2)))
            print(
                String(
                    format: "        first load, best: Gateway API → IR %.1f ms, IR → xDS %.1f ms", b[1], b[2]))
            let reloaded = max(1, edits) + reloads
            print(
                String(
                    format:
                        "        heap in use: %.2f MB after the first load, %.2f MB after %d reloads (%d bytes per reload)",
                    Double(firstHeap) / 1e6, Double(lastHeap) / 1e6, reloaded, (lastHeap - firstHeap) / reloaded))
        }
    }

    /// The same, timing its three parts: refresh, Gateway API → IR, IR → xDS snapshot.
    /// `changed`: the paths serve's watcher would name (nil: list and check every file).
    static func reloadInParts(
        _ store: inout ConfigStore, memo: inout Translation.Memo, changed: Set<String>?
    ) throws -> [Double] {
        let start = ContinuousClock.now
        let refresh = try store.refresh(changed: changed)
        let loaded = ContinuousClock.now
        let output = GatewayTranslator.translate(
            refresh.resources, options: GatewayTranslator.Options().judgingCertificatesNow(), memo: &memo.routes)
        let translated = ContinuousClock.now
        guard refresh.diagnostics.isEmpty,
            output.configs.contains(where: { $0.key == BenchmarkConfiguration.gatewayKey })
        else { throw ValidationError("generated files did not translate: \(refresh.diagnostics.prefix(3))") }
        for config in output.configs {
            // serve's cache checks each snapshot before it is served.
            try SnapshotTranslator.snapshot(config, memo: &memo.snapshots[config.key, default: .init()])
                .checkConsistency()
        }
        let done = ContinuousClock.now
        return [loaded - start, translated - loaded, done - translated].map { $0 / .milliseconds(1) }
    }

    /// One reload as `serve` runs it; milliseconds.
    static func reload(_ store: inout ConfigStore, memo: inout Translation.Memo, changed: Set<String>? = nil) throws
        -> (load: Double, translate: Double)
    {
        let start = ContinuousClock.now
        let refresh = try store.refresh(changed: changed)
        let loaded = ContinuousClock.now
        let result = try Translation.translate(refresh.resources, memo: &memo)
        // serve's cache checks each snapshot before it is served.
        for snapshot in result.snapshots.values { try snapshot.checkConsistency() }
        let translated = ContinuousClock.now
        guard refresh.diagnostics.isEmpty, result.snapshots[BenchmarkConfiguration.gatewayKey] != nil else {
            throw ValidationError("generated files did not translate: \(refresh.diagnostics.prefix(3))")
        }
        return ((loaded - start) / .milliseconds(1), (translated - loaded) / .milliseconds(1))
    }
}
