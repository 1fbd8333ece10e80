import Testing
import XDSCache
import XDSTesting

@testable import XDSServer

@Suite("Delta stream state machine")
struct DeltaStreamStateMachineTests {
    typealias F = Fixtures

    private func ack(_ response: DeltaResponse) -> DeltaRequest {
        DeltaRequest(typeURL: response.type.typeURL, responseNonce: response.nonce)
    }

    @Test("answers with per-resource versions and a fresh nonce; an ACK gets nothing")
    func nonceAndAck() throws {
        let snapshot = try F.snapshot(clusters: ["a": 1, "b": 2])
        var machine = DeltaStreamStateMachine()
        _ = machine.update(snapshot)
        let response = try #require(machine.receive(DeltaRequest(typeURL: F.cds)).responses.first)
        #expect(response.names == ["a", "b"])
        #expect(
            response.resources.map(\.version) == [snapshot[.cluster]["a"]!.version, snapshot[.cluster]["b"]!.version])
        #expect(response.systemVersionInfo == snapshot.version(of: .cluster))
        #expect(response.removedResources.isEmpty)
        let ackOutput = machine.receive(ack(response))
        #expect(ackOutput.responses.isEmpty)
        #expect(ackOutput.events == [.ack(.cluster, version: snapshot.version(of: .cluster))])
        #expect(machine.status(of: .cluster).lastAckedVersion == snapshot.version(of: .cluster))
    }

    @Test(
        "a version change in resources the client does not subscribe to sends nothing and counts as ACKed; not after a NACK"
    )
    func unsubscribedChangeIsConverged() throws {
        var machine = DeltaStreamStateMachine()
        _ = machine.update(try F.snapshot(clusters: ["a": 1, "b": 2]))
        let first = try #require(machine.receive(DeltaRequest(typeURL: F.eds, subscribe: ["a"])).responses.first)
        _ = machine.receive(ack(first))
        let next = try F.snapshot(clusters: ["a": 1, "b": 3])
        #expect(machine.update(next).responses.isEmpty, "only b changed, and the client does not hold it")
        #expect(machine.status(of: .endpoint).lastSentVersion == next.version(of: .endpoint))
        #expect(machine.status(of: .endpoint).lastAckedVersion == next.version(of: .endpoint))

        // After a NACK the stream is not at the new version, whatever changes elsewhere.
        let changed = try #require(machine.update(try F.snapshot(clusters: ["a": 7, "b": 3])).responses.first)
        _ = machine.receive(
            DeltaRequest(
                typeURL: F.eds, responseNonce: changed.nonce, errorDetail: ErrorDetail(code: 13, message: "no")))
        let later = try F.snapshot(clusters: ["a": 7, "b": 4])
        #expect(machine.update(later).responses.isEmpty)
        #expect(machine.status(of: .endpoint).lastAckedVersion != later.version(of: .endpoint))
    }

    @Test("a NACKed resource version is not sent again; a changed one is, alone")
    func nackNotResent() throws {
        let snapshot = try F.snapshot(clusters: ["a": 1, "b": 2])
        var machine = DeltaStreamStateMachine()
        _ = machine.update(snapshot)
        let response = try #require(
            machine.receive(DeltaRequest(typeURL: F.eds, subscribe: ["a", "b"])).responses.first)
        let error = ErrorDetail(code: 13, message: "bad endpoint")
        let nack = machine.receive(DeltaRequest(typeURL: F.eds, responseNonce: response.nonce, errorDetail: error))
        #expect(nack.responses.isEmpty)
        #expect(
            nack.events == [
                .nack(.endpoint, Nack(version: snapshot.version(of: .endpoint), nonce: response.nonce, error: error))
            ])
        #expect(machine.status(of: .endpoint).lastNack?.error == error)
        #expect(machine.update(snapshot).responses.isEmpty)

        let changed = machine.update(try F.snapshot(clusters: ["a": 1, "b": 3]))
        #expect(changed.responses.map(\.names) == [["b"]])
    }

    @Test("subscription changes apply even with a stale nonce; only its ACK is ignored")
    func staleNonceKeepsSubscription() throws {
        var machine = DeltaStreamStateMachine()
        _ = machine.update(try F.snapshot(clusters: ["a": 1, "b": 2]))
        let first = try #require(machine.receive(DeltaRequest(typeURL: F.eds, subscribe: ["a"])).responses.first)
        _ = machine.receive(ack(first))
        let second = try #require(machine.update(try F.snapshot(clusters: ["a": 5, "b": 2])).responses.first)
        #expect(second.names == ["a"])
        let stale = machine.receive(DeltaRequest(typeURL: F.eds, responseNonce: first.nonce, subscribe: ["b"]))
        #expect(stale.events == [.staleNonce(.endpoint, nonce: first.nonce)])
        #expect(machine.subscribedNames(of: .endpoint) == ["a", "b"])
        #expect(machine.status(of: .endpoint).awaitingReply)
        let afterAck = machine.receive(ack(second))
        #expect(afterAck.responses.map(\.names) == [["b"]], "the subscription from the stale request is served")
    }

    @Test("wildcard: CDS/LDS with no names (legacy) or \"*\"; EDS by name; unsubscribing \"*\" ends it")
    func wildcard() throws {
        let snapshot = try F.snapshot(clusters: ["a": 1, "b": 2])
        var legacy = DeltaStreamStateMachine()
        _ = legacy.update(snapshot)
        #expect(legacy.receive(DeltaRequest(typeURL: F.cds)).responses.first?.names == ["a", "b"])
        #expect(legacy.subscribedNames(of: .cluster) == ["*"])

        var explicit = DeltaStreamStateMachine()
        _ = explicit.update(snapshot)
        let all = try #require(explicit.receive(DeltaRequest(typeURL: F.eds, subscribe: ["*"])).responses.first)
        #expect(all.names == ["a", "b"])
        _ = explicit.receive(DeltaRequest(typeURL: F.eds, responseNonce: all.nonce, unsubscribe: ["*"]))
        #expect(explicit.subscribedNames(of: .endpoint).isEmpty)
        #expect(explicit.clientVersions(of: .endpoint).isEmpty)

        var named = DeltaStreamStateMachine()
        _ = named.update(snapshot)
        #expect(named.receive(DeltaRequest(typeURL: F.eds)).responses.isEmpty)
        #expect(named.receive(DeltaRequest(typeURL: F.eds, subscribe: ["b"])).responses.first?.names == ["b"])
    }

    @Test("deleted resources and subscribed names that do not exist are sent as removed_resources, once")
    func removedResources() throws {
        var machine = DeltaStreamStateMachine()
        _ = machine.update(try F.snapshot(clusters: ["a": 1, "b": 2]))
        let first = try #require(
            machine.receive(DeltaRequest(typeURL: F.eds, subscribe: ["a", "b", "ghost"])).responses.first)
        #expect(first.names == ["a", "b"])
        #expect(first.removedResources == ["ghost"], "a name that does not exist is reported so Envoy stops waiting")
        _ = machine.receive(ack(first))

        let removal = machine.update(try F.snapshot(clusters: ["a": 1])).responses
        try #require(removal.count == 1)
        #expect(removal[0].resources.isEmpty)
        #expect(removal[0].removedResources == ["b"])
        _ = machine.receive(ack(removal[0]))
        #expect(
            machine.update(try F.snapshot(clusters: ["a": 1, "c": 3])).responses.isEmpty,
            "ghost and b were told once; c is not subscribed")
    }

    @Test("initial_resource_versions: unchanged resources are not sent again, changed ones are, gone ones are removed")
    func reconnect() throws {
        let snapshot = try F.snapshot(clusters: ["a": 1, "b": 2, "c": 3])
        var machine = DeltaStreamStateMachine()
        _ = machine.update(snapshot)
        let versions = [
            "a": snapshot[.cluster]["a"]!.version, "b": "0000000000000000", "old": "1111111111111111",
        ]
        let output = machine.receive(DeltaRequest(typeURL: F.cds, initialResourceVersions: versions))
        #expect(output.responses.count == 1)
        let make = try #require(output.responses.first)
        #expect(make.names == ["b", "c"], "a is unchanged and must not be re-pushed")
        #expect(make.removedResources.isEmpty, "removals wait for the make step to be answered")
        let removal = machine.receive(ack(make)).responses
        #expect(removal.map(\.removedResources) == [["old"]])

        var upToDate = DeltaStreamStateMachine()
        _ = upToDate.update(snapshot)
        let everything = Dictionary(uniqueKeysWithValues: snapshot[.cluster].byName.map { ($0.key, $0.value.version) })
        #expect(upToDate.receive(DeltaRequest(typeURL: F.cds, initialResourceVersions: everything)).responses.isEmpty)
        #expect(
            upToDate.status(of: .cluster).lastAckedVersion == snapshot.version(of: .cluster),
            "status: the client holds the current version")
    }

    @Test(
        "a reconnecting client whose cluster changed meanwhile gets its load assignment again, though its version matches"
    )
    func reconnectAfterClusterChange() throws {
        let before = try F.snapshot(clusters: ["a": 1, "b": 2])
        let after = try F.snapshot(clusters: ["a": 1, "b": 2], connectTimeouts: ["a": 5])
        func versions(_ type: ResourceType, _ snapshot: Snapshot) -> [String: String] {
            Dictionary(uniqueKeysWithValues: snapshot[type].byName.map { ($0.key, $0.value.version) })
        }
        var machine = DeltaStreamStateMachine()
        _ = machine.update(after)
        // Envoy resumes with what the other replica (or the old content) gave it: CDS first.
        let cds = machine.receive(DeltaRequest(typeURL: F.cds, initialResourceVersions: versions(.cluster, before)))
        #expect(cds.responses.map(\.names) == [["a"]])
        let eds = machine.receive(
            DeltaRequest(typeURL: F.eds, subscribe: ["a", "b"], initialResourceVersions: versions(.endpoint, before)))
        #expect(eds.responses.map(\.names) == [["a"]], "Envoy warms the updated cluster a on a fresh load assignment")
    }

    @Test("unsubscribing then subscribing again sends the resource again")
    func resubscribe() throws {
        var machine = DeltaStreamStateMachine()
        _ = machine.update(try F.snapshot(clusters: ["a": 1, "b": 2]))
        let first = try #require(machine.receive(DeltaRequest(typeURL: F.eds, subscribe: ["a", "b"])).responses.first)
        let drop = machine.receive(DeltaRequest(typeURL: F.eds, responseNonce: first.nonce, unsubscribe: ["b"]))
        #expect(drop.responses.isEmpty)
        #expect(machine.clientVersions(of: .endpoint).keys.sorted() == ["a"])
        let again = machine.receive(DeltaRequest(typeURL: F.eds, responseNonce: first.nonce, subscribe: ["b"]))
        #expect(again.responses.map(\.names) == [["b"]])
    }

    @Test("a new cluster goes before the route that uses it; a removed one after the route moved away")
    func makeBeforeBreak() throws {
        let before = try F.snapshot(clusters: ["a": 1], routeTo: "a")
        var machine = DeltaStreamStateMachine()
        _ = machine.update(before)
        for (url, names) in [(F.cds, [String]()), (F.eds, ["a"]), (F.lds, []), (F.rds, ["routes_0"])] {
            for response in machine.receive(DeltaRequest(typeURL: url, subscribe: names)).responses {
                _ = machine.receive(ack(response))
            }
        }

        let after = try F.snapshot(clusters: ["b": 2], routeTo: "b")
        let make = machine.update(after).responses
        try #require(make.map(\.type) == [.cluster])
        #expect(make[0].names == ["b"])
        #expect(make[0].removedResources.isEmpty, "a stays while the route uses it")

        let eds = machine.receive(DeltaRequest(typeURL: F.eds, subscribe: ["b"])).responses
        try #require(eds.map(\.type) == [.endpoint], "EDS does not wait for the CDS reply")
        #expect(machine.receive(ack(make[0])).responses.isEmpty, "RDS waits for the EDS reply")
        let rds = machine.receive(ack(eds[0])).responses
        try #require(rds.map(\.type) == [.route])
        #expect(rds[0].names == ["routes_0"])
        let removal = machine.receive(ack(rds[0])).responses
        try #require(removal.map(\.type) == [.endpoint], "removals go latest type first: EDS, then CDS")
        #expect(removal[0].removedResources == ["a"])
        let last = machine.receive(ack(removal[0])).responses
        try #require(last.map(\.type) == [.cluster])
        #expect(last[0].removedResources == ["a"])
    }

    @Test("an updated cluster's unchanged load assignment is sent again with it: Envoy warms the cluster on it")
    func updatedClusterResendsEndpoints() throws {
        var machine = DeltaStreamStateMachine()
        _ = machine.update(try F.snapshot(clusters: ["a": 1, "b": 2]))
        let cds = try #require(machine.receive(DeltaRequest(typeURL: F.cds)).responses.first)
        _ = machine.receive(ack(cds))
        let eds = try #require(machine.receive(DeltaRequest(typeURL: F.eds, subscribe: ["a", "b"])).responses.first)
        _ = machine.receive(ack(eds))
        let update = machine.update(try F.snapshot(clusters: ["a": 1, "b": 2], connectTimeouts: ["a": 5]))
        #expect(update.responses.map(\.type) == [.cluster, .endpoint])
        #expect(update.responses.map(\.names) == [["a"], ["a"]])
    }

    @Test(
        "seeded: after each snapshot and subscription change, the stream's record of what the client holds is what it was sent"
    )
    func seededAgainstAClientModel() throws {
        var random = SplitMix64(seed: 15)
        var clusterSet = ChangingClusters()
        let universe = clusterSet.universe
        var snapshot = try clusterSet.snapshot()
        var machine = DeltaStreamStateMachine()
        // What the client applied, from the responses alone, as Envoy would.
        var held: [ResourceType: [String: String]] = [:]
        var subscribed: Set<String> = []
        func settle(_ responses: [DeltaResponse]) {
            var queue = responses
            while !queue.isEmpty {
                let response = queue.removeFirst()
                for resource in response.resources {
                    held[response.type, default: [:]][resource.name] = resource.version
                }
                for name in response.removedResources { held[response.type]?.removeValue(forKey: name) }
                queue += machine.receive(ack(response)).responses
            }
        }
        settle(machine.update(snapshot).responses)
        settle(machine.receive(DeltaRequest(typeURL: F.cds)).responses)
        subscribed = Set(universe.prefix(6))
        settle(machine.receive(DeltaRequest(typeURL: F.eds, subscribe: Array(subscribed))).responses)
        for step in 0..<300 {
            switch Int.random(in: 0..<10, using: &random) {
            case 0..<6:
                snapshot = try clusterSet.change(using: &random)
                settle(machine.update(snapshot).responses)
            case 6..<8:
                let names = Set(
                    (0..<Int.random(in: 1...3, using: &random)).map { _ in universe.randomElement(using: &random)! })
                subscribed.formUnion(names)
                settle(machine.receive(DeltaRequest(typeURL: F.eds, subscribe: Array(names).sorted())).responses)
            default:
                let names = Set(
                    (0..<Int.random(in: 1...3, using: &random)).map { _ in universe.randomElement(using: &random)! })
                subscribed.subtract(names)
                // Envoy drops what it unsubscribes from.
                for name in names { held[.endpoint]?.removeValue(forKey: name) }
                settle(machine.receive(DeltaRequest(typeURL: F.eds, unsubscribe: Array(names).sorted())).responses)
            }
            let clusters = snapshot[.cluster].versions
            let endpoints = snapshot[.endpoint].versions.filter { subscribed.contains($0.key) }
            #expect(held[.cluster] ?? [:] == clusters, "step \(step): clusters")
            #expect(held[.endpoint] ?? [:] == endpoints, "step \(step): endpoints")
            #expect(machine.clientVersions(of: .endpoint) == endpoints, "step \(step): the stream's record")
            #expect(machine.clientVersions(of: .cluster) == clusters, "step \(step): the stream's record of clusters")
        }
    }
}
