import Foundation
import GatewayIR
import SwiftProtobuf
import Testing
import XDSCache
import XDSTesting
import Yams

@testable import XDSTranslator

/// A translation that reuses what the last one made (TranslationMemo) serves exactly the bytes a
/// fresh one would: every golden case's IR, translated after itself and after every other case
/// (whose clusters and virtual hosts often share its names but not its content).
@Suite("Translation memo")
struct TranslationMemoTests {
    static func gateways(_ name: String) throws -> [GatewayConfig] {
        try YAMLDecoder().decode(XDSGoldenTests.Stage1.self, from: try GoldenCase(named: name).expected("ir.yaml"))
            .gateways
    }

    /// Every resource as type, name and bytes: equal only if each resource is.
    static func contents(_ snapshot: Snapshot) -> [String: Data] {
        var contents: [String: Data] = [:]
        for type in ResourceType.allCases {
            for resource in snapshot[type].byName.values { contents["\(type)/\(resource.name)"] = resource.encoded }
        }
        return contents
    }

    static var deterministic: BinaryEncodingOptions {
        var options = BinaryEncodingOptions()
        options.useDeterministicOrdering = true
        return options
    }

    @Test("a route configuration put together from its virtual hosts has SwiftProtobuf's own bytes")
    func routeConfigurationBytes() throws {
        var listeners = 0
        for name in GoldenCase.names {
            for config in try Self.gateways(name) {
                for listener in config.listeners {
                    var memo = TranslationMemo()
                    let spliced = try RouteTranslator.routeConfigurationResource(listener, memo: &memo)
                    let whole = try Resource(try RouteTranslator.routeConfiguration(listener))
                    #expect(spliced.encoded == whole.encoded, "\(name): \(listener.name)")
                    #expect(spliced.version == whole.version)
                    // The memo keeps the resource's own bytes and where each host's encoding lies in them.
                    let kept = try #require(memo.parts.virtualHosts[listener.name])
                    #expect(kept.encoded == spliced.encoded)
                    #expect(kept.hosts.parts.map(\.ir) == listener.virtualHosts)
                    for host in kept.hosts.parts {
                        let own: [UInt8] = try RouteTranslator.virtualHost(host.ir).serializedBytes(
                            options: Self.deterministic)
                        #expect(Data(own) == spliced.encoded[host.made], "\(host.ir.name)")
                    }
                    listeners += 1
                }
            }
        }
        #expect(listeners > 20)
    }

    @Test("after any case, each case translates to the bytes a fresh translation gives", arguments: GoldenCase.names)
    func reuseIsExact(_ name: String) throws {
        for config in try Self.gateways(name) {
            let fresh = Self.contents(try SnapshotTranslator.snapshot(config))
            var reusedSomewhere = false
            for previous in GoldenCase.names {
                for earlier in try Self.gateways(previous) {
                    var memo = TranslationMemo()
                    _ = try SnapshotTranslator.snapshot(earlier, memo: &memo)
                    let before = memo.reused
                    let again = Self.contents(try SnapshotTranslator.snapshot(config, memo: &memo))
                    #expect(again == fresh, "\(name) \(config.key) after \(previous) \(earlier.key)")
                    if previous == name && earlier.key == config.key {
                        // After itself, every cluster and virtual host is reused.
                        let parts = config.clusters.count + config.listeners.reduce(0) { $0 + $1.virtualHosts.count }
                        #expect(memo.reused - before == parts)
                    }
                    reusedSomewhere = reusedSomewhere || memo.reused > before
                }
            }
            #expect(reusedSomewhere || config.clusters.isEmpty)
        }
    }

    @Test("parts found by name when their order changed, by position when it did not; a changed part is made again")
    func orderAndChange() throws {
        let all = try GoldenCase.names.flatMap(Self.gateways)
        let big = try #require(all.max { $0.clusters.count < $1.clusters.count })
        #expect(big.clusters.count > 3)
        var memo = TranslationMemo()
        _ = try SnapshotTranslator.snapshot(big, memo: &memo)
        var reversed = big
        reversed.clusters.reverse()
        for index in reversed.listeners.indices { reversed.listeners[index].virtualHosts.reverse() }
        var before = memo.reused
        let again = try SnapshotTranslator.snapshot(reversed, memo: &memo)
        let parts = big.clusters.count + big.listeners.reduce(0) { $0 + $1.virtualHosts.count }
        #expect(memo.reused - before == parts)
        #expect(Self.contents(again) == Self.contents(try SnapshotTranslator.snapshot(reversed)))
        // The same names in the same places, one cluster's content changed: it alone is made again.
        var changed = reversed
        changed.clusters[1].groups = [EndpointGroup(weight: 1, endpoints: [Endpoint(host: "10.9.9.9", port: 9)])]
        before = memo.reused
        let edited = try SnapshotTranslator.snapshot(changed, memo: &memo)
        #expect(memo.reused - before == parts - 1)
        #expect(Self.contents(edited) == Self.contents(try SnapshotTranslator.snapshot(changed)))
    }

    @Test("an edit of some virtual hosts among many encodes those alone and gives SwiftProtobuf's own bytes")
    func hostEdits() throws {
        let all = try GoldenCase.names.flatMap(Self.gateways).flatMap(\.listeners)
        let sample = try #require(all.first { $0.virtualHosts.contains { $0.routes.count > 1 } })
        let model = try #require(sample.virtualHosts.first { $0.routes.count > 1 })
        var listener = sample
        listener.virtualHosts = (0..<8).map { index in
            var host = model
            host.name = "\(sample.name)/host-\(index)"
            host.domains = ["host-\(index).example"]
            return host
        }
        var memo = TranslationMemo()
        _ = try RouteTranslator.routeConfigurationResource(listener, memo: &memo)
        func expectFreshBytes(_ listener: HTTPListener, reused: Int, _ comment: Comment) throws {
            let before = memo.reused
            let spliced = try RouteTranslator.routeConfigurationResource(listener, memo: &memo)
            #expect(
                spliced.encoded == (try Resource(try RouteTranslator.routeConfiguration(listener))).encoded, comment)
            #expect(memo.reused - before == reused, comment)
            #expect(memo.parts.virtualHosts[listener.name]?.hosts.parts.map(\.ir) == listener.virtualHosts, comment)
        }
        // One host in the middle, the first and the last, two side by side.
        for edited in [[3], [0, 7], [4, 5]] {
            for index in edited { listener.virtualHosts[index].routes.removeLast() }
            try expectFreshBytes(listener, reused: 8 - edited.count, "hosts \(edited) edited")
            for index in edited { listener.virtualHosts[index].routes = model.routes }
            try expectFreshBytes(listener, reused: 8 - edited.count, "hosts \(edited) as they were")
        }
        // A host gone, one added, the order changed, a route configuration field changed.
        listener.virtualHosts.remove(at: 2)
        try expectFreshBytes(listener, reused: 7, "a host removed")
        var added = model
        added.name = "\(sample.name)/host-new"
        listener.virtualHosts.insert(added, at: 5)
        try expectFreshBytes(listener, reused: 7, "a host added")
        listener.virtualHosts.reverse()
        try expectFreshBytes(listener, reused: 8, "the order reversed")
        listener.virtualHosts.swapAt(0, 1)
        listener.virtualHosts[3].domains.append("more.example")
        try expectFreshBytes(listener, reused: 7, "two swapped, one edited")
    }

    @Test("a memo keeps only the last translation's parts, and a failed translation leaves none too many")
    func memoHoldsTheLastOnly() throws {
        let all = try GoldenCase.names.flatMap(Self.gateways)
        let big = try #require(all.max { $0.clusters.count < $1.clusters.count })
        var memo = TranslationMemo()
        _ = try SnapshotTranslator.snapshot(big, memo: &memo)
        #expect(memo.parts.clusters.parts.count == big.clusters.count)
        // Two clusters of one name: the snapshot refuses them.
        var failing = big
        failing.clusters.append(big.clusters[0])
        #expect(throws: SnapshotError.self) { try SnapshotTranslator.snapshot(failing, memo: &memo) }
        #expect(memo.parts.clusters.parts.count == big.clusters.count)
        var small = big
        small.clusters = Array(big.clusters.prefix(1))
        small.listeners = []
        _ = try SnapshotTranslator.snapshot(small, memo: &memo)
        #expect(memo.parts.clusters.parts.count == 1)
        #expect(memo.parts.virtualHosts.isEmpty)
    }
}
