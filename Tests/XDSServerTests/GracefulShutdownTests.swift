import EnvoyAPI
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import ServiceLifecycle
import Testing
import XDSCache
import XDSServer
import XDSTesting

@Suite("ADS server lifecycle")
struct GracefulShutdownTests {
    /// The server of `transport` as a service, with its stream registry and port.
    static func server(_ transport: ADSServerConfiguration.Transport, watcher: any ConfigWatcher) -> (
        service: any Service, registry: StreamRegistry, port: @Sendable () async throws -> Int
    ) {
        let configuration = ADSServerConfiguration(host: "127.0.0.1", port: 0)
        switch transport {
        case .grpc:
            let server = ADSServer(configuration: configuration, watcher: watcher, logger: testLogger())
            return (server, server.registry, server.listeningPort)
        case .nio:
            let server = NIOADSServer(configuration: configuration, watcher: watcher, logger: testLogger())
            return (server, server.registry, server.listeningPort)
        }
    }

    @Test(
        "graceful shutdown ends open ADS streams with status OK and the server returns",
        arguments: ADSServerConfiguration.Transport.allCases)
    func gracefulShutdownEndsStreams(transport: ADSServerConfiguration.Transport) async throws {
        let cache = SnapshotCache()
        try cache.setSnapshot(try Fixtures.snapshot(clusters: ["a": 1]), for: "default/gw")
        let server = Self.server(transport, watcher: cache)
        let services = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: server.service)], logger: testLogger("test.lifecycle")))

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await services.run() }
            let port = try await server.port()
            try await withGRPCClient(
                transport: .http2NIOPosix(
                    target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext)
            ) { grpc in
                try await ADSTestClient.withSotWStream(ADSTestClient.Client(wrapping: grpc)) { stream in
                    var request = Envoy_Service_Discovery_V3_DiscoveryRequest()
                    request.typeURL = ResourceType.cluster.typeURL
                    request.node = ADSTestClient.node(id: "envoy", cluster: "default/gw")
                    stream.send(request)
                    var responses = stream.responses.makeAsyncIterator()
                    let first = try await responses.next()
                    #expect(first?.resources.count == 1)
                    #expect(server.registry.streams.count == 1)

                    await services.triggerGracefulShutdown()
                    let end = try await responses.next()
                    #expect(end == nil, "the stream should end with OK status, not an error")
                }
            }
            try await group.next()
            #expect(server.registry.streams.isEmpty)
        }
    }

}
