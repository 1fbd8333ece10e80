import EnvoyAPI
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import RateLimitService
import Testing
import XDSCache
import XDSTesting

/// A rate limit service run beside Switchboard rather than in it, as Envoy Gateway runs
/// envoyproxy/ratelimit: `serve --ratelimit-envoy-address` points Envoy at it and serves it its
/// limits over ADS (node `envoy-ratelimit`, SotW, wildcard). The test plays that service the way
/// envoyproxy/ratelimit does: it fetches the RateLimitConfig resources, ACKs them, and answers
/// Envoy from them alone, so the limits Envoy enforces came through xDS.
@Suite(
    "an external rate limit service fed over xDS, with a real Envoy",
    .enabled(if: envoyRequired, "no Envoy binary (set ENVOY_BIN or create .venv)"))
struct ExternalRateLimitServiceEndToEndTests {
    static func policy(requests: Int) -> String {
        TestManifests.appWithGlobalRateLimit(
            rules: """
                - clientSelectors: [{headers: [{name: x-limited, value: "yes"}]}]
                  limit: {requests: \(requests), unit: Hour}
                """)
    }

    typealias Config = Ratelimit_Config_Ratelimit_V3_RateLimitConfig

    /// The request envoyproxy/ratelimit's xDS client sends: its node id, no cluster, no names.
    static func request(
        version: String = "", nonce: String = ""
    ) -> Envoy_Service_Discovery_V3_DiscoveryRequest {
        var request = Envoy_Service_Discovery_V3_DiscoveryRequest()
        request.node.id = "envoy-ratelimit"
        request.typeURL = ResourceType.rateLimitConfig.typeURL
        request.versionInfo = version
        request.responseNonce = nonce
        return request
    }

    static func configs(_ response: Envoy_Service_Discovery_V3_DiscoveryResponse) throws -> [Config] {
        try response.resources.map {
            #expect($0.typeURL == ResourceType.rateLimitConfig.typeURL)
            return try Config(serializedBytes: $0.value)
        }
    }

    @Test("Envoy enforces the limits an external service fetched over ADS, and an edit reaches it")
    func fedOverXDS() async throws {
        let upstream = try await UpstreamServer.start(name: "app")
        defer { Task { await upstream.stop() } }
        let (listenerPort, xdsPort, adminPort, rateLimitPort) = (
            try freePort(), try freePort(), try freePort(), try freePort()
        )
        let gateway = TestManifests.gatewayAndApp(listenerPort: listenerPort, upstreamPort: upstream.port)
        let directory = try SwitchboardCommand.configDirectory(
            "external-rate-limit", files: ["gateway.yaml": gateway + "---\n" + Self.policy(requests: 3)])
        let serve = try SwitchboardCommand.serve(
            config: directory, xdsPort: xdsPort, adminPort: adminPort,
            extra: ["--ratelimit-envoy-address", "127.0.0.1:\(rateLimitPort)", "--ratelimit-timeout", "10s"])
        defer { if serve.isRunning { serve.terminate() } }

        let service = RateLimitGRPCService(
            limiter: FixedWindowLimiter(
                store: MemoryCounterStore(now: { Int64(Date().timeIntervalSince1970) }),
                now: { Int64(Date().timeIntervalSince1970) }))
        let server = RateLimitServer(host: "127.0.0.1", port: rateLimitPort, service: service)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            defer { group.cancelAll() }
            let ready = await eventually(timeout: .seconds(60)) {
                try await HTTP.get("http://127.0.0.1:\(adminPort)/readyz").status == 200
            }
            try #require(ready, "switchboard serve did not become ready")
            try await withGRPCClient(
                transport: .http2NIOPosix(
                    target: .ipv4(address: "127.0.0.1", port: xdsPort), transportSecurity: .plaintext)
            ) { grpc in
                try await ADSTestClient.withSotWStream(ADSTestClient.Client(wrapping: grpc)) { stream in
                    stream.send(Self.request())
                    var responses = stream.responses.makeAsyncIterator()
                    let first = try #require(try await responses.next())
                    let configs = try Self.configs(first)
                    #expect(configs.map(\.domain) == ["default/eg/http"])
                    #expect(configs.map(\.name) == ["default/eg/http"])
                    service.update(RateLimitTable(rateLimitConfigs: configs))
                    stream.send(Self.request(version: first.versionInfo, nonce: first.nonce))

                    let envoy = try await EnvoyProcess.start(
                        bootstrap: try SwitchboardCommand.bootstrap(
                            xdsPort: xdsPort, gateway: "default/eg", delta: false))
                    defer { Task { await envoy.stop() } }
                    let up = await eventually(timeout: .seconds(90)) {
                        try await HTTP.get("http://127.0.0.1:\(listenerPort)/").status == 200
                    }
                    try #require(up, "Envoy log:\n\(envoy.log().suffix(2000))")
                    try await GlobalRateLimitEndToEndTests.awayFromTheHour()
                    func limited() async throws -> [Int] {
                        try await (0..<5).asyncMap { _ in
                            try await HTTP.get("http://127.0.0.1:\(listenerPort)/", headers: ["x-limited": "yes"])
                                .status
                        }
                    }
                    #expect(try await limited() == [200, 200, 200, 429, 429])
                    #expect(try await HTTP.get("http://127.0.0.1:\(listenerPort)/").status == 200)

                    // An edit reaches the service over the same stream.
                    try (gateway + "---\n" + Self.policy(requests: 100)).write(
                        to: directory.appendingPathComponent("gateway.yaml"), atomically: true, encoding: .utf8)
                    let second = try #require(try await responses.next())
                    #expect(second.versionInfo != first.versionInfo)
                    let edited = try Self.configs(second)
                    let limit = edited.first?.descriptors.first?.descriptors.first?.rateLimit
                    #expect(limit?.requestsPerUnit == 100 && limit?.unit == .hour)
                    service.update(RateLimitTable(rateLimitConfigs: edited))
                    stream.send(Self.request(version: second.versionInfo, nonce: second.nonce))
                    #expect(try await limited() == [200, 200, 200, 200, 200])
                    stream.close()
                }
            }
        }
    }
}
