import GatewayAPI
import GatewayIR
import GatewayTranslator

/// Answers "what applies to this rule, and why": from the loaded resources, the translation's IR
/// (which says where each rule landed) and the policy attachment the translation used. No I/O.
public struct Explainer {
    /// What to explain: a route, or one of its rules, by kind, namespace and name.
    public struct RuleReference: Sendable, Equatable, CustomStringConvertible {
        public var kind: String
        public var namespace: String
        public var name: String
        public var rule: Int?

        public init(kind: String, namespace: String, name: String, rule: Int? = nil) {
            self.kind = kind
            self.namespace = namespace
            self.name = name
            self.rule = rule
        }

        /// `httproute/NS/NAME` or `httproute/NS/NAME/rule/I` (also `grpcroute/…`).
        public init(parsing text: String) throws(ExplainError) {
            let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            let kinds = ["httproute": "HTTPRoute", "grpcroute": "GRPCRoute"]
            guard parts.count == 3 || (parts.count == 5 && parts[3] == "rule"),
                let kind = kinds[parts[0].lowercased()], !parts[1].isEmpty, !parts[2].isEmpty
            else { throw .badReference(text) }
            var rule: Int?
            if parts.count == 5 {
                guard let index = Int(parts[4]), index >= 0 else { throw .badReference(text) }
                rule = index
            }
            self.init(kind: kind, namespace: parts[1], name: parts[2], rule: rule)
        }

        public var description: String {
            "\(kind.lowercased())/\(namespace)/\(name)" + (rule.map { "/rule/\($0)" } ?? "")
        }
    }

    let resources: ResourceSet
    let configs: [GatewayConfig]
    private let resolver: PolicyResolver

    public init(_ resources: ResourceSet, options: GatewayTranslator.Options = .init()) {
        self.resources = resources
        configs = GatewayTranslator.translate(resources, options: options).configs
        resolver = PolicyResolver(resources, options: options)
    }

    /// One explanation per Gateway listener and rule the reference reaches (in Gateway, listener
    /// and rule order), limited to `gateway` (`NS/NAME`) when given.
    public func explain(_ reference: RuleReference, gateway: String? = nil) throws(ExplainError) -> [Explanation] {
        let routeName = "\(reference.namespace)/\(reference.name)"
        let ruleCount: Int
        switch reference.kind {
        case "GRPCRoute":
            guard let route = resources.grpcRoutes.first(where: { "\($0.namespace)/\($0.name)" == routeName }) else {
                throw .noRoute(reference.description)
            }
            ruleCount = route.rules.count
        default:
            guard let route = resources.httpRoutes.first(where: { "\($0.namespace)/\($0.name)" == routeName }) else {
                throw .noRoute(reference.description)
            }
            ruleCount = route.rules.count
        }
        if let rule = reference.rule, rule >= ruleCount {
            throw .noRule(reference.description, count: ruleCount)
        }
        if let gateway, !configs.contains(where: { $0.key == gateway }) {
            throw .noGateway(gateway, known: configs.map(\.key).sorted())
        }
        let prefix = "\(reference.kind.lowercased())/\(routeName)/rule/"
        var explanations: [Explanation] = []
        for config in configs.sorted(by: { $0.key < $1.key }) where gateway == nil || config.key == gateway {
            for listener in config.listeners {
                // Per Gateway listener (a port's listener may serve several) and rule.
                var found: [String: [Int: [(VirtualHost, Route)]]] = [:]
                var sections: [String] = []
                for host in listener.virtualHosts {
                    for route in host.routes where route.name.hasPrefix(prefix) {
                        let rest = route.name.dropFirst(prefix.count)
                        guard let index = rest.split(separator: "/").first.flatMap({ Int($0) }),
                            reference.rule == nil || reference.rule == index
                        else { continue }
                        let section = host.metadata?.sectionName ?? listener.name
                        if found[section] == nil { sections.append(section) }
                        found[section, default: [:]][index, default: []].append((host, route))
                    }
                }
                for section in sections {
                    for (index, places) in found[section]!.sorted(by: { $0.key < $1.key }) {
                        if let explanation = self.explanation(
                            reference, ruleIndex: index, config: config, listener: listener, section: section,
                            places: places)
                        {
                            explanations.append(explanation)
                        }
                    }
                }
            }
        }
        guard !explanations.isEmpty else {
            throw .notAttached(reference.description, gateway: gateway)
        }
        return explanations
    }

    func explanation(
        _ reference: RuleReference, ruleIndex: Int, config: GatewayConfig, listener: HTTPListener, section: String,
        places: [(VirtualHost, Route)], request: Explanation.RequestMatch? = nil
    ) -> Explanation? {
        guard let gateway = resources.gateways.first(where: { "\($0.namespace)/\($0.name)" == config.key }) else {
            return nil
        }
        let chain = resolver.chain(
            gateway: gateway, listener: section, kind: reference.kind, namespace: reference.namespace,
            name: reference.name, ruleIndex: ruleIndex)
        let ruleName: String? =
            reference.kind == "GRPCRoute"
            ? resources.grpcRoutes.first { $0.namespace == reference.namespace && $0.name == reference.name }?
                .rules[ruleIndex].name
            : resources.httpRoutes.first { $0.namespace == reference.namespace && $0.name == reference.name }?
                .rules[ruleIndex].name
        var clusters: [String] = []
        var hosts: [String] = []
        for (host, route) in places {
            if !hosts.contains(host.name) { hosts.append(host.name) }
            if case .forward(let cluster) = route.action, !clusters.contains(cluster) { clusters.append(cluster) }
        }
        return Explanation(
            gateway: config.key, listener: section,
            route: "\(reference.kind) \(reference.namespace)/\(reference.name)", rule: ruleIndex, ruleName: ruleName,
            request: request, policies: Self.policies(chain), problems: chain?.problems ?? [],
            settings: Self.withRouteOverrides(
                PolicySettings.settings(of: chain), rule: ruleIndex, of: reference,
                route: resources.httpRoutes.first {
                    reference.kind == "HTTPRoute" && $0.namespace == reference.namespace && $0.name == reference.name
                }),
            envoy: Explanation.Envoy(
                listener: listener.name, virtualHosts: hosts, routes: places.map(\.1.name), clusters: clusters))
    }

    /// An HTTPRoute rule's own `retry` and `timeouts` (Gateway API) win over a policy's retry and
    /// request timeout: listed first, and the settings they displace marked.
    static func withRouteOverrides(
        _ settings: [Explanation.Setting], rule index: Int, of reference: RuleReference, route: HTTPRoute?
    ) -> [Explanation.Setting] {
        guard let route, route.rules.indices.contains(index) else { return settings }
        let rule = route.rules[index]
        var own: [Explanation.Setting] = []
        var settings = settings
        let source = "HTTPRoute \(route.namespace)/\(route.name)"
        func displace(_ applies: (String) -> Bool, by what: String) {
            for position in settings.indices where applies(settings[position].field) {
                settings[position].overriddenBy = what
            }
        }
        if let retry = rule.retry {
            var parts: [String] = []
            if let attempts = retry.attempts { parts.append("attempts \(attempts)") }
            if !retry.codes.isEmpty { parts.append("codes [\(retry.codes.map(String.init).joined(separator: ", "))]") }
            if let backoff = retry.backoff { parts.append("backoff \(backoff)") }
            own.append(
                Explanation.Setting(
                    field: "rules[\(index)].retry", value: parts.isEmpty ? "{}" : parts.joined(separator: ", "),
                    policy: source, level: "rule", location: rule.location.description))
            displace({ $0 == "retry" || $0.hasPrefix("retry.") }, by: "\(source) rules[\(index)].retry")
        }
        if let request = rule.timeouts?.request {
            own.append(
                Explanation.Setting(
                    field: "rules[\(index)].timeouts.request", value: "\(request)", policy: source, level: "rule",
                    location: rule.location.description))
            displace({ $0 == "timeout.http.requestTimeout" }, by: "\(source) rules[\(index)].timeouts.request")
        }
        if let backendRequest = rule.timeouts?.backendRequest {
            own.append(
                Explanation.Setting(
                    field: "rules[\(index)].timeouts.backendRequest", value: "\(backendRequest)", policy: source,
                    level: "rule", location: rule.location.description))
            // With the rule's retry it is the per-try timeout; without, the request timeout.
            if rule.retry == nil {
                displace(
                    { $0 == "timeout.http.requestTimeout" }, by: "\(source) rules[\(index)].timeouts.backendRequest")
            }
        }
        return own + settings
    }

    static func policies(_ chain: PolicyResolver.Chain?) -> [Explanation.Policy] {
        guard let chain else { return [] }
        func name(_ attached: PolicyResolver.Attached) -> String {
            "\(attached.policy.namespace)/\(attached.policy.name)"
        }
        return chain.attached.map { attached in
            let role: String
            if let governing = chain.governing, attached.level == governing.level {
                if let parent = chain.mergedOver, let mergeType = governing.policy.mergeType {
                    role = "applies, merged (\(mergeType.rawValue)) over \(name(parent))"
                } else {
                    role = "applies"
                }
            } else if let parent = chain.mergedOver, attached.level == parent.level, let governing = chain.governing {
                role = "merged under \(name(governing))"
            } else if let governing = chain.governing {
                role = "overridden by \(name(governing))"
            } else {
                role = "applies"
            }
            return Explanation.Policy(
                level: attached.level.rawValue, name: name(attached), location: attached.policy.location.description,
                role: role)
        }
    }
}

/// Why `explain` has no answer, and what to do.
public enum ExplainError: Error, Equatable, CustomStringConvertible {
    case badReference(String)
    case noRoute(String)
    case noRule(String, count: Int)
    case noGateway(String, known: [String])
    case notAttached(String, gateway: String?)
    case badRequest(String, why: String)
    case noMatch(String, why: String)

    public var description: String {
        switch self {
        case .badReference(let text):
            "\"\(text)\" is not a route: write httproute/NAMESPACE/NAME or httproute/NAMESPACE/NAME/rule/INDEX (or grpcroute/…)"
        case .noRoute(let route):
            "no \(route) in the files: check the kind, namespace and name"
        case .noRule(let route, let count):
            "\(route) names no rule: the route has \(count) rule\(count == 1 ? "" : "s"), numbered from 0"
        case .noGateway(let gateway, let known):
            "no Gateway \(gateway) in the files; they hold: \(known.isEmpty ? "none" : known.joined(separator: ", "))"
        case .notAttached(let route, let gateway):
            "\(route) is on no listener of \(gateway.map { "Gateway \($0)" } ?? "any Gateway"): "
                + "its status (switchboard validate, or /status) says why it is not accepted"
        case .badRequest(let text, let why):
            "\"\(text)\" is not a request: \(why); write it as 'GET https://host/path'"
        case .noMatch(let request, let why):
            "\(request) matches no route: \(why)"
        }
    }
}
