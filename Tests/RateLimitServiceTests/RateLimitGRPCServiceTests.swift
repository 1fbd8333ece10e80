import EnvoyAPI
import GatewayIR
import Testing
import XDSTesting
import XDSTranslator
import Yams

@testable import RateLimitService

/// The service's limits come from the translated IR; the descriptors the routes' actions make
/// (as the golden `btp-global-rate-limit` writes them) find their rules.
@Suite struct RateLimitGRPCServiceTests {
    struct Stage1: Decodable { var gateways: [GatewayConfig] }

    static func goldenTable() throws -> RateLimitTable {
        let text = try GoldenCase(named: "btp-global-rate-limit").expected("ir.yaml")
        return RateLimitTable(try YAMLDecoder().decode(Stage1.self, from: text).gateways)
    }

    static let shopRoute = "httproute/apps/shop/rule/0/match/0/shop_example_com"

    @Test func tableFromTheIR() throws {
        let table = try Self.goldenTable()
        #expect(Set(table.domains.keys) == ["infra/eg/shop", "infra/eg/api", "apps/shop-limits", "apps/api-limits"])
        let route = (key: Self.shopRoute, value: Self.shopRoute)
        let exact = table.match(
            domain: "infra/eg/shop",
            entries: [
                route, ("rule-0-match-0", "rule-0-match-0"), ("rule-0-match-1", "rule-0-match-1"),
                ("rule-0-method", "rule-0-method"),
            ])
        #expect(exact?.limit == RateLimit(requestsPerUnit: 10, unit: .minute))
        let distinct = table.match(domain: "infra/eg/shop", entries: [route, ("rule-1-match-0", "alice")])
        #expect(distinct?.limit == RateLimit(requestsPerUnit: 3, unit: .second) && distinct?.shadowMode == true)
        let address = table.match(
            domain: "infra/eg/shop",
            entries: [
                route, ("rule-2-path", "rule-2-path"), ("masked_remote_address", "10.1.0.0/16"),
                ("remote_address", "10.1.5.5"), ("rule-2-match-0", "SAVE10"),
            ])
        #expect(address?.limit == RateLimit(requestsPerUnit: 5, unit: .hour))
        // Another network's masked address is not this rule's.
        #expect(
            table.match(
                domain: "infra/eg/shop",
                entries: [
                    route, ("rule-2-path", "rule-2-path"), ("masked_remote_address", "10.2.0.0/16"),
                    ("remote_address", "10.2.5.5"), ("rule-2-match-0", "SAVE10"),
                ]) == nil)
        let shared = table.match(
            domain: "apps/shop-limits",
            entries: [("apps/shop-limits/rule/3", "apps/shop-limits/rule/3"), ("rule-0-match--1", "rule-0-match--1")])
        #expect(shared?.limit == RateLimit(requestsPerUnit: 1000, unit: .day))
        // Both hostnames' routes of the shop rule share one chain each, not two.
        #expect(table.domains["infra/eg/shop"]?.first { $0.key == Self.shopRoute }?.children.count == 4)
    }

    /// ShouldRateLimit as Envoy calls it: the response carries each descriptor's status with the
    /// limit Envoy turns into `x-ratelimit-*` headers; a limit from metadata replaces the table's.
    /// What a stock envoyproxy/ratelimit reads from the xDS Switchboard serves holds the same limits
    /// as Switchboard's own service, but for `xRateLimitHeaders: Off`, which that message cannot carry.
    @Test func servedConfigurationHoldsTheSameLimits() throws {
        let text = try GoldenCase(named: "btp-global-rate-limit").expected("ir.yaml")
        let gateways = try YAMLDecoder().decode(Stage1.self, from: text).gateways
        let served = RateLimitTable(rateLimitConfigs: RateLimitServiceConfig.configs(gateways))
        var own = RateLimitTable(gateways)
        func headersOn(_ node: inout RateLimitTable.Node) {
            node.headersOff = false
            for index in node.children.indices { headersOn(&node.children[index]) }
        }
        for domain in own.domains.keys {
            for index in own.domains[domain]!.indices { headersOn(&own.domains[domain]![index]) }
        }
        #expect(served == own)
        #expect(!served.domains.isEmpty)
        #expect(served.domains["infra/eg/shop"]?.first?.children.count == 4)
    }

    @Test func answersShouldRateLimit() async throws {
        let clock = SteppedClock(1_800_000_000)
        let service = RateLimitGRPCService(
            limiter: FixedWindowLimiter(store: MemoryCounterStore(now: clock.now), now: clock.now))
        service.update(try Self.goldenTable())
        func request(_ entries: [(String, String)], override: UInt32? = nil)
            -> Envoy_Service_Ratelimit_V3_RateLimitRequest
        {
            var request = Envoy_Service_Ratelimit_V3_RateLimitRequest()
            request.domain = "infra/eg/shop"
            var descriptor = Envoy_Extensions_Common_Ratelimit_V3_RateLimitDescriptor()
            descriptor.entries = ([(Self.shopRoute, Self.shopRoute)] + entries).map { key, value in
                var entry = Envoy_Extensions_Common_Ratelimit_V3_RateLimitDescriptor.Entry()
                entry.key = key
                entry.value = value
                return entry
            }
            if let override {
                descriptor.limit.requestsPerUnit = override
                descriptor.limit.unit = .minute
            }
            request.descriptors = [descriptor]
            return request
        }
        let exact = [
            ("rule-0-match-0", "rule-0-match-0"), ("rule-0-match-1", "rule-0-match-1"),
            ("rule-0-method", "rule-0-method"),
        ]
        for remaining in (0..<10).reversed() {
            let response = try await service.respond(to: request(exact))
            #expect(response.overallCode == .ok)
            #expect(response.statuses.first?.limitRemaining == UInt32(remaining))
            #expect(response.statuses.first?.currentLimit.requestsPerUnit == 10)
            #expect(response.statuses.first?.currentLimit.unit == .minute)
        }
        let over = try await service.respond(to: request(exact))
        #expect(over.overallCode == .overLimit)
        // 1 800 000 000 is a whole minute: the window has all of its 60 s left.
        let reset: Int64? = over.statuses.first?.durationUntilReset.seconds
        #expect(reset == 60)
        let tenant = [("rule-3-match-0", "acme")]
        #expect(try await service.respond(to: request(tenant, override: 1)).overallCode == .ok)
        #expect(try await service.respond(to: request(tenant, override: 1)).overallCode == .overLimit)
        let unknown = try await service.respond(to: request([("nothing", "here")]))
        #expect(unknown.overallCode == .ok && !unknown.statuses[0].hasCurrentLimit)
    }
}
