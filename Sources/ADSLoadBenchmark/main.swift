import ArgumentParser
import EnvoyAPI
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import GRPCProtobuf
import Synchronization
import XDSCache
import XDSServer
import XDSTesting

/// ADS under load, out of process: `switchboard serve` runs as a child process on a generated
/// configuration (BenchmarkConfiguration: N routes, each with a Backend, a Gateway-wide
/// BackendTrafficPolicy and route policies), and this process opens S ADS streams to it, one
/// gRPC connection each, subscribing as Envoy does (CDS and LDS wildcard, EDS and RDS by name)
/// and ACKing every response. Then it saves two edits, one that changes every cluster and one
/// that changes one, and reports for each: the time from the save until every stream has the new
/// CDS (p50, p99, all), the bytes each stream received, the server's CPU for it and its peak
/// resident memory while it pushed (both from /proc); and the server's peak resident memory
/// while the streams connected and its resident memory per idle stream.
@main
struct ADSLoadBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ads-load", abstract: "ADS fan-out and memory of a running switchboard serve, out of process.")

    @Option(name: .long, parsing: .upToNextOption, help: "Stream counts to measure.")
    var streams: [Int] = [100, 1000]

    @Option(help: "Routes (each with a Backend and two rules: two clusters each).")
    var routes = 1000

    @Option(name: .long, parsing: .upToNextOption, help: "Protocol variants: sotw, delta.")
    var modes: [String] = ["sotw", "delta"]

    @Option(help: "The switchboard binary; by default the one next to this program.")
    var switchboard: String?

    @Option(help: "serve's --debounce.")
    var debounce = "10ms"

    @Option(help: "First port to use (ADS; the admin server takes the next).")
    var port = 18600

    @Option(
        name: .long, parsing: .upToNextOption,
        help: "serve's --push-concurrency values to measure, each in its own run (0: unpaced); serve's default if none."
    )
    var pushConcurrency: [Int] = []

    @Option(
        name: .long, parsing: .upToNextOption,
        help: "Edits to measure: all (every cluster changes), one (one cluster changes).")
    var edits: [String] = ["all", "one"]

    @Option(
        help: "How many times each edit is measured on the same streams, a row each (the noise of one run is large).")
    var rounds = 1

    @Option(help: "serve's --ads-transport: nio or grpc.")
    var adsTransport = "nio"

    @Option(
        help:
            "The largest HTTP/2 frame the streams take (SETTINGS_MAX_FRAME_SIZE): by default what an Envoy started from `switchboard bootstrap` announces; 16384 is HTTP/2's default, an Envoy started from another bootstrap."
    )
    var maxFrameSize = EnvoyBootstrap.maxFrameSize

    func run() async throws {
        guard !edits.isEmpty, edits.allSatisfy({ ["all", "one"].contains($0) }) else {
            throw ValidationError("--edits takes all, one or both")
        }
        guard rounds >= 1 else { throw ValidationError("--rounds must be at least 1") }
        guard (1 << 14)...((1 << 24) - 1) ~= maxFrameSize else {
            throw ValidationError("--max-frame-size must be 16384 to 16777215 (RFC 9113, 6.5.2)")
        }
        let binary =
            switchboard
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("switchboard").path
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw ValidationError("no switchboard binary at \(binary): build it or give --switchboard")
        }
        let parent = FileManager.default.temporaryDirectory.appendingPathComponent("ads-load-\(getpid())")
        defer { try? FileManager.default.removeItem(at: parent) }
        let config = try BenchmarkConfiguration(routes: routes, policies: true, in: parent)
        Self.say(
            "routes=\(routes) (clusters=\(2 * routes): two rules each), debounce=\(debounce); times from the file save until every stream has the new CDS"
        )
        Self.say(
            "mode   pace streams    connect (peak RSS)    RSS/stream | edit     p50       p99       all       bytes/stream  server CPU (reload alone)  peak RSS"
        )
        var edit = 0
        for mode in modes {
            guard let kind = StreamKind(rawValue: mode) else { throw ValidationError("unknown mode \(mode)") }
            for (count, pace) in streams.flatMap({ count in
                (pushConcurrency.isEmpty ? [nil] : pushConcurrency.map { $0 }).map { (count, $0) }
            }) {
                let server = try ServerProcess(
                    binary: binary, config: config.directory.path, port: port, debounce: debounce,
                    maxStreams: count + 16, pushConcurrency: pace, transport: adsTransport)
                defer { server.stop() }
                try await server.waitUntilServing()
                let names = try await Probe.names(port: port)
                Self.progress("serving; measuring the reload alone")
                // The reload alone: the same edits with no stream attached.
                let reloadAll = try await server.cpuOfReload { [edit] in
                    try config.setGatewayPolicy(connectTimeoutMilliseconds: 1001 + edit)
                }
                let reloadOne = try await server.cpuOfReload { [edit] in try config.setRoute(0, edit: edit + 2) }
                edit += 2

                Self.progress("opening \(count) streams")
                let rssBefore = server.residentBytes()
                let heapBefore = await server.heapInUse()
                let load = Load(kind: kind, port: port, names: names, count: count, maxFrameSize: maxFrameSize)
                try await load.run { load in
                    server.resetPeak()
                    let connected = try await load.connect()
                    let connectPeak = server.peakResidentBytes()
                    // Idle memory, once the allocator has handed back what the initial sync freed:
                    // serve trims its heap within 10 s of a reload, and SIGHUP reloads.
                    kill(server.process.processIdentifier, SIGHUP)
                    try await Task.sleep(for: .seconds(12))
                    let rssConnected = server.residentBytes()
                    let heap = await server.heapInUse()
                    Self.progress(
                        "idle: RSS \(rssConnected / 1_048_576) MiB, heap in use \(heap.map { "\($0 / 1_048_576) MiB" } ?? "?") "
                            + "(before streams: RSS \(rssBefore / 1_048_576) MiB, heap \(heapBefore.map { "\($0 / 1_048_576) MiB" } ?? "?"))"
                    )
                    var rows: [String] = []
                    for _ in 1...rounds {
                        for (label, reloadCPU, change) in [
                            (
                                "all", reloadAll,
                                { try config.setGatewayPolicy(connectTimeoutMilliseconds: 1001 + edit) }
                            ),
                            ("one", reloadOne, { try config.setRoute(0, edit: edit + 2) }),
                        ] as [(String, Double, () throws -> Void)] where edits.contains(label) {
                            let outcome = try await load.update(server: server, change)
                            rows.append(
                                String(
                                    format: "%-4@ %7.1f ms %7.1f ms %7.1f ms  %9.1f KiB   %6.3f s (%5.3f s) %5d MiB",
                                    label, outcome.p50, outcome.p99, outcome.all, outcome.bytesPerStream / 1024,
                                    outcome.serverCPU, reloadCPU, outcome.peakResidentBytes / 1_048_576))
                        }
                        edit += 2
                    }
                    let perStream = Double(rssConnected - rssBefore) / Double(count) / 1024
                    // String(format:) does not pad %@ on Linux.
                    let first =
                        mode.padding(toLength: 7, withPad: " ", startingAt: 0)
                        + (pace.map { "\($0)" } ?? "-").padding(toLength: 5, withPad: " ", startingAt: 0)
                        + String(
                            format: "%7d  %7.2f s (%6d MiB)  %6.1f KiB | ", count, connected,
                            connectPeak / 1_048_576, perStream)
                    for (index, row) in rows.enumerated() {
                        Self.say((index == 0 ? first : String(repeating: " ", count: first.count - 2) + "| ") + row)
                    }
                }
                server.stop()
            }
        }
    }
}

extension ADSLoadBenchmark {
    /// Unbuffered, so a run that is stopped keeps what it printed.
    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    static func progress(_ message: String) {
        FileHandle.standardError.write(Data("ads-load: \(message)\n".utf8))
    }
}

enum StreamKind: String {
    case sotw, delta
}

// MARK: - The server

/// `switchboard serve` as a child process.
final class ServerProcess: Sendable {
    let process: Process
    let port: Int

    init(
        binary: String, config: String, port: Int, debounce: String, maxStreams: Int, pushConcurrency: Int?,
        transport: String
    ) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments =
            [
                "serve", "--config", config, "--xds-address", "127.0.0.1:\(port)", "--admin-address",
                "127.0.0.1:\(port + 1)", "--debounce", debounce, "--log-level", "error", "--access-log", "off",
                "--max-streams", "\(maxStreams)", "--max-connections", "\(maxStreams)", "--ads-transport", transport,
            ] + (pushConcurrency.map { ["--push-concurrency", "\($0)"] } ?? [])
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        self.process = process
        self.port = port
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    func waitUntilServing() async throws {
        for _ in 0..<600 {
            guard process.isRunning else { throw ValidationError("switchboard serve exited") }
            if (try? await Probe.names(port: port)) != nil { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ValidationError("switchboard serve did not serve within 60 s")
    }

    /// CPU seconds of the server so far, all its threads', from its process CPU clock: to the
    /// nanosecond, where `/proc/<pid>/stat` counts ticks of 10 ms, coarse beside a push of 50 ms.
    func cpuSeconds() -> Double {
        #if canImport(Glibc)
        var clock = clockid_t()
        var now = timespec()
        if clock_getcpuclockid(process.processIdentifier, &clock) == 0, clock_gettime(clock, &now) == 0 {
            return Double(now.tv_sec) + Double(now.tv_nsec) / 1_000_000_000
        }
        #endif
        guard let stat = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return 0 }
        // Fields after the command name: state is field 3; utime and stime are 14 and 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        let ticks = (Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0)
        return ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Heap bytes allocated and not freed, from serve's /metrics.
    func heapInUse() async -> Int? {
        guard let response = try? await HTTP.get("http://127.0.0.1:\(port + 1)/metrics") else { return nil }
        let line = response.body.split(separator: "\n").first { $0.hasPrefix("process_heap_in_use_bytes ") }
        return line.flatMap { Double($0.split(separator: " ").last ?? "").map { Int($0) } }
    }

    func residentBytes() -> Int { status("VmRSS:") }

    /// The most resident memory since `resetPeak`.
    func peakResidentBytes() -> Int { status("VmHWM:") }

    /// Starts the peak (VmHWM) again from the current resident memory.
    func resetPeak() {
        try? "5".write(toFile: "/proc/\(process.processIdentifier)/clear_refs", atomically: false, encoding: .utf8)
    }

    private func status(_ field: String) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field) })
        else { return 0 }
        return (Int(line.split(separator: " ")[1]) ?? 0) * 1024
    }

    /// Server CPU for `change` with one stream attached: until that stream has a new CDS, plus
    /// a moment for the server to finish its work.
    func cpuOfReload(_ change: @Sendable () throws -> Void) async throws -> Double {
        try await Probe.withStream(port: port) { stream in
            var responses = stream.responses.makeAsyncIterator()
            stream.send(Probe.request(.cluster))
            guard let first = try await responses.next() else { throw ValidationError("no CDS") }
            stream.send(Probe.ack(first))
            try await Task.sleep(for: .milliseconds(500))
            let before = cpuSeconds()
            try change()
            while let response = try await responses.next(), response.versionInfo == first.versionInfo {}
            try await Task.sleep(for: .milliseconds(200))
            return cpuSeconds() - before
        }
    }
}

// MARK: - One probe stream, decoding everything

enum Probe {
    static let group = BenchmarkConfiguration.gatewayKey

    static func request(_ type: ResourceType, names: [String] = []) -> Envoy_Service_Discovery_V3_DiscoveryRequest {
        var request = Envoy_Service_Discovery_V3_DiscoveryRequest()
        request.typeURL = type.typeURL
        request.resourceNames = names
        request.node = ADSTestClient.node(id: "probe", cluster: group)
        return request
    }

    static func ack(_ response: Envoy_Service_Discovery_V3_DiscoveryResponse)
        -> Envoy_Service_Discovery_V3_DiscoveryRequest
    {
        var ack = Envoy_Service_Discovery_V3_DiscoveryRequest()
        ack.typeURL = response.typeURL
        ack.versionInfo = response.versionInfo
        ack.responseNonce = response.nonce
        return ack
    }

    static func withStream<Result: Sendable>(
        port: Int, _ body: @Sendable (SotWTestStream) async throws -> Result
    ) async throws -> Result {
        let transport = try HTTP2ClientTransport.Posix(
            target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext)
        return try await withGRPCClient(transport: transport) { grpc in
            try await ADSTestClient.withSotWStream(ADSTestClient.Client(wrapping: grpc), body)
        }
    }

    /// The EDS and RDS names an Envoy would ask for: the clusters' and the listeners' routes.
    static func names(port: Int) async throws -> [ResourceType: [String]] {
        try await withStream(port: port) { stream in
            var responses = stream.responses.makeAsyncIterator()
            stream.send(request(.cluster))
            guard let clusters = try await responses.next() else { throw ValidationError("no CDS") }
            // Listeners come after the clusters are ACKed, as Envoy's order needs.
            stream.send(ack(clusters))
            stream.send(request(.listener))
            guard let listeners = try await responses.next() else { throw ValidationError("no LDS") }
            let clusterNames = try clusters.resources.map { try Envoy_Config_Cluster_V3_Cluster(unpackingAny: $0).name }
            var routeNames: [String] = []
            for any in listeners.resources {
                let listener = try Envoy_Config_Listener_V3_Listener(unpackingAny: any)
                let chains =
                    listener.filterChains + (listener.hasDefaultFilterChain ? [listener.defaultFilterChain] : [])
                for filter in chains.flatMap(\.filters)
                where filter.typedConfig.typeURL.hasSuffix("HttpConnectionManager") {
                    let manager = try Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager(
                        unpackingAny: filter.typedConfig)
                    if manager.rds.routeConfigName != "" { routeNames.append(manager.rds.routeConfigName) }
                }
            }
            guard !routeNames.isEmpty else { throw ValidationError("no listener names a route configuration") }
            return [.cluster: [], .endpoint: clusterNames, .listener: [], .route: Array(Set(routeNames)).sorted()]
        }
    }
}

// MARK: - The load

/// A response reduced to what a load client needs: its top-level strings, and its size. Reading
/// it costs a pass over the top-level fields, not a decode of every resource: the client shares
/// the two cores with the server and must stay cheap.
struct LightResponse: Sendable {
    var version = ""
    var typeURL = ""
    var nonce = ""
    var bytes = 0
}

/// Reads DiscoveryResponse (version_info 1, type_url 4, nonce 5) and DeltaDiscoveryResponse
/// (system_version_info 1, type_url 4, nonce 5): both put their strings at the same numbers.
struct LightDeserializer: MessageDeserializer {
    func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> LightResponse {
        try serializedMessageBytes.withUnsafeBytes { buffer in
            var response = LightResponse(bytes: buffer.count)
            var offset = 0
            func varint() throws -> UInt64 {
                var value: UInt64 = 0
                var shift: UInt64 = 0
                while offset < buffer.count {
                    let byte = buffer[offset]
                    offset += 1
                    value |= UInt64(byte & 0x7F) << shift
                    if byte & 0x80 == 0 { return value }
                    shift += 7
                }
                throw RPCError(code: .invalidArgument, message: "truncated varint")
            }
            while offset < buffer.count {
                let key = try varint()
                switch key & 7 {
                case 0: _ = try varint()
                case 1: offset += 8
                case 5: offset += 4
                case 2:
                    let length = Int(try varint())
                    guard offset + length <= buffer.count else {
                        throw RPCError(code: .invalidArgument, message: "truncated field")
                    }
                    let text = {
                        String(
                            decoding: UnsafeRawBufferPointer(rebasing: buffer[offset..<offset + length]), as: UTF8.self)
                    }
                    switch key >> 3 {
                    case 1: response.version = text()
                    case 4: response.typeURL = text()
                    case 5: response.nonce = text()
                    default: break
                    }
                    offset += length
                default: throw RPCError(code: .invalidArgument, message: "unexpected wire type")
                }
            }
            return response
        }
    }
}

/// S streams against the server, and what each has seen.
final class Load: Sendable {
    let kind: StreamKind
    let port: Int
    let names: [ResourceType: [String]]
    let count: Int
    let maxFrameSize: Int
    static let types: [ResourceType] = [.cluster, .endpoint, .listener, .route]

    struct Stream: Sendable {
        var synced = false
        var seen: Set<String> = []
        var cds = ""
        var bytes = 0
        var bytesByType: [String: Int] = [:]
        var updatedAt: ContinuousClock.Instant?
        var watching = false
    }

    let state: Mutex<[Stream]>
    /// Streams that failed and were opened again, and the first error.
    let failures = Mutex<(count: Int, first: String?)>((0, nil))

    private func failed(_ index: Int, _ error: any Error) {
        guard !Task.isCancelled else { return }
        failures.withLock { failures in
            failures.count += 1
            if failures.first == nil { failures.first = "\(error)" }
        }
        // What it held is gone: it subscribes again from nothing.
        state.withLock { streams in
            streams[index].seen = []
            streams[index].cds = ""
        }
    }

    init(kind: StreamKind, port: Int, names: [ResourceType: [String]], count: Int, maxFrameSize: Int) {
        self.kind = kind
        self.port = port
        self.names = names
        self.count = count
        self.maxFrameSize = maxFrameSize
        state = Mutex(Array(repeating: Stream(), count: count))
    }

    /// Runs the streams while `body` runs.
    func run(_ body: (Load) async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for index in 0..<count {
                tasks.addTask {
                    // A stream that fails is opened again after a jittered backoff that starts
                    // at 0.5 s and doubles up to 30 s, as Envoy's, but starts over only after a
                    // stream that lasted 30 s, where Envoy starts over on any response. Ten
                    // thousand streams are refused for request memory after their CDS response,
                    // so Envoy's rule keeps them at 0-0.5 s: with a fixed 0.5-1 s they retried
                    // faster than the server freed memory, and connecting measured that storm.
                    var backoff = 500
                    while !Task.isCancelled {
                        let started = ContinuousClock.now
                        do {
                            try await self.stream(index)
                        } catch {
                            self.failed(index, error)
                        }
                        if ContinuousClock.now - started > .seconds(30) { backoff = 500 }
                        try? await Task.sleep(for: .milliseconds(Int.random(in: 0..<backoff)))
                        backoff = min(backoff * 2, 30_000)
                    }
                }
            }
            try await body(self)
            tasks.cancelAll()
        }
    }

    /// Seconds until every stream has every type.
    func connect() async throws -> Double {
        let start = ContinuousClock.now
        try await wait(seconds: 600) { $0.allSatisfy(\.synced) }
        return (ContinuousClock.now - start) / .seconds(1)
    }

    struct Outcome {
        var p50: Double
        var p99: Double
        var all: Double
        var bytesPerStream: Double
        var serverCPU: Double
        var peakResidentBytes: Int
    }

    func update(server: ServerProcess, _ change: () throws -> Void) async throws -> Outcome {
        state.withLock { streams in
            for index in streams.indices {
                streams[index].updatedAt = nil
                streams[index].bytes = 0
                streams[index].bytesByType = [:]
                streams[index].watching = true
            }
        }
        server.resetPeak()
        let cpuBefore = server.cpuSeconds()
        let start = ContinuousClock.now
        try change()
        try await wait(seconds: 600) { $0.allSatisfy { $0.updatedAt != nil } }
        let cpu = server.cpuSeconds() - cpuBefore
        // What else the update sends (endpoints) arrives within moments.
        try await Task.sleep(for: .milliseconds(500))
        let peak = server.peakResidentBytes()
        let byType = state.withLock { streams in
            streams.reduce(into: [String: Int]()) { sum, stream in sum.merge(stream.bytesByType, uniquingKeysWith: +) }
        }
        ADSLoadBenchmark.progress(
            "bytes per stream by type: "
                + byType.sorted { $0.key < $1.key }.map {
                    "\($0.key.split(separator: ".").last!) \($0.value / count / 1024) KiB"
                }
                .joined(separator: ", "))
        let (times, bytes) = state.withLock { streams in
            (streams.map { ($0.updatedAt! - start) / .milliseconds(1) }.sorted(), streams.reduce(0) { $0 + $1.bytes })
        }
        return Outcome(
            p50: times[times.count / 2], p99: times[min(times.count - 1, times.count * 99 / 100)], all: times.last!,
            bytesPerStream: Double(bytes) / Double(count), serverCPU: cpu, peakResidentBytes: peak)
    }

    /// Polls every 5 ms: far below what is measured.
    private func wait(seconds: Int, until condition: ([Stream]) -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(seconds)
        var report = ContinuousClock.now + .seconds(10)
        while !state.withLock({ condition($0) }) {
            guard ContinuousClock.now < deadline else {
                throw ValidationError("streams did not get there in \(seconds) s")
            }
            if ContinuousClock.now > report {
                report = ContinuousClock.now + .seconds(10)
                let seen = state.withLock { streams in
                    Dictionary(
                        grouping: streams,
                        by: { $0.seen.sorted().map { $0.split(separator: ".").last! }.joined(separator: ",") }
                    )
                    .mapValues(\.count)
                }
                let failures = failures.withLock { $0 }
                ADSLoadBenchmark.progress(
                    "still waiting; types seen: \(seen); streams failed and reopened: \(failures.count) \(failures.first ?? "")"
                )
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    private func received(_ index: Int, _ response: LightResponse) {
        let now = ContinuousClock.now
        state.withLock { streams in
            var stream = streams[index]
            stream.bytes += response.bytes
            if stream.watching { stream.bytesByType[response.typeURL, default: 0] += response.bytes }
            stream.seen.insert(response.typeURL)
            if response.typeURL == ResourceType.cluster.typeURL {
                if stream.watching && stream.updatedAt == nil && (kind == .delta || response.version != stream.cds) {
                    stream.updatedAt = now
                }
                stream.cds = response.version
            }
            if !stream.synced && stream.seen.count == Self.types.count { stream.synced = true }
            streams[index] = stream
        }
    }

    private func stream(_ index: Int) async throws {
        var config = HTTP2ClientTransport.Posix.Config.defaults
        config.http2.maxFrameSize = maxFrameSize
        let transport = try HTTP2ClientTransport.Posix(
            target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext, config: config)
        try await withGRPCClient(transport: transport) { grpc in
            switch kind {
            case .sotw: try await sotw(grpc, index: index)
            case .delta: try await delta(grpc, index: index)
            }
        }
    }

    private func sotw(_ grpc: GRPCClient<HTTP2ClientTransport.Posix>, index: Int) async throws {
        let (requests, sink) = AsyncStream.makeStream(of: Envoy_Service_Discovery_V3_DiscoveryRequest.self)
        for type in Self.types {
            var request = Envoy_Service_Discovery_V3_DiscoveryRequest()
            request.typeURL = type.typeURL
            request.resourceNames = names[type]!
            if type == .cluster { request.node = ADSTestClient.node(id: "load-\(index)", cluster: Probe.group) }
            sink.yield(request)
        }
        let names = names
        try await grpc.bidirectionalStreaming(
            request: StreamingClientRequest(of: Envoy_Service_Discovery_V3_DiscoveryRequest.self) { writer in
                for await request in requests { try await writer.write(request) }
            },
            descriptor: Envoy_Service_Discovery_V3_AggregatedDiscoveryService.Method.StreamAggregatedResources
                .descriptor,
            serializer: ProtobufSerializer(), deserializer: LightDeserializer(), options: .defaults
        ) { response in
            for try await message in response.messages {
                var ack = Envoy_Service_Discovery_V3_DiscoveryRequest()
                ack.typeURL = message.typeURL
                ack.versionInfo = message.version
                ack.responseNonce = message.nonce
                ack.resourceNames = ResourceType(typeURL: message.typeURL).flatMap { names[$0] } ?? []
                sink.yield(ack)
                self.received(index, message)
            }
        }
    }

    private func delta(_ grpc: GRPCClient<HTTP2ClientTransport.Posix>, index: Int) async throws {
        let (requests, sink) = AsyncStream.makeStream(of: Envoy_Service_Discovery_V3_DeltaDiscoveryRequest.self)
        for type in Self.types {
            var request = Envoy_Service_Discovery_V3_DeltaDiscoveryRequest()
            request.typeURL = type.typeURL
            request.resourceNamesSubscribe = names[type]!
            if type == .cluster { request.node = ADSTestClient.node(id: "load-\(index)", cluster: Probe.group) }
            sink.yield(request)
        }
        try await grpc.bidirectionalStreaming(
            request: StreamingClientRequest(of: Envoy_Service_Discovery_V3_DeltaDiscoveryRequest.self) { writer in
                for await request in requests { try await writer.write(request) }
            },
            descriptor: Envoy_Service_Discovery_V3_AggregatedDiscoveryService.Method.DeltaAggregatedResources
                .descriptor,
            serializer: ProtobufSerializer(), deserializer: LightDeserializer(), options: .defaults
        ) { response in
            for try await message in response.messages {
                var ack = Envoy_Service_Discovery_V3_DeltaDiscoveryRequest()
                ack.typeURL = message.typeURL
                ack.responseNonce = message.nonce
                sink.yield(ack)
                self.received(index, message)
            }
        }
    }
}
