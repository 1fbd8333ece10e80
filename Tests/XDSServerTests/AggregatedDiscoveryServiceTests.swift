import EnvoyAPI
import GRPCCore
import GRPCNIOTransportHTTP2
import Testing
import XDSCache
import XDSServer
import XDSTesting

@Suite("ADS service, on either transport")
struct AggregatedDiscoveryServiceTests {
    static let group = "default/gw"

    /// A cache holding one cluster, `a`, for `group`.
    static func cache() throws -> SnapshotCache {
        let cache = SnapshotCache()
        try cache.setSnapshot(try Fixtures.snapshot(clusters: ["a": 1]), for: group)
        return cache
    }

    func sotwRequest(_ type: ResourceType, names: [String] = [], node: Bool = true, cluster: String = group)
        -> Envoy_Service_Discovery_V3_DiscoveryRequest
    {
        var request = Envoy_Service_Discovery_V3_DiscoveryRequest()
        request.typeURL = type.typeURL
        request.resourceNames = names
        if node { request.node = ADSTestClient.node(id: "envoy-1", cluster: cluster) }
        return request
    }

    func deltaRequest(_ type: ResourceType, subscribe: [String] = [], cluster: String = group)
        -> Envoy_Service_Discovery_V3_DeltaDiscoveryRequest
    {
        var request = Envoy_Service_Discovery_V3_DeltaDiscoveryRequest()
        request.typeURL = type.typeURL
        request.resourceNamesSubscribe = subscribe
        request.node = ADSTestClient.node(id: "envoy-1", cluster: cluster)
        return request
    }

    @Test(
        "a state-of-the-world stream that goes away releases its watch and its record",
        arguments: ADSServerConfiguration.Transport.allCases)
    func sotwStreamReleases(transport: ADSServerConfiguration.Transport) async throws {
        let cache = try Self.cache()
        try await withADSClient(transport: transport, watcher: cache) { client, registry in
            try await ADSTestClient.withSotWStream(client) { stream in
                stream.send(sotwRequest(.cluster))
                var responses = stream.responses.makeAsyncIterator()
                let response = try #require(try await responses.next())
                #expect(response.resources.count == 1)
                #expect(cache.watchCount(nodeGroup: Self.group) == 1)
                #expect(registry.streams.map(\.nodeID) == ["envoy-1"])
                #expect(registry.streams.first?.kind == .sotw)
                #expect(registry.streams.first?.types[.cluster]?.lastSentNonce == response.nonce)
            }
            let released = await eventually { cache.watchCount(nodeGroup: Self.group) == 0 && registry.streams.isEmpty }
            #expect(released, "the closed stream still holds its watch or record")
        }
    }

    @Test(
        "a delta stream gets a cluster added alone, and releases its watch and its record when it goes away",
        arguments: ADSServerConfiguration.Transport.allCases)
    func deltaStreamReleases(transport: ADSServerConfiguration.Transport) async throws {
        let cache = try Self.cache()
        try await withADSClient(transport: transport, watcher: cache) { client, registry in
            try await ADSTestClient.withDeltaStream(client) { stream in
                stream.send(deltaRequest(.cluster))
                var responses = stream.responses.makeAsyncIterator()
                let response = try #require(try await responses.next())
                #expect(response.resources.map(\.name) == ["a"])
                #expect(cache.watchCount(nodeGroup: Self.group) == 1)
                #expect(registry.streams.first?.kind == .delta)
                try cache.setSnapshot(try Fixtures.snapshot(clusters: ["a": 1, "b": 2]), for: Self.group)
                var ack = deltaRequest(.cluster)
                ack.responseNonce = response.nonce
                stream.send(ack)
                let update = try #require(try await responses.next())
                #expect(update.resources.map(\.name) == ["b"])
                #expect(update.nonce != response.nonce)
            }
            let released = await eventually { cache.watchCount(nodeGroup: Self.group) == 0 && registry.streams.isEmpty }
            #expect(released, "the closed stream still holds its watch or record")
        }
    }

    @Test(
        "a new snapshot reaches an open stream; a NACK is recorded in the registry",
        arguments: ADSServerConfiguration.Transport.allCases)
    func snapshotUpdateAndNack(transport: ADSServerConfiguration.Transport) async throws {
        let cache = try Self.cache()
        try await withADSClient(transport: transport, watcher: cache) { client, registry in
            try await ADSTestClient.withSotWStream(client) { stream in
                stream.send(sotwRequest(.cluster))
                var responses = stream.responses.makeAsyncIterator()
                let first = try #require(try await responses.next())
                try cache.setSnapshot(try Fixtures.snapshot(clusters: ["a": 1, "b": 2]), for: Self.group)
                var nack = sotwRequest(.cluster, node: false)
                nack.responseNonce = first.nonce
                nack.errorDetail.code = 3
                nack.errorDetail.message = "cluster a: invalid"
                stream.send(nack)
                let second = try #require(try await responses.next())
                #expect(second.resources.count == 2)
                #expect(second.nonce != first.nonce)
                let status = registry.streams.first?.types[.cluster]
                #expect(status?.lastNack?.error.message == "cluster a: invalid")
                #expect(status?.lastNack?.version == first.versionInfo)
            }
        }
    }

    @Test(
        "an Envoy with no node.cluster gets the default group, or a refusal that says what to set",
        arguments: ADSServerConfiguration.Transport.allCases)
    func nodeGroups(transport: ADSServerConfiguration.Transport) async throws {
        let cache = try Self.cache()
        try await withADSClient(transport: transport, watcher: cache, defaultNodeGroup: Self.group) {
            client, registry in
            try await ADSTestClient.withSotWStream(client) { stream in
                stream.send(sotwRequest(.cluster, cluster: ""))
                var responses = stream.responses.makeAsyncIterator()
                let response = try await responses.next()
                #expect(response?.resources.count == 1)
                #expect(registry.streams.first?.nodeGroup == Self.group)
            }
        }
        try await withADSClient(transport: transport, watcher: cache) { client, _ in
            let error = await #expect(throws: RPCError.self) {
                try await ADSTestClient.withSotWStream(client) { stream in
                    stream.send(sotwRequest(.cluster, cluster: ""))
                    for try await _ in stream.responses {}
                }
            }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message.contains("node.cluster") == true)
        }
    }

    @Test(
        "a stream beyond --max-streams is refused with RESOURCE_EXHAUSTED, saying which flag",
        arguments: ADSServerConfiguration.Transport.allCases)
    func maxStreams(transport: ADSServerConfiguration.Transport) async throws {
        let cache = try Self.cache()
        try await withADSClient(transport: transport, watcher: cache, maxStreams: 1) { client, registry in
            try await ADSTestClient.withSotWStream(client) { first in
                first.send(sotwRequest(.cluster))
                var responses = first.responses.makeAsyncIterator()
                _ = try await responses.next()
                let error = await #expect(throws: RPCError.self) {
                    try await ADSTestClient.withSotWStream(client) { second in
                        second.send(sotwRequest(.cluster))
                        for try await _ in second.responses {}
                    }
                }
                #expect(error?.code == .resourceExhausted)
                #expect(error?.message.contains("--max-streams") == true)
                #expect(registry.streams.count == 1)
            }
        }
    }

    @Test("serves over IPv6 loopback when given an IPv6 address", arguments: ADSServerConfiguration.Transport.allCases)
    func ipv6(transport: ADSServerConfiguration.Transport) async throws {
        let cache = try Self.cache()
        try await withADSServer(
            transport: transport, watcher: cache, configuration: ADSServerConfiguration(host: "::1", port: 0)
        ) { _, _, port in
            try await withGRPCClient(
                transport: .http2NIOPosix(target: .ipv6(address: "::1", port: port), transportSecurity: .plaintext)
            ) { grpc in
                // What is tested is the address family, not how fast a connection comes up: under
                // ThreadSanitizer on a busy machine the first attempt can time out.
                var options = CallOptions.defaults
                options.waitForReady = true
                try await ADSTestClient.withSotWStream(ADSTestClient.Client(wrapping: grpc), options: options) {
                    stream in
                    stream.send(sotwRequest(.cluster))
                    var responses = stream.responses.makeAsyncIterator()
                    let response = try await responses.next()
                    #expect(response?.resources.count == 1)
                }
            }
        }
    }

    @Test(
        "a first delta request far larger than 4 MiB is accepted over a real socket with the default limits",
        arguments: [(ADSServerConfiguration().maxRequestBytes, true), (4 << 20, false)],
        ADSServerConfiguration.Transport.allCases)
    func largeDeltaRequest(limits: (Int, Bool), transport: ADSServerConfiguration.Transport) async throws {
        let (limit, accepted) = limits
        let cache = try Self.cache()
        var versions: [String: String] = [:]
        for index in 0..<120_000 {
            versions["httproute/default/route-\(index)/rule/0"] = "0123456789abcdef"
        }
        var large = deltaRequest(.cluster)
        large.initialResourceVersions = versions
        let request = large
        let size = try request.serializedBytes() as [UInt8]
        #expect(size.count > 6 << 20, "the request must be well over gRPC's 4 MiB default")

        let configuration = ADSServerConfiguration(host: "127.0.0.1", port: 0, maxRequestBytes: limit)
        try await withADSServer(transport: transport, watcher: cache, configuration: configuration) { _, _, port in
            try await withGRPCClient(
                transport: .http2NIOPosix(
                    target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext)
            ) { grpc in
                let client = ADSTestClient.Client(wrapping: grpc)
                let outcome: Result<[String], any Error> = await Result {
                    try await ADSTestClient.withDeltaStream(client) { stream in
                        stream.send(request)
                        var responses = stream.responses.makeAsyncIterator()
                        return try #require(try await responses.next()).resources.map(\.name)
                    }
                }
                if accepted {
                    let names = try outcome.get()
                    #expect(names == ["a"])
                } else {
                    #expect(throws: RPCError.self) { try outcome.get() }
                }
            }
        }
    }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
