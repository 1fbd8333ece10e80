import CanonicalText
import FoundationEssentials
import GatewayAPI
import GatewayIR
import GatewayTranslator
import RateLimitService
import XDSCache
import XDSTranslator

/// Files → snapshots, and snapshots → the text `switchboard translate` prints.
public enum Translation {
    /// What the operator's resources become: a snapshot per Gateway and everyone's status.
    public struct Result: Sendable {
        /// Keyed by node group (`<namespace>/<name>`).
        public var snapshots: [String: Snapshot]
        public var status: StatusReport
        /// What the rate limit service enforces: every Gateway's global rate limits (empty when
        /// the server runs no rate limit service).
        public var rateLimits = RateLimitTable()
        /// The same limits as envoyproxy/ratelimit fetches them (node `envoy-ratelimit`): every
        /// Gateway's, merged; nil when Envoy is given no rate limit service.
        public var rateLimitSnapshot: Snapshot?
        /// Each Gateway's IR, for what only `translate` asks of it (a reload never does).
        var gateways: [String: GatewayConfig] = [:]

        /// `gateway`'s part of the rate limit configurations, for `translate`; nil when Envoy is
        /// given no rate limit service.
        public func rateLimitConfigs(of gateway: String) throws -> Snapshot? {
            guard rateLimitSnapshot != nil, let config = gateways[gateway] else { return nil }
            return try RateLimitServiceConfig.snapshot([config])
        }
    }

    /// What a translation keeps for the next to reuse: the Gateway translator's part of each
    /// route, and each Gateway's Envoy resources.
    public struct Memo: Sendable {
        public var routes = GatewayTranslator.Memo()
        /// By Gateway (`<namespace>/<name>`); a Gateway that is gone is dropped.
        public var snapshots: [String: TranslationMemo] = [:]

        public init() {}
    }

    public static func translate(_ resources: ResourceSet, options: GatewayTranslator.Options = .init()) throws
        -> Result
    {
        var memo = Memo()
        return try translate(resources, options: options, memo: &memo)
    }

    /// `translate(resources)`, reusing what the translation that filled `memo` made wherever its
    /// inputs did not change. A translation that throws leaves the Envoy part of `memo` as it was.
    public static func translate(
        _ resources: ResourceSet, options: GatewayTranslator.Options = .init(), memo: inout Memo
    ) throws -> Result {
        let output = GatewayTranslator.translate(
            resources, options: options.judgingCertificatesNow(), memo: &memo.routes)
        var snapshots: [String: Snapshot] = [:]
        for config in output.configs {
            snapshots[config.key] = try SnapshotTranslator.snapshot(
                config, memo: &memo.snapshots[config.key, default: .init()])
        }
        for key in memo.snapshots.keys where snapshots[key] == nil { memo.snapshots[key] = nil }
        var result = Result(snapshots: snapshots, status: output.status)
        if options.rateLimitService != nil {
            result.rateLimits = RateLimitTable(output.configs)
            result.rateLimitSnapshot = try RateLimitServiceConfig.snapshot(output.configs)
            for config in output.configs { result.gateways[config.key] = config }
        }
        return result
    }

    public enum Format: String, Sendable, CaseIterable {
        case yaml
        case json
    }

    /// The snapshot's resources in protobuf's canonical JSON, field order as Envoy's config_dump
    /// prints it, each list sorted by name: `clusters`, `endpoints`, `listeners`, `routes`; the
    /// rate limit service's `rateLimitConfigs` when there are any; then the `status` of the
    /// Gateway and its routes when given.
    public static func render(
        _ snapshot: Snapshot, rateLimitConfigs: Snapshot? = nil, status: StatusReport? = nil, as format: Format
    ) throws -> String {
        var json = "{" + (try SnapshotJSON.members(snapshot))
        if let rateLimitConfigs, let member = try SnapshotJSON.rateLimitConfigs(rateLimitConfigs) {
            json += "," + member
        }
        if let status { json += ",\"status\":" + (try CanonicalText.encode(status)) }
        json += "}"
        return try format == .yaml ? CanonicalText.yaml(json) : CanonicalText.json(json)
    }
}

extension GatewayTranslator.Options {
    /// These options with certificates judged by the wall clock, unless a time is already set
    /// (tests set one): the translator reads no clock of its own.
    public func judgingCertificatesNow() -> Self {
        var options = self
        if options.now == nil { options.now = Date() }
        return options
    }
}
