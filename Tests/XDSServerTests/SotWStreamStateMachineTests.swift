import Testing
import XDSCache
import XDSTesting

@testable import XDSServer

@Suite("State-of-the-world stream state machine")
struct SotWStreamStateMachineTests {
    typealias F = Fixtures

    /// A machine that has the snapshot and has answered, and been ACKed for, an initial CDS request.
    func connected(_ snapshot: Snapshot) throws -> (SotWStreamStateMachine, SotWResponse) {
        var machine = SotWStreamStateMachine()
        _ = machine.update(snapshot)
        let response = try #require(machine.receive(SotWRequest(typeURL: F.cds)).responses.first)
        _ = machine.receive(
            SotWRequest(typeURL: F.cds, versionInfo: response.versionInfo, responseNonce: response.nonce))
        return (machine, response)
    }

    @Test("answers the first request with the type's version and a fresh nonce, and an ACK with nothing")
    func nonceAndAck() throws {
        let snapshot = try F.snapshot(clusters: ["a": 1, "b": 2])
        var machine = SotWStreamStateMachine()
        _ = machine.update(snapshot)
        let first = machine.receive(SotWRequest(typeURL: F.cds))
        #expect(first.responses.count == 1)
        let response = try #require(first.responses.first)
        #expect(response.type == .cluster)
        #expect(response.versionInfo == snapshot.version(of: .cluster))
        #expect(response.names == ["a", "b"])
        #expect(!response.nonce.isEmpty)
        #expect(machine.status(of: .cluster).awaitingReply)

        let ack = machine.receive(
            SotWRequest(typeURL: F.cds, versionInfo: response.versionInfo, responseNonce: response.nonce))
        #expect(ack.responses.isEmpty)
        #expect(ack.events == [.ack(.cluster, version: response.versionInfo)])
        #expect(machine.status(of: .cluster).lastAckedVersion == response.versionInfo)
        #expect(!machine.status(of: .cluster).awaitingReply)
    }

    @Test(
        "a type version moved only by names the client does not subscribe to sends nothing and counts as ACKed; not after a NACK"
    )
    func unsubscribedChangeIsConverged() throws {
        var machine = SotWStreamStateMachine()
        _ = machine.update(try F.snapshot(clusters: ["a": 1, "b": 2]))
        let first = try #require(
            machine.receive(SotWRequest(typeURL: F.eds, resourceNames: ["a", "b"])).responses.first)
        _ = machine.receive(
            SotWRequest(
                typeURL: F.eds, versionInfo: first.versionInfo, responseNonce: first.nonce, resourceNames: ["a", "b"]))

        // Cluster b goes, and its load assignment: Envoy asks for a alone, which has not changed.
        let next = try F.snapshot(clusters: ["a": 1])
        _ = machine.update(next)
        let narrowed = machine.receive(
            SotWRequest(
                typeURL: F.eds, versionInfo: first.versionInfo, responseNonce: first.nonce, resourceNames: ["a"]))
        #expect(narrowed.responses.isEmpty, "leaving b out removes nothing")
        #expect(machine.status(of: .endpoint).lastSentVersion == next.version(of: .endpoint))
        #expect(machine.status(of: .endpoint).lastAckedVersion == next.version(of: .endpoint))

        // Only a load assignment the client does not ask for changes.
        let elsewhere = try F.snapshot(clusters: ["a": 1, "c": 5])
        #expect(machine.update(elsewhere).responses.isEmpty)
        #expect(machine.status(of: .endpoint).lastAckedVersion == elsewhere.version(of: .endpoint))

        // After a NACK the stream is not at the new version, whatever changes elsewhere.
        let changed = try #require(machine.update(try F.snapshot(clusters: ["a": 7, "c": 5])).responses.first)
        _ = machine.receive(
            SotWRequest(
                typeURL: F.eds, versionInfo: first.versionInfo, responseNonce: changed.nonce, resourceNames: ["a"],
                errorDetail: ErrorDetail(code: 13, message: "no")))
        let later = try F.snapshot(clusters: ["a": 7, "c": 6])
        #expect(machine.update(later).responses.isEmpty)
        #expect(machine.status(of: .endpoint).lastAckedVersion != later.version(of: .endpoint))
    }

    @Test("waits for a snapshot before answering")
    func waitsForSnapshot() throws {
        var machine = SotWStreamStateMachine()
        #expect(machine.receive(SotWRequest(typeURL: F.cds)).responses.isEmpty)
        let output = machine.update(try F.snapshot(clusters: ["a": 1]))
        #expect(output.responses.map(\.names) == [["a"]])
    }

    @Test("a NACKed version is recorded and not sent again until the snapshot changes")
    func nackNotResent() throws {
        let snapshot = try F.snapshot(clusters: ["a": 1])
        var machine = SotWStreamStateMachine()
        _ = machine.update(snapshot)
        let response = try #require(machine.receive(SotWRequest(typeURL: F.cds)).responses.first)
        let error = ErrorDetail(code: 13, message: "Proto constraint validation failed")
        let nack = machine.receive(
            SotWRequest(typeURL: F.cds, versionInfo: "", responseNonce: response.nonce, errorDetail: error))
        #expect(nack.responses.isEmpty, "a NACK must not trigger a resend")
        #expect(
            nack.events == [.nack(.cluster, Nack(version: response.versionInfo, nonce: response.nonce, error: error))])
        #expect(machine.status(of: .cluster).lastNack?.error == error)

        // The same content again (a no-op update, or Envoy asking again) sends nothing.
        #expect(machine.update(snapshot).responses.isEmpty)
        #expect(machine.receive(SotWRequest(typeURL: F.cds, responseNonce: response.nonce)).responses.isEmpty)

        // New content does go out.
        let changed = try F.snapshot(clusters: ["a": 1, "c": 3])
        let next = machine.update(changed)
        #expect(next.responses.map(\.names) == [["a", "c"]])
        #expect(next.responses.first?.nonce != response.nonce)
    }

    @Test("a request with a stale nonce is ignored, subscription and all")
    func staleNonce() throws {
        var (machine, first) = try connected(try F.snapshot(clusters: ["a": 1]))
        let second = try #require(machine.update(try F.snapshot(clusters: ["a": 1, "b": 2])).responses.first)
        let stale = machine.receive(
            SotWRequest(
                typeURL: F.cds, versionInfo: first.versionInfo, responseNonce: first.nonce,
                errorDetail: ErrorDetail(code: 3, message: "old")))
        #expect(stale.events == [.staleNonce(.cluster, nonce: first.nonce)])
        #expect(stale.responses.isEmpty)
        #expect(machine.status(of: .cluster).lastNack == nil)
        #expect(machine.status(of: .cluster).awaitingReply, "the newer response is still unanswered")
        let ack = machine.receive(
            SotWRequest(typeURL: F.cds, versionInfo: second.versionInfo, responseNonce: second.nonce))
        #expect(ack.events == [.ack(.cluster, version: second.versionInfo)])
    }

    @Test("CDS and LDS with no names are wildcard; EDS and RDS are by name; \"*\" is explicit wildcard")
    func wildcardAndNamed() throws {
        let snapshot = try F.snapshot(clusters: ["a": 1, "b": 2, "c": 3])
        var machine = SotWStreamStateMachine()
        _ = machine.update(snapshot)
        #expect(machine.receive(SotWRequest(typeURL: F.cds)).responses.first?.names == ["a", "b", "c"])
        #expect(machine.subscribedNames(of: .cluster) == ["*"])
        #expect(machine.receive(SotWRequest(typeURL: F.eds)).responses.isEmpty, "EDS with no names asks for nothing")
        var named = SotWStreamStateMachine()
        _ = named.update(snapshot)
        #expect(named.receive(SotWRequest(typeURL: F.eds, resourceNames: ["b"])).responses.first?.names == ["b"])
        var explicit = SotWStreamStateMachine()
        _ = explicit.update(snapshot)
        #expect(
            explicit.receive(SotWRequest(typeURL: F.eds, resourceNames: ["*"])).responses.first?.names == [
                "a", "b", "c",
            ])
        var namedCDS = SotWStreamStateMachine()
        _ = namedCDS.update(snapshot)
        #expect(namedCDS.receive(SotWRequest(typeURL: F.cds, resourceNames: ["c"])).responses.first?.names == ["c"])
    }

    @Test("a wildcard type with nothing in it is still answered, so Envoy can finish initializing")
    func emptyWildcard() throws {
        var machine = SotWStreamStateMachine()
        _ = machine.update(try Snapshot([]))
        let output = machine.receive(SotWRequest(typeURL: F.lds))
        #expect(output.responses.count == 1)
        #expect(output.responses.first?.resources.isEmpty == true)
    }

    @Test("adding a name sends the new set; unsubscribing then resubscribing sends the name again")
    func resubscribe() throws {
        let snapshot = try F.snapshot(clusters: ["a": 1, "b": 2])
        var machine = SotWStreamStateMachine()
        _ = machine.update(snapshot)
        let first = try #require(machine.receive(SotWRequest(typeURL: F.eds, resourceNames: ["a"])).responses.first)
        let widened = machine.receive(
            SotWRequest(
                typeURL: F.eds, versionInfo: first.versionInfo, responseNonce: first.nonce, resourceNames: ["a", "b"]))
        #expect(widened.responses.map(\.names) == [["a", "b"]])
        let second = try #require(widened.responses.first)
        _ = machine.receive(
            SotWRequest(
                typeURL: F.eds, versionInfo: second.versionInfo, responseNonce: second.nonce, resourceNames: ["a", "b"])
        )

        let narrowed = machine.receive(
            SotWRequest(
                typeURL: F.eds, versionInfo: second.versionInfo, responseNonce: second.nonce, resourceNames: ["a"]))
        #expect(narrowed.responses.isEmpty, "dropping a name needs no response")
        let again = machine.receive(
            SotWRequest(
                typeURL: F.eds, versionInfo: second.versionInfo, responseNonce: second.nonce, resourceNames: ["a", "b"])
        )
        #expect(again.responses.map(\.names) == [["a", "b"]], "go-control-plane #431: resubscribing must re-send")
    }

    @Test("a reconnecting client that already has the current version gets nothing; a stale one gets the update")
    func reconnect() throws {
        let snapshot = try F.snapshot(clusters: ["a": 1, "b": 2])
        var current = SotWStreamStateMachine()
        _ = current.update(snapshot)
        let upToDate = current.receive(SotWRequest(typeURL: F.cds, versionInfo: snapshot.version(of: .cluster)))
        #expect(upToDate.responses.isEmpty)
        #expect(current.status(of: .cluster).lastSentVersion == snapshot.version(of: .cluster))
        #expect(
            current.status(of: .cluster).lastAckedVersion == snapshot.version(of: .cluster),
            "status: the client holds it")
        let named = current.receive(
            SotWRequest(typeURL: F.eds, versionInfo: snapshot.version(of: .endpoint), resourceNames: ["a", "b"]))
        #expect(named.responses.isEmpty)

        var behind = SotWStreamStateMachine()
        let early = behind.receive(SotWRequest(typeURL: F.cds, versionInfo: "0123456789abcdef"))
        #expect(early.responses.isEmpty, "no snapshot yet")
        #expect(behind.update(snapshot).responses.map(\.names) == [["a", "b"]])
    }

    @Test(
        "a resumed client whose clusters changed meanwhile gets their load assignments again, though EDS's version matches"
    )
    func reconnectAfterClusterChange() throws {
        let before = try F.snapshot(clusters: ["a": 1, "b": 2])
        let after = try F.snapshot(clusters: ["a": 1, "b": 2], connectTimeouts: ["a": 5])
        var machine = SotWStreamStateMachine()
        _ = machine.update(after)
        let cds = machine.receive(SotWRequest(typeURL: F.cds, versionInfo: before.version(of: .cluster)))
        #expect(cds.responses.map(\.names) == [["a", "b"]])
        let eds = machine.receive(
            SotWRequest(typeURL: F.eds, versionInfo: before.version(of: .endpoint), resourceNames: ["a", "b"]))
        #expect(
            eds.responses.map(\.names) == [["a", "b"]], "Envoy warms the updated cluster on a fresh load assignment")

        // Unchanged clusters: nothing is sent again, as before.
        var unchanged = SotWStreamStateMachine()
        _ = unchanged.update(before)
        #expect(
            unchanged.receive(SotWRequest(typeURL: F.cds, versionInfo: before.version(of: .cluster))).responses.isEmpty)
        #expect(
            unchanged.receive(
                SotWRequest(typeURL: F.eds, versionInfo: before.version(of: .endpoint), resourceNames: ["a", "b"])
            ).responses.isEmpty)
    }

    @Test("a new cluster goes out before the route that uses it; EDS does not wait for the CDS reply")
    func makeBeforeBreakAdd() throws {
        let before = try F.snapshot(clusters: ["a": 1], routeTo: "a")
        var machine = try subscribedToAll(before)

        let after = try F.snapshot(clusters: ["a": 1, "b": 2], routeTo: "b")
        let update = machine.update(after)
        #expect(update.responses.map(\.type) == [.cluster], "only CDS may go while clusters change")
        let cds = try #require(update.responses.first)
        #expect(cds.names == ["a", "b"])

        // Envoy asks for b's endpoints before it answers CDS (it answers once b has warmed).
        let edsRequest = machine.receive(
            SotWRequest(
                typeURL: F.eds, versionInfo: before.version(of: .endpoint),
                responseNonce: machine.status(of: .endpoint).lastSentNonce ?? "", resourceNames: ["a", "b"]))
        #expect(edsRequest.responses.map(\.type) == [.endpoint])
        #expect(edsRequest.responses.first?.names == ["a", "b"])
        let eds = try #require(edsRequest.responses.first)

        #expect(machine.receive(ack(cds)).responses.isEmpty, "RDS still waits for the EDS reply")
        let afterEDS = machine.receive(ack(eds, names: ["a", "b"]))
        #expect(afterEDS.responses.map(\.type) == [.route])
        #expect(afterEDS.responses.first?.versionInfo == after.version(of: .route))
    }

    @Test("a removed cluster goes only after the route that used it has moved away")
    func makeBeforeBreakRemove() throws {
        let before = try F.snapshot(clusters: ["a": 1], routeTo: "a")
        var machine = try subscribedToAll(before)

        let after = try F.snapshot(clusters: ["b": 2], routeTo: "b")
        let make = machine.update(after).responses
        try #require(make.map(\.type) == [.cluster])
        #expect(make[0].names == ["a", "b"], "the first CDS keeps a while the route still uses it")

        let eds = try #require(
            machine.receive(
                SotWRequest(
                    typeURL: F.eds, versionInfo: before.version(of: .endpoint),
                    responseNonce: machine.status(of: .endpoint).lastSentNonce ?? "", resourceNames: ["a", "b"])
            )
            .responses.first, "EDS must not wait for the CDS reply")
        #expect(eds.names == ["b"], "EDS sends what is requested and exists")
        _ = machine.receive(ack(make[0]))
        let rds = machine.receive(ack(eds, names: ["a", "b"])).responses
        try #require(rds.map(\.type) == [.route])

        let breakStep = machine.receive(ack(rds[0], names: ["routes_0"])).responses
        try #require(breakStep.map(\.type) == [.cluster])
        #expect(breakStep[0].names == ["b"])
        #expect(breakStep[0].versionInfo == after.version(of: .cluster))
    }

    @Test(
        "a cluster removed alone (nothing added or changed) goes once nothing is pending, after an update that changed every cluster"
    )
    func removalAlone() throws {
        let first = try F.snapshot(clusters: ["a": 1, "b": 2, "c": 3], routeTo: "a")
        var machine = try subscribedToAll(first)
        // Every cluster changes: the client then holds the whole type at `changed`.
        let changed = try F.snapshot(
            clusters: ["a": 1, "b": 2, "c": 3], routeTo: "a", connectTimeouts: ["a": 5, "b": 5, "c": 5])
        let make = machine.update(changed).responses
        try #require(make.map(\.type) == [.cluster, .endpoint])
        #expect(make[0].names == ["a", "b", "c"])
        _ = machine.receive(ack(make[0]))
        _ = machine.receive(ack(make[1], names: first[.endpoint].names))

        let removed = try F.snapshot(clusters: ["a": 1, "b": 2], routeTo: "a", connectTimeouts: ["a": 5, "b": 5])
        let breakStep = machine.update(removed).responses
        try #require(breakStep.map(\.type) == [.cluster])
        #expect(breakStep[0].names == ["a", "b"])
        #expect(breakStep[0].versionInfo == removed.version(of: .cluster))
        _ = machine.receive(ack(breakStep[0]))
        #expect(machine.update(removed).responses.isEmpty, "nothing more is owed")
    }

    @Test("a request for a type this server does not serve is reported and ignored")
    func unknownType() {
        var machine = SotWStreamStateMachine()
        let url = "type.googleapis.com/envoy.service.runtime.v3.Runtime"
        #expect(machine.receive(SotWRequest(typeURL: url)) == .init(events: [.unknownTypeURL(url)]))
    }

    // MARK: - Helpers

    private func ack(_ response: SotWResponse, names: [String] = []) -> SotWRequest {
        SotWRequest(
            typeURL: response.type.typeURL, versionInfo: response.versionInfo, responseNonce: response.nonce,
            resourceNames: names)
    }

    /// A machine subscribed to every type of `snapshot`, with every response ACKed.
    private func subscribedToAll(_ snapshot: Snapshot) throws -> SotWStreamStateMachine {
        var machine = SotWStreamStateMachine()
        _ = machine.update(snapshot)
        let requests: [(String, [String])] = [
            (F.cds, []), (F.eds, snapshot[.endpoint].names), (F.lds, []), (F.rds, snapshot[.route].names),
        ]
        for (url, names) in requests {
            let responses = machine.receive(SotWRequest(typeURL: url, resourceNames: names)).responses
            for response in responses {
                _ = machine.receive(
                    SotWRequest(
                        typeURL: url, versionInfo: response.versionInfo, responseNonce: response.nonce,
                        resourceNames: names))
            }
            try #require(!machine.status(of: ResourceType(typeURL: url)!).awaitingReply)
        }
        return machine
    }

    @Test(
        "seeded: after each change, the client holds every cluster and wanted load assignment, and each updated cluster's load assignment came after it"
    )
    func seededAgainstAClientModel() throws {
        var random = SplitMix64(seed: 15)
        var clusterSet = ChangingClusters()
        let universe = clusterSet.universe
        var snapshot = try clusterSet.snapshot()
        var machine = SotWStreamStateMachine()
        // The client, from the responses alone, as Envoy keeps it: the clusters of the last CDS
        // response, the load assignments of every EDS response, the EDS names it asks for (its
        // clusters', some steps adding or dropping a few), and the clusters updated or added
        // whose load assignment has not come since (Envoy warms a cluster on a fresh one).
        var clusters: [String: String] = [:]
        var endpoints: [String: String] = [:]
        var subscribed: Set<String> = []
        var owed: Set<String> = []
        var lastEDS: SotWResponse?
        func askForEndpoints(_ names: Set<String>) -> [SotWResponse] {
            subscribed = names
            for name in endpoints.keys where !names.contains(name) { endpoints[name] = nil }
            return machine.receive(
                SotWRequest(
                    typeURL: F.eds, versionInfo: lastEDS?.versionInfo ?? "", responseNonce: lastEDS?.nonce ?? "",
                    resourceNames: names.sorted())
            ).responses
        }
        func settle(_ responses: [SotWResponse]) {
            var queue = responses
            while !queue.isEmpty {
                let response = queue.removeFirst()
                if response.type == .cluster {
                    let sent = Dictionary(uniqueKeysWithValues: response.resources.map { ($0.name, $0.version) })
                    for (name, version) in sent where clusters[name] != version { owed.insert(name) }
                    clusters = sent
                    owed.formIntersection(sent.keys)
                    queue += machine.receive(ack(response)).responses
                    if Set(sent.keys) != subscribed { queue += askForEndpoints(Set(sent.keys)) }
                } else {
                    for resource in response.resources {
                        endpoints[resource.name] = resource.version
                        owed.remove(resource.name)
                    }
                    lastEDS = response
                    queue += machine.receive(ack(response, names: subscribed.sorted())).responses
                }
            }
        }
        settle(machine.update(snapshot).responses)
        settle(machine.receive(SotWRequest(typeURL: F.cds)).responses)
        for step in 0..<300 {
            switch Int.random(in: 0..<10, using: &random) {
            case 0..<5:
                snapshot = try clusterSet.change(using: &random)
                settle(machine.update(snapshot).responses)
            case 5..<7:
                // Another snapshot before the client has answered for the one before.
                let first = machine.update(try clusterSet.change(using: &random)).responses
                snapshot = try clusterSet.change(using: &random)
                settle(first + machine.update(snapshot).responses)
            default:
                // The client asks for a few names more or fewer than its clusters'.
                var names = subscribed
                for _ in 0..<Int.random(in: 1...2, using: &random) {
                    let name = universe.randomElement(using: &random)!
                    if names.contains(name) { names.remove(name) } else { names.insert(name) }
                }
                settle(askForEndpoints(names))
            }
            let wanted = snapshot[.endpoint].versions.filter { subscribed.contains($0.key) }
            #expect(clusters == snapshot[.cluster].versions, "step \(step): clusters")
            #expect(endpoints.filter { wanted[$0.key] != nil } == wanted, "step \(step): load assignments")
            #expect(owed.isDisjoint(with: wanted.keys), "step \(step): updated clusters still waiting: \(owed)")
        }
    }

    @Test("an updated cluster's unchanged load assignment is sent again with it: Envoy warms the cluster on it")
    func updatedClusterResendsEndpoints() throws {
        var (machine, _) = try connected(try F.snapshot(clusters: ["a": 1, "b": 2]))
        let eds = try #require(machine.receive(SotWRequest(typeURL: F.eds, resourceNames: ["a", "b"])).responses.first)
        _ = machine.receive(
            SotWRequest(
                typeURL: F.eds, versionInfo: eds.versionInfo, responseNonce: eds.nonce, resourceNames: ["a", "b"]))
        let update = machine.update(try F.snapshot(clusters: ["a": 1, "b": 2], connectTimeouts: ["a": 5]))
        #expect(update.responses.map(\.type) == [.cluster, .endpoint])
        #expect(update.responses.last?.names == ["a", "b"])
    }
}
