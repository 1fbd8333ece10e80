import ControlPlane
import Foundation
import GatewayAPI
import Testing

/// `cases/<case>/input/*.yaml` → `cases/<case>/output.yaml`: every Gateway's xDS resources,
/// the status of every Gateway and route, and the load's diagnostics. A change in output is a
/// diff to review; `SWITCHBOARD_UPDATE_GOLDENS=1 swift test --filter GoldenTests` rewrites them
/// (and removes outputs whose inputs are gone).
@Suite("Golden translations")
struct GoldenTests {
    static let casesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("cases")
    static let updating = ProcessInfo.processInfo.environment["SWITCHBOARD_UPDATE_GOLDENS"] == "1"

    static var cases: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: casesDirectory.path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted()
    }

    @Test("the translation of each case matches its golden output", arguments: cases)
    func golden(_ name: String) throws {
        let directory = Self.casesDirectory.appendingPathComponent(name)
        let input = directory.appendingPathComponent("input")
        let expectedURL = directory.appendingPathComponent("output.yaml")
        guard FileManager.default.fileExists(atPath: input.path) else {
            // A golden without inputs is stale.
            if Self.updating { try FileManager.default.removeItem(at: directory) }
            Issue.record("case \(name) has no input/ directory\(Self.updating ? "; removed" : "")")
            return
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: input.path).filter { !$0.hasPrefix(".") }.sorted()
        // Paths relative to the case, so diagnostics read the same on every machine.
        let files = try names.map { file in
            (path: "input/\(file)", contents: try String(contentsOf: input.appendingPathComponent(file), encoding: .utf8))
        }
        let actual = try Translation.renderAll(ResourceSet.load(files))
        if Self.updating {
            try actual.write(to: expectedURL, atomically: true, encoding: .utf8)
            return
        }
        let expected = try String(contentsOf: expectedURL, encoding: .utf8)
        #expect(actual == expected, "\(name): output differs from output.yaml\n\(firstDifference(expected, actual))")
    }

    @Test("the cases cover every input kind and every class of validation error")
    func coverage() throws {
        var inputs = ""
        var outputs = ""
        for name in Self.cases {
            let directory = Self.casesDirectory.appendingPathComponent(name)
            let input = directory.appendingPathComponent("input")
            for file in (try? FileManager.default.contentsOfDirectory(atPath: input.path)) ?? [] {
                inputs += try String(contentsOf: input.appendingPathComponent(file), encoding: .utf8)
            }
            outputs += (try? String(contentsOf: directory.appendingPathComponent("output.yaml"), encoding: .utf8)) ?? ""
        }
        for kind in [
            "GatewayClass", "Gateway", "HTTPRoute", "GRPCRoute", "Backend", "Service", "EndpointSlice", "ReferenceGrant", "List",
        ] {
            #expect(inputs.contains("kind: \(kind)\n") || inputs.contains("\"kind\": \"\(kind)\""), "no case has a \(kind)")
        }
        // One phrase from each class of load error, and each reference problem reported as status.
        for phrase in [
            "YAML: ", "YAML reads unquoted Off as a boolean", "must be an integer, not", "is required", "must be one of", "must be between", "already defined",
            "did you mean", "unknown kind", "BackendNotFound", "NoMatchingParent", "NotAllowedByListeners",
            "NoMatchingListenerHostname", "RefNotPermitted", "PortNotFound", "InvalidKind", "UnsupportedProtocol",
        ] {
            #expect(outputs.contains(phrase), "no golden output shows \"\(phrase)\"")
        }
    }

    /// A marker, as it reads in a golden output, of every Envoy feature XDSTranslator emits: a
    /// policy that silently fails to load leaves its marker out of every golden, and this fails.
    static let featureMarkers = [
        // HTTP filters.
        "envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit", "descriptors:",
        "envoy.extensions.filters.http.fault.v3.HTTPFault", "fixedDelay:", "abort:",
        "envoy.extensions.filters.http.grpc_web.v3.GrpcWeb", "envoy.extensions.filters.http.grpc_stats.v3.FilterConfig",
        "envoy.extensions.filters.http.router.v3.Router", "typedPerFilterConfig:",
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

    @Test("some golden output shows every feature the xDS translator can emit")
    func featureCoverage() throws {
        let outputs = try Self.cases.map { name in
            try String(
                contentsOf: Self.casesDirectory.appendingPathComponent(name).appendingPathComponent("output.yaml"),
                encoding: .utf8)
        }.joined()
        let missing = Self.featureMarkers.filter { !outputs.contains($0) }
        #expect(missing.isEmpty, "no golden output has \(missing): add a case that emits each")
    }

    private func firstDifference(_ expected: String, _ actual: String) -> String {
        let (a, b) = (expected.split(separator: "\n", omittingEmptySubsequences: false), actual.split(separator: "\n", omittingEmptySubsequences: false))
        for index in 0..<max(a.count, b.count) where index >= a.count || index >= b.count || a[index] != b[index] {
            let want = index < a.count ? String(a[index]) : "<end>"
            let got = index < b.count ? String(b[index]) : "<end>"
            return "line \(index + 1):\n  expected: \(want)\n  actual:   \(got)\n(SWITCHBOARD_UPDATE_GOLDENS=1 rewrites the goldens)"
        }
        return ""
    }
}
