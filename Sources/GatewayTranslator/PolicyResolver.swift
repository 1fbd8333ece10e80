import GatewayAPI

/// Which BackendTrafficPolicies decide a route rule's settings on one Gateway listener, worked out
/// by the same attachment the translation uses (`PolicyAttachment`): for `switchboard explain`,
/// which shows the operator why a setting is what it is.
public struct PolicyResolver {
    /// The place a policy attaches to, most specific first.
    public enum Level: String, Sendable, Codable, CaseIterable {
        case rule, route, listener, gateway
    }

    public struct Attached: Sendable {
        public var level: Level
        public var policy: BackendTrafficPolicy
    }

    /// The policies attached at each level of one rule on one listener.
    public struct Chain: Sendable {
        /// Every level with a policy, most specific first.
        public var attached: [Attached]
        /// The policy whose settings apply: the rule's or route's, else the listener's or Gateway's.
        public var governing: Attached?
        /// The listener's or Gateway's policy that `governing` is merged over (its `mergeType`).
        public var mergedOver: Attached?
        /// The problems that keep the settings from applying (the policy is invalid).
        public var problems: [String]
    }

    private let attachment: PolicyAttachment
    private let routes: [RouteKey: RouteSource]

    public init(_ resources: ResourceSet, options: GatewayTranslator.Options = .init()) {
        let sources = resources.httpRoutes.map(RouteSource.init) + resources.grpcRoutes.map(RouteSource.init)
        var attachment = PolicyAttachment(resources, routes: sources, options: options)
        let gateways = resources.gateways.sorted { ($0.namespace, $0.name) < ($1.namespace, $1.name) }
        attachment.noteOverrides(gateways: gateways, routes: sources)
        self.attachment = attachment
        routes = Dictionary(
            sources.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The chain for rule `ruleIndex` of the route `kind namespace/name` on `listener` of `gateway`;
    /// nil when no such route or rule is loaded.
    public func chain(gateway: Gateway, listener: String, kind: String, namespace: String, name: String, ruleIndex: Int)
        -> Chain?
    {
        guard let route = routes[RouteKey(kind: kind, namespace: namespace, name: name)],
            route.rules.indices.contains(ruleIndex)
        else {
            return nil
        }
        let owners = attachment.owner
        var attached: [Attached] = []
        func note(_ level: Level, _ target: PolicyAttachment.Target) -> Attached? {
            guard let index = owners[target] else { return nil }
            let entry = Attached(level: level, policy: attachment.policies[index])
            attached.append(entry)
            return entry
        }
        let ruleOwner = route.rules[ruleIndex].name.flatMap {
            note(.rule, .rule(kind: kind, namespace: namespace, name: name, rule: $0))
        }
        let routeOwner = note(.route, .route(kind: kind, namespace: namespace, name: name))
        let listenerOwner = note(
            .listener, .listener(namespace: gateway.namespace, name: gateway.name, section: listener))
        let gatewayOwner = note(.gateway, .gateway(namespace: gateway.namespace, name: gateway.name))
        let routeLevel = ruleOwner ?? routeOwner
        let parent = listenerOwner ?? gatewayOwner
        let problems =
            attachment.effective(
                route: route, ruleName: route.rules[ruleIndex].name, gateway: gateway, listener: listener)?.problems
            ?? []
        if let routeLevel {
            return Chain(
                attached: attached, governing: routeLevel,
                mergedOver: routeLevel.policy.mergeType != nil ? parent : nil, problems: problems)
        }
        return Chain(attached: attached, governing: parent, mergedOver: nil, problems: problems)
    }
}
