import GatewayAPI
import GatewayTranslator
import Lint

/// What `switchboard validate` prints: every load problem (`path:line:col: message`, fatal) and
/// every dangling reference the translator reports as status (a warning, as in Envoy Gateway).
public enum Validation {
    public struct Report: Sendable {
        public var errors: [String]
        public var warnings: [String]
        /// `switchboard lint`'s findings, when asked for.
        public var findings: [Finding] = []
    }

    public static func check(
        _ paths: [String], policy: PolicySwitches = .init(), maxFileBytes: Int = ConfigFiles.defaultMaxFileBytes,
        lint: Bool = false
    ) throws -> Report {
        let resources = try ConfigFiles.load(paths, maxFileBytes: maxFileBytes)
        var report = try check(resources, policy: policy)
        if lint { report.findings = Linter.lint(resources) }
        return report
    }

    static func check(_ resources: ResourceSet, policy: PolicySwitches) throws -> Report {
        let status = GatewayTranslator.translate(resources, options: policy.judgingCertificatesNow()).status
        return Report(
            errors: resources.diagnostics.map(\.description),
            // One line per problem: a condition listing several (one per line) reads as one.
            warnings: status.problems.sorted { $0.location < $1.location }.map {
                "\($0.location): warning: \($0.message.split(separator: "\n").joined(separator: " "))"
            })
    }
}
