import ArgumentParser
import CHeap
import EnvoyAPI
import Foundation
import Logging
import SwiftProtobuf
import Synchronization
import XDSCache
import XDSServer
import XDSTesting

/// Measures how fast one snapshot update reaches many ADS streams, and what a stream costs.
///
/// For each stream count N: N in-process ADS streams (gRPC's in-process transport, real
/// serialization, no sockets) subscribe to CDS, EDS, LDS and RDS, ACK every response, and reach
/// the initial snapshot; then one snapshot that changes every cluster and every endpoint is set,
/// and the clock runs until every stream has received both the new CDS and the new EDS. Streams
/// subscribe as Envoy does: CDS and LDS by wildcard, EDS and RDS by name.
@main
struct XDSBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "xds-bench", abstract: "Snapshot update fan-out time and memory per ADS stream.")

    @Option(name: .long, parsing: .upToNextOption, help: "Stream counts to measure.")
    var streams: [Int] = [100, 1000, 5000]

    @Option(name: .long, help: "Clusters in the snapshot (each with a ClusterLoadAssignment).")
    var clusters = 1000

    @Option(name: .long, parsing: .upToNextOption, help: "Protocol variants: sotw, delta.")
    var modes: [String] = ["sotw", "delta"]

    @Option(name: .long, help: "Clusters (with their endpoints) the update changes; all unless given.")
    var changed: Int?

    func run() async throws {
        print(
            "clusters=\(clusters), changed=\(changed ?? clusters); fan-out = set snapshot → every stream has the new CDS and EDS"
        )
        print("mode   streams  initial-sync  fan-out   memory/stream")
        for mode in modes {
            guard let kind = StreamKind(rawValue: mode) else { throw ValidationError("unknown mode \(mode)") }
            for count in streams {
                let result = try await measure(kind: kind, streams: count)
                print(
                    String(
                        format: "%-6@ %7d  %9.1f ms  %7.1f ms  %8.1f KiB", mode, count, result.syncMillis,
                        result.fanOutMillis, result.bytesPerStream / 1024))
            }
        }
    }

    struct Result {
        var syncMillis: Double
        var fanOutMillis: Double
        var bytesPerStream: Double
    }

    func measure(kind: StreamKind, streams count: Int) async throws -> Result {
        let group = "bench/gateway"
        let cache = SnapshotCache()
        let initial = try Self.snapshot(clusters: clusters, generation: 1)
        let updated = try Self.snapshot(clusters: clusters, generation: 2, changed: changed ?? clusters)
        try cache.setSnapshot(initial, for: group)
        let progress = Progress(initial: initial, updated: updated)
        var logger = Logger(label: "bench")
        logger.logLevel = .error

        return try await withInProcessADS(watcher: cache, logger: logger) { client, registry in
            let heapBefore = Self.heapBytesInUse()
            let clock = ContinuousClock()
            let start = clock.now
            return try await withThrowingTaskGroup(of: Void.self) { tasks in
                for index in 0..<count {
                    tasks.addTask {
                        switch kind {
                        case .sotw: try await Self.sotwClient(client, index: index, group: group, progress: progress)
                        case .delta: try await Self.deltaClient(client, index: index, group: group, progress: progress)
                        }
                    }
                }
                await progress.wait { $0.synced >= count }
                let synced = clock.now
                let heapSynced = Self.heapBytesInUse()
                try cache.setSnapshot(updated, for: group)
                await progress.wait { $0.updated >= count }
                let done = clock.now
                precondition(registry.streams.count == count)
                tasks.cancelAll()
                while (try? await tasks.next()) != nil {}
                return Result(
                    syncMillis: (synced - start) / .milliseconds(1), fanOutMillis: (done - synced) / .milliseconds(1),
                    bytesPerStream: Double(heapSynced - heapBefore) / Double(count))
            }
        }
    }

    // MARK: - Clients

    /// The types an Envoy without TLS subscribes to (it never asks for SDS).
    static let subscribed: [ResourceType] = [.cluster, .endpoint, .listener, .route]

    /// What an Envoy subscribes to: CDS and LDS wildcard, EDS and RDS by name.
    static func names(_ snapshot: Snapshot) -> [ResourceType: [String]] {
        [.cluster: [], .endpoint: snapshot[.endpoint].names, .listener: [], .route: snapshot[.route].names]
    }

    static func sotwClient(
        _ client: InProcessADSClient, index: Int, group: String, progress: Progress
    ) async throws {
        let names = names(progress.initial)
        try await ADSTestClient.withSotWStream(client) { stream in
            for type in subscribed {
                var request = Envoy_Service_Discovery_V3_DiscoveryRequest()
                request.typeURL = type.typeURL
                request.resourceNames = names[type]!
                if type == .cluster { request.node = ADSTestClient.node(id: "bench-\(index)", cluster: group) }
                stream.send(request)
            }
            var tracker = StreamTracker()
            for try await response in stream.responses {
                var ack = Envoy_Service_Discovery_V3_DiscoveryRequest()
                ack.typeURL = response.typeURL
                ack.versionInfo = response.versionInfo
                ack.responseNonce = response.nonce
                ack.resourceNames = names[ResourceType(typeURL: response.typeURL)!]!
                stream.send(ack)
                tracker.received(response.typeURL, version: response.versionInfo, progress: progress)
            }
        }
    }

    static func deltaClient(
        _ client: InProcessADSClient, index: Int, group: String, progress: Progress
    ) async throws {
        let names = names(progress.initial)
        try await ADSTestClient.withDeltaStream(client) { stream in
            for type in subscribed {
                var request = Envoy_Service_Discovery_V3_DeltaDiscoveryRequest()
                request.typeURL = type.typeURL
                request.resourceNamesSubscribe = names[type]!
                if type == .cluster { request.node = ADSTestClient.node(id: "bench-\(index)", cluster: group) }
                stream.send(request)
            }
            var tracker = StreamTracker()
            for try await response in stream.responses {
                var ack = Envoy_Service_Discovery_V3_DeltaDiscoveryRequest()
                ack.typeURL = response.typeURL
                ack.responseNonce = response.nonce
                stream.send(ack)
                tracker.received(response.typeURL, version: response.systemVersionInfo, progress: progress)
            }
        }
    }

    /// What one client stream has seen; it reports to `Progress` once synced and once updated.
    struct StreamTracker {
        var versions: [String: String] = [:]
        var synced = false
        var updated = false

        mutating func received(_ typeURL: String, version: String, progress: Progress) {
            versions[typeURL] = version
            if !synced && subscribed.allSatisfy({ versions[$0.typeURL] == progress.initial.version(of: $0) }) {
                synced = true
                progress.count { $0.synced += 1 }
            }
            if !updated
                && [ResourceType.cluster, .endpoint].allSatisfy({
                    versions[$0.typeURL] == progress.updated.version(of: $0)
                })
            {
                updated = true
                progress.count { $0.updated += 1 }
            }
        }
    }

    final class Progress: Sendable {
        struct Counts: Sendable {
            var synced = 0
            var updated = 0
        }

        let initial: Snapshot
        let updated: Snapshot
        private let counts = Mutex(Counts())

        init(initial: Snapshot, updated: Snapshot) {
            self.initial = initial
            self.updated = updated
        }

        func count(_ change: (inout Counts) -> Void) { counts.withLock { change(&$0) } }

        /// Polls every millisecond: the error this adds is far below what is measured.
        func wait(until condition: (Counts) -> Bool) async {
            while !counts.withLock({ condition($0) }) { try? await Task.sleep(for: .milliseconds(1)) }
        }
    }

    // MARK: - Fixtures and measurement

    /// `clusters` EDS clusters with one endpoint each, one listener and one route configuration.
    /// A new generation changes the first `changed` clusters (their connect timeout) and their
    /// endpoints (the port); the others stay as in generation 1.
    static func snapshot(clusters: Int, generation: Int, changed: Int? = nil) throws -> Snapshot {
        var resources: [Resource] = []
        resources.reserveCapacity(clusters * 2 + 2)
        for index in 0..<clusters {
            let generation = index < (changed ?? clusters) ? generation : 1
            let name = "httproute/default/route-\(index)/rule/0"
            resources.append(try Resource(TestResources.edsCluster(name, connectTimeoutSeconds: Int64(generation))))
            resources.append(
                try Resource(
                    TestResources.loadAssignment(
                        name, endpoints: [("10.0.\(index / 250).\(index % 250)", 8000 + generation)])))
        }
        resources.append(
            try Resource(
                TestResources.httpListener("default/gateway/http", port: 10080, routeConfigName: "default/gateway/http")
            ))
        resources.append(
            try Resource(
                TestResources.routeConfiguration(
                    "default/gateway/http",
                    routes: (0..<min(clusters, 100)).map { ("/r\($0)", "httproute/default/route-\($0)/rule/0") })))
        return try Snapshot(resources)
    }

    /// Resident memory after handing freed heap back to the kernel (glibc `malloc_trim`), so the
    /// figure is what streams hold rather than transient peaks the allocator kept.
    static func heapBytesInUse() -> Int {
        _ = switchboard_heap_trim()
        return switchboard_resident_bytes()
    }
}
