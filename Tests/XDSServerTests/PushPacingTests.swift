import EnvoyAPI
import Synchronization
import Testing
import XDSCache
import XDSServer
import XDSTesting

/// A clock the test moves by hand.
final class ManualTime: Sendable {
    let now = Mutex(ContinuousClock.now)

    func advance(by duration: Duration) { now.withLock { $0 += duration } }
}

@Suite("PushPacer: permits, their order, deadlines and cancellation")
struct PushPacerTests {
    static func pacer(permits: Int, time: ManualTime = ManualTime()) -> PushPacer {
        PushPacer(PushPacing(permits: permits, timeout: .seconds(10)), now: { time.now.withLock { $0 } })
    }

    /// Starts `count` waits in order, each seen waiting before the next starts.
    static func waits(_ count: Int, on pacer: PushPacer, in group: inout TaskGroup<(Int, PushPacer.Lease?)>)
        async
    {
        let before = pacer.waitingCount
        for index in 0..<count {
            group.addTask { (index, await pacer.acquire(keeping: nil)) }
            let queued = await eventually { pacer.waitingCount == before + index + 1 }
            #expect(queued, "wait \(index) was not queued")
        }
    }

    @Test("permits go to the first streams; the rest wait and are served in the order they asked")
    func order() async throws {
        let pacer = Self.pacer(permits: 2)
        let first = try #require(await pacer.acquire(keeping: nil))
        let second = try #require(await pacer.acquire(keeping: nil))
        #expect(first != second)
        #expect(pacer.heldCount == 2)
        await withTaskGroup(of: (Int, PushPacer.Lease?).self) { group in
            await Self.waits(2, on: pacer, in: &group)
            pacer.release(first)
            let (index, lease) = await group.next()!
            #expect(index == 0 && lease != nil)
            #expect(pacer.waitingCount == 1 && pacer.heldCount == 2)
            // Giving a lease back twice frees one permit, not two.
            pacer.release(first)
            #expect(pacer.waitingCount == 1)
            pacer.release(second)
            let (last, lastLease) = await group.next()!
            #expect(last == 1 && lastLease != nil)
        }
        #expect(pacer.heldCount == 2)
    }

    @Test("a stream that holds a permit keeps it for its next large response instead of taking another")
    func keeping() async throws {
        let pacer = Self.pacer(permits: 1)
        let lease = try #require(await pacer.acquire(keeping: nil))
        #expect(await pacer.acquire(keeping: lease) == lease)
        #expect(pacer.heldCount == 1 && pacer.waitingCount == 0)
    }

    @Test("a permit not given back by its deadline goes to the next stream, and the late release is ignored")
    func deadline() async throws {
        let time = ManualTime()
        let pacer = Self.pacer(permits: 1, time: time)
        let stuck = try #require(await pacer.acquire(keeping: nil))
        await withTaskGroup(of: (Int, PushPacer.Lease?).self) { group in
            await Self.waits(1, on: pacer, in: &group)
            time.advance(by: .seconds(9))
            #expect(pacer.expireOverdue() == 0)
            #expect(pacer.waitingCount == 1)
            time.advance(by: .seconds(1))
            #expect(pacer.expireOverdue() == 1)
            let (_, lease) = await group.next()!
            let next = try! #require(lease)
            #expect(next != stuck)
            // The stuck stream's client answers at last: nothing of the new holder's is lost.
            pacer.release(stuck)
            #expect(pacer.heldCount == 1)
            // Its next large response waits in turn, with a new permit.
            await Self.waits(1, on: pacer, in: &group)
            // The new holder's deadline counts from when it got the permit.
            time.advance(by: .seconds(9))
            #expect(pacer.expireOverdue() == 0)
            pacer.release(next)
            let (_, again) = await group.next()!
            #expect(again != nil && again != stuck)
        }
    }

    @Test("a cancelled wait returns at once and takes no permit")
    func cancellation() async throws {
        let pacer = Self.pacer(permits: 1)
        let held = try #require(await pacer.acquire(keeping: nil))
        let waiter = Task { await pacer.acquire(keeping: nil) }
        #expect(await eventually { pacer.waitingCount == 1 })
        waiter.cancel()
        #expect(await waiter.value == nil)
        #expect(pacer.waitingCount == 0)
        pacer.release(held)
        #expect(pacer.heldCount == 0)
        #expect(await pacer.acquire(keeping: nil) != nil)
    }

    @Test("once open (shutting down), waiting streams go on and none waits again")
    func open() async throws {
        let pacer = Self.pacer(permits: 1)
        let held = try #require(await pacer.acquire(keeping: nil))
        await withTaskGroup(of: (Int, PushPacer.Lease?).self) { group in
            await Self.waits(2, on: pacer, in: &group)
            pacer.open()
            for await (_, lease) in group { #expect(lease == nil) }
        }
        #expect(await pacer.acquire(keeping: nil) == nil)
        pacer.release(held)
        #expect(pacer.heldCount == 0 && pacer.waitingCount == 0)
    }
}

/// The pacer in the ADS server, over real HTTP/2: a stream's permit goes back when its client
/// answers the large response, when the stream ends, or at the deadline.
@Suite("ADS push pacing over gRPC")
struct PushPacingServerTests {
    static let group = "default/gw"
    static let sotwPath = "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources"

    /// 200 clusters: a CDS response of about 20 KB, well over the threshold; one or two load
    /// assignments, well under it.
    static func cache() throws -> SnapshotCache {
        let cache = SnapshotCache()
        let clusters = Dictionary(uniqueKeysWithValues: (0..<200).map { ("httproute/default/r-\($0)/rule/0", 8000) })
        try cache.setSnapshot(try Fixtures.snapshot(clusters: clusters), for: group)
        return cache
    }

    static func configuration(timeout: Duration) -> ADSServerConfiguration {
        ADSServerConfiguration(
            host: "127.0.0.1", port: 0, pacing: PushPacing(permits: 1, threshold: 4096, timeout: timeout))
    }

    static func request(
        _ type: ResourceType, node: String, names: [String] = [],
        answering response: Envoy_Service_Discovery_V3_DiscoveryResponse? = nil
    ) throws -> [UInt8] {
        var request = Envoy_Service_Discovery_V3_DiscoveryRequest()
        request.typeURL = type.typeURL
        request.node = ADSTestClient.node(id: node, cluster: group)
        request.resourceNames = names
        if let response {
            request.versionInfo = response.versionInfo
            request.responseNonce = response.nonce
        }
        return try request.serializedBytes()
    }

    /// A stream that has asked for CDS, and the response it read.
    static func cds(_ connection: RawHTTP2Connection, node: String) async throws -> (
        RawHTTP2Stream, Envoy_Service_Discovery_V3_DiscoveryResponse
    ) {
        let stream = try await connection.openStream()
        try await stream.sendRequestHeaders(path: sotwPath)
        try await stream.sendMessage(try request(.cluster, node: node))
        let bytes = try #require(await stream.nextMessage(), "\(node) got no CDS")
        let response = try Envoy_Service_Discovery_V3_DiscoveryResponse(serializedBytes: bytes)
        #expect(response.typeURL == ResourceType.cluster.typeURL && response.resources.count == 200)
        return (stream, response)
    }

    /// A second stream that asks for CDS while the first holds the one permit: it waits.
    static func waiting(_ connection: RawHTTP2Connection, pacer: PushPacer?) async throws -> RawHTTP2Stream {
        let stream = try await connection.openStream()
        try await stream.sendRequestHeaders(path: sotwPath)
        try await stream.sendMessage(try request(.cluster, node: "second"))
        let waits = await eventually { pacer?.waitingCount == 1 }
        #expect(waits, "the second stream did not wait for the permit")
        return stream
    }

    @Test(
        "a stream waits while another's large response is unanswered; requests of other types do not free the permit, the ACK does",
        arguments: ADSServerConfiguration.Transport.allCases)
    func releasedByTheAnswer(transport: ADSServerConfiguration.Transport) async throws {
        try await withADSServer(
            transport: transport, watcher: try Self.cache(), configuration: Self.configuration(timeout: .seconds(3600))
        ) { pacer, _, port in
            let connection = try await RawHTTP2Connection.connect(port: port)
            let (first, cds) = try await Self.cds(connection, node: "first")
            let second = try await Self.waiting(connection, pacer: pacer)
            // The first client asks for load assignments before it ACKs the clusters, as an
            // Envoy may while new clusters warm, then ACKs them asking for one more. The second answer shows
            // the server has handled the first request (and its release check): the permit stays.
            let names = ["httproute/default/r-0/rule/0", "httproute/default/r-1/rule/0"]
            try await first.sendMessage(try Self.request(.endpoint, node: "first", names: [names[0]]))
            let eds = try Envoy_Service_Discovery_V3_DiscoveryResponse(
                serializedBytes: try #require(await first.nextMessage(), "no EDS"))
            try await first.sendMessage(try Self.request(.endpoint, node: "first", names: names, answering: eds))
            let more = try Envoy_Service_Discovery_V3_DiscoveryResponse(
                serializedBytes: try #require(await first.nextMessage(), "no second EDS"))
            #expect(more.resources.count == 2)
            #expect(pacer?.waitingCount == 1, "the permit was given back before the CDS was answered")
            try await first.sendMessage(try Self.request(.cluster, node: "first", answering: cds))
            let bytes = try #require(await second.nextMessage(), "the second stream never got its CDS")
            let response = try Envoy_Service_Discovery_V3_DiscoveryResponse(serializedBytes: bytes)
            #expect(response.resources.count == 200)
            #expect(pacer?.waitingCount == 0)
            await connection.close()
        }
    }

    @Test("a stream that ends gives its permit back", arguments: ADSServerConfiguration.Transport.allCases)
    func releasedByTheEnd(transport: ADSServerConfiguration.Transport) async throws {
        try await withADSServer(
            transport: transport, watcher: try Self.cache(), configuration: Self.configuration(timeout: .seconds(3600))
        ) { pacer, _, port in
            let connection = try await RawHTTP2Connection.connect(port: port)
            let (first, _) = try await Self.cds(connection, node: "first")
            let second = try await Self.waiting(connection, pacer: pacer)
            try await first.reset()
            #expect(await second.nextMessage() != nil, "the second stream never got its CDS")
            await connection.close()
        }
    }

    @Test(
        "a client that never answers loses its permit at the deadline, and keeps its stream",
        arguments: ADSServerConfiguration.Transport.allCases)
    func releasedByTheDeadline(transport: ADSServerConfiguration.Transport) async throws {
        // One second, checked every quarter: the test waits for the outcome, however long it takes.
        try await withADSServer(
            transport: transport, watcher: try Self.cache(), configuration: Self.configuration(timeout: .seconds(1))
        ) { _, registry, port in
            let connection = try await RawHTTP2Connection.connect(port: port)
            let (first, _) = try await Self.cds(connection, node: "first")
            let second = try await connection.openStream()
            try await second.sendRequestHeaders(path: Self.sotwPath)
            try await second.sendMessage(try Self.request(.cluster, node: "second"))
            #expect(await second.nextMessage() != nil, "the second stream never got its CDS")
            #expect(registry.count(kind: .sotw) == 2)
            try await first.sendMessage(
                try Self.request(.endpoint, node: "first", names: ["httproute/default/r-0/rule/0"]))
            #expect(await first.nextMessage() != nil, "the first stream stopped being served")
            await connection.close()
        }
    }
}
