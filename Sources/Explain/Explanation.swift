import FoundationEssentials

/// What `switchboard explain` says about one route rule on one Gateway listener: the policies
/// that reach it and what each does, every BackendTrafficPolicy setting in effect with where it
/// comes from, and the Envoy names the rule becomes. Plain values, printed as text or JSON.
public struct Explanation: Sendable, Codable, Equatable {
    /// A request's way to the rule, when the question was a request.
    public struct RequestMatch: Sendable, Codable, Equatable {
        public var request: String
        /// The Envoy listener and virtual host the request reaches, and the route it matches.
        public var listener: String
        public var virtualHost: String
        public var route: String
    }

    /// One BackendTrafficPolicy attached at one level of the rule.
    public struct Policy: Sendable, Codable, Equatable {
        /// `rule`, `route`, `listener` or `gateway`.
        public var level: String
        /// `<namespace>/<name>`.
        public var name: String
        public var location: String
        /// `applies`, `applies, merged (StrategicMerge) over ns/name`, `merged under ns/name` or
        /// `overridden by ns/name`.
        public var role: String
    }

    /// One setting in effect and where it comes from.
    public struct Setting: Sendable, Codable, Equatable {
        /// The field under `spec`, as written (`retry.numRetries`, `rateLimit.local.rules[0].limit.requests`).
        public var field: String
        public var value: String
        /// The policy that set it (`<namespace>/<name>`), or `HTTPRoute <namespace>/<name>` for
        /// the rule's own Gateway API fields; nil for a default.
        public var policy: String?
        /// The level that policy is attached at.
        public var level: String?
        /// Where it is written (`file:line:col`).
        public var location: String?
        /// For a default: whose (`CRD default`, `Envoy Gateway default` or `Envoy default`).
        public var defaultedBy: String?
        /// What wins over this setting: the HTTPRoute rule's own `retry` or `timeouts`.
        public var overriddenBy: String?
    }

    /// The Envoy resources the rule becomes on this listener.
    public struct Envoy: Sendable, Codable, Equatable {
        /// The listener, which is also the route configuration's name.
        public var listener: String
        public var virtualHosts: [String]
        public var routes: [String]
        public var clusters: [String]
    }

    /// `<namespace>/<name>` of the Gateway.
    public var gateway: String
    /// The Gateway's listener (`sectionName`).
    public var listener: String
    /// `<kind> <namespace>/<name>`.
    public var route: String
    public var rule: Int
    public var ruleName: String?
    public var request: RequestMatch?
    /// Most specific first; empty when no policy reaches the rule.
    public var policies: [Policy]
    /// Why the policy's settings do not apply (Envoy then answers the rule's requests with 500).
    public var problems: [String]
    public var settings: [Setting]
    public var envoy: Envoy
}

extension Explanation {
    /// For scripts: a JSON array, keys sorted, pretty-printed.
    public static func json(_ explanations: [Explanation]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(explanations), as: UTF8.self)
    }
}
