import EnvoyAPI
import Foundation
import SwiftProtobuf
import Testing
import XDSCache
import XDSTesting

@Suite("Resources and snapshots")
struct SnapshotTests {
    @Test("resource types are declared in ADS order with Envoy's type URLs")
    func adsOrder() {
        #expect(ResourceType.allCases == [.cluster, .endpoint, .secret, .listener, .route, .rateLimitConfig])
        #expect(
            ResourceType.allCases.map(\.typeURL) == [
                "type.googleapis.com/envoy.config.cluster.v3.Cluster",
                "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment",
                "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret",
                "type.googleapis.com/envoy.config.listener.v3.Listener",
                "type.googleapis.com/envoy.config.route.v3.RouteConfiguration",
                "type.googleapis.com/ratelimit.config.ratelimit.v3.RateLimitConfig",
            ])
        #expect(ResourceType(typeURL: "type.googleapis.com/envoy.config.route.v3.RouteConfiguration") == .route)
        #expect(ResourceType(typeURL: "type.googleapis.com/envoy.config.route.v3.ScopedRouteConfiguration") == nil)
    }

    @Test("a resource's version is a hash of its content: equal content, equal version, whatever the map order")
    func contentVersions() throws {
        func cluster(_ keys: [String], timeout: Int64 = 1) throws -> Resource {
            var cluster = TestResources.edsCluster("c", connectTimeoutSeconds: timeout)
            var fields = Google_Protobuf_Struct()
            for key in keys { fields.fields[key] = Google_Protobuf_Value(stringValue: "value-\(key)") }
            cluster.metadata.filterMetadata["switchboard"] = fields
            return try Resource(cluster)
        }
        let keys = (0..<50).map { "key\($0)" }
        let forward = try cluster(keys)
        let backward = try cluster(keys.reversed())
        #expect(forward.version == backward.version)
        #expect(forward.packed.value == backward.packed.value, "deterministic serialization gives equal bytes")
        #expect(try cluster(keys, timeout: 2).version != forward.version)
        #expect(forward.version.count == 15)
    }

    @Test("each type's URL is that of the message it holds, as a response's Any names it")
    func typeURLs() throws {
        func check<Message: XDSResourceMessage>(_ message: Message) throws {
            let resource = try Resource(message)
            #expect(resource.packed.typeURL == "type.googleapis.com/" + Message.protoMessageName)
            #expect(resource.packed.typeURL == Message.resourceType.typeURL)
            #expect(resource.packed == (try Google_Protobuf_Any.deterministic(message)))
            #expect(resource.deltaResource.resource == resource.packed)
        }
        try check(TestResources.edsCluster("c"))
        try check(TestResources.loadAssignment("c", endpoints: [("127.0.0.1", 1)]))
        try check(TestResources.httpListener("l", port: 1, routeConfigName: "r"))
        try check(TestResources.routeConfiguration("r", routes: [("/", "c")]))
        var secret = Envoy_Extensions_TransportSockets_Tls_V3_Secret()
        secret.name = "s"
        try check(secret)
    }

    @Test("a nested Any packed with .deterministic keeps a listener's version stable")
    func nestedAnyDeterministic() throws {
        let a = try Resource(TestResources.httpListener("l", port: 1, routeConfigName: "r"))
        let b = try Resource(TestResources.httpListener("l", port: 1, routeConfigName: "r"))
        #expect(a.version == b.version)
        #expect(a.references == ["r"])
    }

    @Test("per-type versions depend on content only, not on the order resources were given")
    func typeVersions() throws {
        let a = try Resource(TestResources.edsCluster("a"))
        let b = try Resource(TestResources.edsCluster("b"))
        let ea = try Resource(TestResources.loadAssignment("a", endpoints: [("127.0.0.1", 1)]))
        let eb = try Resource(TestResources.loadAssignment("b", endpoints: [("127.0.0.1", 2)]))
        let one = try Snapshot([a, b, ea, eb])
        let two = try Snapshot([eb, ea, b, a])
        #expect(one == two)
        #expect(one.version(of: .cluster) == two.version(of: .cluster))
        #expect(one.version(of: .cluster) != one.version(of: .endpoint))
        let changed = try Snapshot([
            a, b, ea, try Resource(TestResources.loadAssignment("b", endpoints: [("127.0.0.1", 3)])),
        ])
        #expect(changed.version(of: .cluster) == one.version(of: .cluster))
        #expect(changed.version(of: .endpoint) != one.version(of: .endpoint))
    }

    @Test("two resources of one type with one name are refused")
    func duplicateNames() throws {
        let a = try Resource(TestResources.edsCluster("a"))
        let again = try Resource(TestResources.edsCluster("a", connectTimeoutSeconds: 5))
        #expect(throws: SnapshotError.duplicateName(type: .cluster, name: "a")) { try Snapshot([a, again]) }
    }

    @Test("consistency: every SDS secret a listener's TLS loads exists, and no secret is left over")
    func secretConsistency() throws {
        var listener = try TestResources.httpListener("l", port: 1, routeConfigName: "r")
        var tls = Envoy_Extensions_TransportSockets_Tls_V3_DownstreamTlsContext()
        var sds = Envoy_Extensions_TransportSockets_Tls_V3_SdsSecretConfig()
        sds.name = "ns/cert"
        tls.commonTlsContext.tlsCertificateSdsSecretConfigs = [sds]
        var chain = listener.filterChains.first ?? listener.defaultFilterChain
        chain.transportSocket.name = "envoy.transport_sockets.tls"
        chain.transportSocket.typedConfig = try .deterministic(tls)
        listener.clearDefaultFilterChain()
        listener.filterChains = [chain]
        let withTLS = try Resource(listener)
        #expect(withTLS.secretReferences == ["ns/cert"])

        let routes = try Resource(TestResources.routeConfiguration("r", routes: []))
        var secret = Envoy_Extensions_TransportSockets_Tls_V3_Secret()
        secret.name = "ns/cert"
        let cert = try Resource(secret)
        secret.name = "ns/unused"
        let unused = try Resource(secret)
        #expect(try Snapshot([withTLS, routes, cert]).inconsistencies().isEmpty)
        #expect(
            try Snapshot([withTLS, routes]).inconsistencies() == [
                .missingReference(from: .listener, name: "l", to: .secret, missing: "ns/cert")
            ])
        #expect(
            try Snapshot([withTLS, routes, cert, unused]).inconsistencies() == [
                .unreferenced(type: .secret, name: "ns/unused", expectedFrom: .listener)
            ])
    }

    @Test("consistency: every EDS and RDS name a cluster or listener needs exists, and nothing is left over")
    func consistency() throws {
        let cluster = try Resource(TestResources.edsCluster("a"))
        let endpoints = try Resource(TestResources.loadAssignment("a", endpoints: []))
        let orphan = try Resource(TestResources.loadAssignment("zombie", endpoints: []))
        let listener = try Resource(TestResources.httpListener("l", port: 1, routeConfigName: "r"))
        let routes = try Resource(TestResources.routeConfiguration("r", routes: [("/", "a")]))

        #expect(try Snapshot([cluster, endpoints, listener, routes]).inconsistencies().isEmpty)
        #expect(
            try Snapshot([cluster, listener, routes]).inconsistencies() == [
                .missingReference(from: .cluster, name: "a", to: .endpoint, missing: "a")
            ])
        #expect(
            try Snapshot([cluster, endpoints, listener]).inconsistencies() == [
                .missingReference(from: .listener, name: "l", to: .route, missing: "r")
            ])
        #expect(
            try Snapshot([cluster, endpoints, orphan, listener, routes]).inconsistencies() == [
                .unreferenced(type: .endpoint, name: "zombie", expectedFrom: .cluster)
            ])
        let message = SnapshotError.missingReference(from: .cluster, name: "a", to: .endpoint, missing: "a").description
        #expect(message.contains("needs eds resource \"a\""))

        var named = TestResources.edsCluster("b")
        named.edsClusterConfig.serviceName = "b-endpoints"
        #expect(try Resource(named).references == ["b-endpoints"], "service_name, when set, names the EDS resource")
        var staticCluster = TestResources.edsCluster("s")
        staticCluster.type = .static
        #expect(try Resource(staticCluster).references.isEmpty)
    }

    @Test(
        "a type's version is the hash of its sorted name-version lines, in every process and whatever the order given")
    func typeVersion() throws {
        // First 60 bits of SHA-256 of "a\01\nb\02\n": versions must not change from one build to
        // the next, or a restarted server would resend everything to every Envoy.
        #expect(ContentHash.version(ofNamedVersions: [("b", "2"), ("a", "1")]) == "1a04f75bd0704a1")
        // A resource's version: SHA-256 of "abc" is ba7816bf 8f01cfea 414140de …; of "", e3b0c442 98fc1c14.
        #expect(ContentHash.version(of: Data("abc".utf8)) == "ba7816bf8f01cfe")
        #expect(ContentHash.version(of: Data()) == "e3b0c44298fc1c1")
        let snapshot = try TestResources.snapshot(
            listenerPort: 8080, clusters: [("c", []), ("a", []), ("b", [("127.0.0.1", 1)])])
        for type in [ResourceType.cluster, .endpoint] {
            let pairs = snapshot[type].sorted.map { ($0.name, $0.version) }
            #expect(pairs.map(\.0) == ["a", "b", "c"])
            #expect(snapshot.version(of: type) == ContentHash.version(ofNamedVersions: pairs.reversed()))
        }
    }
}
