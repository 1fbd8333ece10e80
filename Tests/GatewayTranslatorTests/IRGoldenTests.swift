import CanonicalText
import Foundation
import GatewayAPI
import GatewayIR
import GatewayTranslator
import Testing
import XDSTesting
import Yams

/// Stage one of the goldens: `Tests/Goldens/<case>/input/*.yaml` → `ir.yaml`, what the Gateway
/// translator decided before any Envoy type exists: the load's diagnostics, each Gateway's IR and
/// the status of every Gateway, route and policy. Stage two (`XDSTranslatorTests`) starts from
/// this file's `gateways`. A change is a diff to review; `SWITCHBOARD_UPDATE_GOLDENS=1 swift test
/// --filter Golden` rewrites both stages.
@Suite("Golden translations, stage one: YAML → IR and status")
struct IRGoldenTests {
    /// What `ir.yaml` holds.
    struct Document: Codable, Equatable {
        var diagnostics: [String]
        var gateways: [GatewayConfig]
    }

    /// The time certificates in the cases are judged by: fixed, so the goldens never age.
    static let goldenNow = Date(timeIntervalSince1970: 1_780_000_000)  // 2026-05-28

    static func render(_ name: String) throws -> (text: String, gateways: [GatewayConfig]) {
        let golden = GoldenCase(named: name)
        let resources = ResourceSet.load(try golden.inputs())
        let output = GatewayTranslator.translate(
            resources, options: .init(now: goldenNow, rateLimitService: try golden.rateLimitService()))
        let gateways = output.configs.sorted { $0.key < $1.key }
        let document = try CanonicalText.encode(
            Document(diagnostics: resources.diagnostics.map(\.description), gateways: gateways))
        // The status report after the IR: `{…,"status":…}`.
        let json = document.dropLast() + ",\"status\":" + (try CanonicalText.encode(output.status)) + "}"
        return (try CanonicalText.yaml(String(json)), gateways)
    }

    @Test("each case's IR and status match its ir.yaml", arguments: GoldenCase.names)
    func golden(_ name: String) throws {
        let (text, _) = try Self.render(name)
        if let difference = try GoldenCase(named: name).compare(text, with: "ir.yaml") { Issue.record("\(difference)") }
    }

    /// Stage two reads `ir.yaml` back: it must be the IR itself, not a lossy picture of it.
    @Test("ir.yaml reads back as the IR the translator made", arguments: GoldenCase.names)
    func readsBack(_ name: String) throws {
        let (text, gateways) = try Self.render(name)
        let decoded = try YAMLDecoder().decode(Document.self, from: text)
        #expect(decoded.gateways == gateways)
    }

    @Test("the cases cover every input kind and every class of validation error")
    func coverage() throws {
        let inputs = try GoldenCase.all.flatMap { try $0.inputs() }.map(\.contents).joined()
        let outputs = try GoldenCase.allOutputs("ir.yaml")
        for kind in [
            "GatewayClass", "Gateway", "HTTPRoute", "GRPCRoute", "Backend", "Service", "EndpointSlice",
            "ReferenceGrant", "List", "ConfigMap",
        ] {
            #expect(
                inputs.contains("kind: \(kind)\n") || inputs.contains("\"kind\": \"\(kind)\""), "no case has a \(kind)")
        }
        // One phrase from each class of load error, and each reference problem reported as status.
        for phrase in [
            "YAML: ", "YAML reads unquoted Off as a boolean", "must be an integer, not", "is required",
            "must be one of",
            "must be between", "already defined", "did you mean", "unknown kind", "BackendNotFound", "NoMatchingParent",
            "NotAllowedByListeners", "NoMatchingListenerHostname", "RefNotPermitted", "PortNotFound", "InvalidKind",
            "InvalidRouteKinds", "HostnameConflict", "ProtocolConflict", "InvalidCertificateRef",
            "PartiallyInvalidCertificateRef", "OverlappingCertificates", "InvalidRule", "UnsupportedTLSMode",
        ] {
            #expect(outputs.contains(phrase), "no golden ir.yaml shows \"\(phrase)\"")
        }
    }

    @Test("a duration reads back exactly, to the nanosecond")
    func durations() throws {
        var policy = ClusterPolicy()
        for duration: Duration in [
            .seconds(10), .milliseconds(250), .nanoseconds(1_000_000_001), .zero, .seconds(86400),
        ] {
            policy.connectTimeout = duration
            policy.idleTimeout = duration
            let json = try CanonicalText.encode(policy)
            #expect(json.contains("\"connectTimeout\":\"") && json.contains("s\""))
            #expect(try JSONDecoder().decode(ClusterPolicy.self, from: Data(json.utf8)) == policy)
        }
    }
}
