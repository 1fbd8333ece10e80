import CanonicalText
import Foundation
import GatewayIR
import Testing
import XDSTesting
import XDSTranslator
import Yams

/// Stage two of the goldens: each case's `ir.yaml` (stage one's output, see `IRGoldenTests`) →
/// `xds.yaml`, every Gateway's clusters, endpoints, listeners and routes as Envoy's config_dump
/// prints them. Starting from the IR file keeps this stage about the xDS translator alone.
@Suite("Golden translations, stage two: IR → xDS")
struct XDSGoldenTests {
    struct Stage1: Decodable {
        var gateways: [GatewayConfig]
    }

    static func render(_ name: String) throws -> String {
        let golden = GoldenCase(named: name)
        let ir = try YAMLDecoder().decode(Stage1.self, from: try golden.expected("ir.yaml"))
        let gateways = try ir.gateways.map { config in
            "{\"name\":" + (try CanonicalText.encode(config.key)) + ","
                + (try SnapshotJSON.members(try SnapshotTranslator.snapshot(config))) + "}"
        }
        // What a stock envoyproxy/ratelimit is served, for every Gateway at once.
        let rateLimit = try SnapshotJSON.rateLimitConfigs(try RateLimitServiceConfig.snapshot(ir.gateways))
        return try CanonicalText.yaml(
            "{\"gateways\":[" + gateways.joined(separator: ",") + "]" + (rateLimit.map { "," + $0 } ?? "") + "}")
    }

    @Test("each case's IR becomes its xds.yaml", arguments: GoldenCase.names)
    func golden(_ name: String) throws {
        if let difference = try GoldenCase(named: name).compare(try Self.render(name), with: "xds.yaml") {
            Issue.record("\(difference)")
        }
    }

    /// A marker, as it reads in `xds.yaml`, of every Envoy feature XDSTranslator emits: a policy
    /// that silently fails to load leaves its marker out of every golden, and this fails.
    static let featureMarkers = [
        // HTTP filters.
        "envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit", "descriptors:",
        "envoy.extensions.filters.http.fault.v3.HTTPFault", "fixedDelay:", "abort:",
        "envoy.extensions.filters.http.grpc_web.v3.GrpcWeb", "envoy.extensions.filters.http.grpc_stats.v3.FilterConfig",
        "envoy.extensions.filters.http.router.v3.Router", "typedPerFilterConfig:",
        "envoy.extensions.filters.http.ratelimit.v3.RateLimit",
        "envoy.extensions.filters.http.ratelimit.v3.RateLimitPerRoute",
        "genericKey:", "hitsAddend:", "applyOnStreamDone:", "dynamicMetadata:", "ratelimit_cluster",
        "rateLimitConfigs:", "requestsPerUnit:", "shadowMode:",
        // Where each resource came from (Envoy Gateway's tag), and the default access logs.
        "envoy-gateway:", "sectionName:", "envoy.extensions.access_loggers.file.v3.FileAccessLog",
        "responseFlagFilter:",
        // Load balancing.
        "envoy.extensions.load_balancing_policies.round_robin.v3.RoundRobin",
        "envoy.extensions.load_balancing_policies.least_request.v3.LeastRequest",
        "envoy.extensions.load_balancing_policies.random.v3.Random",
        "envoy.extensions.load_balancing_policies.maglev.v3.Maglev",
        "envoy.extensions.load_balancing_policies.override_host.v3.OverrideHost", "slowStartConfig:", "hashPolicy:",
        "healthyPanicThreshold:", "zoneAwareLbConfig:",
        // Upstream health and connections.
        "outlierDetection:", "healthChecks:", "circuitBreakers:", "preconnectPolicy:", "tcpKeepalive:",
        "perConnectionBufferLimitBytes:", "envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
        "http2ProtocolOptions:", "envoy.extensions.transport_sockets.proxy_protocol.v3.ProxyProtocolUpstreamTransport",
        "envoy.extensions.clusters.dns.v3.DnsCluster", "dnsRefreshRate:", "respectDnsTtl:", "dnsLookupFamily:",
        // Routes.
        "retryPolicy:", "envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate",
        "envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig", "timeout:", "idleTimeout:",
        "maxStreamDuration:", "requestHeadersToAdd:", "responseHeadersToAdd:",
        "requestHeadersToRemove:", "prefixRewrite:", "regexRewrite:", "hostRewriteLiteral:", "redirect:",
        "directResponse:",
    ]

    @Test("some golden xds.yaml shows every feature the xDS translator can emit")
    func featureCoverage() throws {
        let outputs = try GoldenCase.allOutputs("xds.yaml")
        let missing = Self.featureMarkers.filter { !outputs.contains($0) }
        #expect(missing.isEmpty, "no golden xds.yaml has \(missing): add a case that emits each")
    }
}
