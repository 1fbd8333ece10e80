import GatewayAPI
import GatewayIR

/// Which BackendTrafficPolicy governs each route rule, and every policy's status, by Envoy
/// Gateway's rules (docs/envoy-gateway-mapping.md §3): policies in (creationTimestamp, namespace, name) order; one
/// policy per target, the first wins and later ones are Conflicted; route rule > route > Gateway
/// listener > Gateway, the most specific replacing the whole feature set.
struct PolicyAttachment {
    /// What a policy can attach to.
    enum Target: Hashable {
        case gateway(namespace: String, name: String)
        case listener(namespace: String, name: String, section: String)
        case route(kind: String, namespace: String, name: String)
        case rule(kind: String, namespace: String, name: String, rule: String)
    }

    private(set) var owner: [Target: Int] = [:]
    /// Route-level policies with `mergeType` merged over a parent policy (indices), worked out
    /// once in `noteOverrides` rather than again for every rule and listener that uses them.
    private var merges: [[Int]: (settings: TrafficSettings, problems: [String])] = [:]
    let policies: [BackendTrafficPolicy]
    /// Per policy (same order), its ancestors with their conditions.
    private(set) var statuses: [[PolicyAncestorStatus]]

    private let options: GatewayTranslator.Options

    /// Global rate limits are counted by the rate limit service: a server that does not run it
    /// refuses them, saying so.
    static func serviceProblem(_ settings: TrafficSettings, options: GatewayTranslator.Options) -> String? {
        guard settings.rateLimit?.global != nil, options.rateLimitService == nil else { return nil }
        return
            "RateLimit: global rate limits need the rate limit service: run switchboard serve with --ratelimit-address HOST:PORT, "
            + "or with --ratelimit-envoy-address HOST:PORT for an envoyproxy/ratelimit that fetches its limits from Switchboard"
    }

    init(_ resources: ResourceSet, routes: [RouteSource], options: GatewayTranslator.Options = .init()) {
        let byKey = Dictionary(routes.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        self.init(resources, route: { byKey[$0] }, options: options)
    }

    /// `route(key)` finds a route that policies may target, by key: the translator keeps its
    /// routes so, and ten thousand of them put in a dictionary again on every edit cost 4 % of it.
    init(
        _ resources: ResourceSet, route routeByKey: (RouteKey) -> RouteSource?,
        options: GatewayTranslator.Options = .init()
    ) {
        self.options = options
        policies = resources.backendTrafficPolicies.sorted {
            ($0.creationTimestamp, $0.namespace, $0.name) < ($1.creationTimestamp, $1.namespace, $1.name)
        }.map { policy in
            var policy = policy
            if let problem = policy.responseOverrideProblem(configMapKeys: resources.configMapKeys) {
                policy.settings.referenceProblems = [problem]
            }
            if let problem = Self.serviceProblem(policy.settings, options: options) {
                policy.settings.serverProblems = [problem]
            }
            return policy
        }
        statuses = Array(repeating: [], count: policies.count)
        let gateways = resources.gateways

        for (index, policy) in policies.enumerated() {
            if options.disableBackendTrafficPolicy
                || options.backendTrafficPolicyDisabledNamespaces.contains(policy.namespace)
            {
                let why =
                    options.disableBackendTrafficPolicy
                    ? "BackendTrafficPolicy is disabled on this server (--disable-backend-traffic-policy)"
                    : "BackendTrafficPolicy is disabled for namespace \(policy.namespace) on this server"
                // The same ancestors an enabled policy would report, each saying why it is off.
                var disabled: [AncestorRef] = []
                for (_, ancestors) in targets(of: policy, gateways: gateways, routes: routeByKey, resources: resources)
                {
                    for (ancestor, _) in ancestors where !disabled.contains(ancestor) { disabled.append(ancestor) }
                }
                statuses[index] = disabled.map {
                    PolicyAncestorStatus(ancestorRef: $0, conditions: [.notAccepted("Disabled", why)])
                }
                continue
            }
            var ancestorConditions: [(AncestorRef, Condition)] = []
            // Ancestors of targets the policy attached to: only these get warnings (Envoy Gateway's rule).
            var attached = Set<AncestorRef>()
            for (target, ancestorList) in targets(
                of: policy, gateways: gateways, routes: routeByKey, resources: resources)
            {
                guard let target else {
                    // sectionName names no listener or rule.
                    for (ancestor, message) in ancestorList {
                        ancestorConditions.append((ancestor, .notAccepted("TargetNotFound", message)))
                    }
                    continue
                }
                if owner[target] != nil {
                    let message =
                        "Unable to target \(Self.describe(target)), another BackendTrafficPolicy has already attached to it"
                    for (ancestor, _) in ancestorList { ancestorConditions.append((ancestor, .conflicted(message))) }
                    continue
                }
                owner[target] = index
                let problems = policy.settings.problems
                let accepted: Condition =
                    problems.isEmpty
                    ? .accepted("Policy has been accepted.")
                    : .invalid(problems)
                for (ancestor, _) in ancestorList {
                    ancestorConditions.append((ancestor, accepted))
                    attached.insert(ancestor)
                }
            }
            var byAncestor: [AncestorRef: [Condition]] = [:]
            var order: [AncestorRef] = []
            for (ancestor, condition) in ancestorConditions {
                if byAncestor[ancestor] == nil { order.append(ancestor) }
                // The first Accepted condition for an ancestor stands (Envoy Gateway's rule).
                if !(byAncestor[ancestor]?.contains { $0.type == condition.type } ?? false) {
                    byAncestor[ancestor, default: []].append(condition)
                }
            }
            var warnings: [String] = []
            if policy.usesDeprecatedTargetRef {
                warnings.append("spec.targetRef is deprecated, use spec.targetRefs instead")
            }
            if policy.untranslated.contains("compression") {
                warnings.append("spec.compression is deprecated, use spec.compressor instead")
            }
            warnings.sort()
            if !policy.untranslated.isEmpty {
                warnings.append(
                    "accepted but not translated by Switchboard yet: \(policy.untranslated.map { "spec.\($0)" }.joined(separator: ", "))"
                )
            }
            // Envoy Gateway's reason for deprecations; fields we take but ignore get their own.
            let warningReason = policy.untranslated.isEmpty ? "DeprecatedField" : "NotTranslated"
            statuses[index] = order.map { ancestor in
                var conditions = byAncestor[ancestor]!
                if !warnings.isEmpty && attached.contains(ancestor) {
                    conditions.append(.warning(warningReason, warnings.joined(separator: "; ")))
                }
                return PolicyAncestorStatus(ancestorRef: ancestor, conditions: conditions)
            }
        }
    }

    /// The policies that govern one rule of `route` on a Gateway listener: the route-level one
    /// (rule or route) and the listener's or Gateway's, by index into `policies`.
    struct Governing {
        var route: Int?
        var parent: Int?
    }

    func governing(route: RouteSource, ruleName: String?, gateway: Gateway, listener: String) -> Governing {
        Governing(
            route: routeLevel(route: route, ruleName: ruleName),
            parent: parentPolicy(gateway: gateway, listener: listener))
    }

    /// The policy of a rule (or its route) itself, whatever the listener.
    func routeLevel(route: RouteSource, ruleName: String?) -> Int? {
        if let ruleName,
            let owner = owner[.rule(kind: route.kind, namespace: route.namespace, name: route.name, rule: ruleName)]
        {
            return owner
        }
        return owner[.route(kind: route.kind, namespace: route.namespace, name: route.name)]
    }

    /// The settings governing one rule of `route` on a Gateway listener: the most specific
    /// policy's, or a route-level policy with `mergeType` merged over the listener's (or
    /// Gateway's) policy; with the problems that make them invalid.
    func effective(route: RouteSource, ruleName: String?, gateway: Gateway, listener: String)
        -> (settings: TrafficSettings, problems: [String])?
    {
        effective(governing(route: route, ruleName: ruleName, gateway: gateway, listener: listener))
    }

    func effective(_ governing: Governing) -> (settings: TrafficSettings, problems: [String])? {
        if let routeLevel = governing.route {
            let policy = policies[routeLevel]
            if policy.mergeType != nil, let parent = governing.parent {
                return merges[[routeLevel, parent]] ?? policy.merged(over: policies[parent])
            }
            return (policy.settings, policy.settings.problems)
        }
        guard let parent = governing.parent else { return nil }
        return (policies[parent].settings, policies[parent].settings.problems)
    }

    /// The policy of a listener, or else of its Gateway: the parent of every route on it.
    func parentPolicy(gateway: Gateway, listener: String) -> Int? {
        owner[.listener(namespace: gateway.namespace, name: gateway.name, section: listener)]
            ?? owner[.gateway(namespace: gateway.namespace, name: gateway.name)]
    }

    /// Adds the Overridden conditions: a Gateway (or listener) policy displaced on some routes
    /// by route policies, a route policy displaced on some rules by rule policies.
    mutating func noteOverrides(gateways: [Gateway], routes: [RouteSource]) {
        var overriddenRoutes: [Int: Set<String>] = [:]
        var overriddenRules: [Int: Set<String>] = [:]
        var mergedInto: [Int: Set<String>] = [:]  // parent policy → routes merged over it
        var mergedWith: [Int: [(AncestorRef, Int)]] = [:]  // route policy → (ancestor, parent policy)
        for route in routes {
            // Most routes have no policy of their own: one lookup each, then the next.
            let routeOwner = owner[.route(kind: route.kind, namespace: route.namespace, name: route.name)]
            var ruleOwners: [(rule: String, owner: Int)] = []
            for rule in route.rules {
                guard let name = rule.name,
                    let owner = owner[.rule(kind: route.kind, namespace: route.namespace, name: route.name, rule: name)]
                else { continue }
                ruleOwners.append((name, owner))
            }
            guard routeOwner != nil || !ruleOwners.isEmpty else { continue }
            let routeLevelOwners = [routeOwner].compactMap { $0 } + ruleOwners.map(\.owner)
            let merging = routeLevelOwners.filter { policies[$0].mergeType != nil }
            if let routeOwner, !ruleOwners.isEmpty {
                overriddenRules[routeOwner, default: []].formUnion(ruleOwners.map(\.rule))
            }
            let routeName = "\(route.namespace)/\(route.name)"
            for ref in route.parentRefs where ref.isGateway {
                guard let gateway = gateways.first(where: { $0.namespace == ref.namespace && $0.name == ref.name })
                else { continue }
                // On each listener the route takes, the parent policy is the listener's, or else
                // the Gateway's; a Gateway policy no listener of the route uses is displaced for it.
                let gatewayOwner = owner[.gateway(namespace: gateway.namespace, name: gateway.name)]
                var used = Set<Int>()
                for listener in gateway.listeners where GatewayTranslator.selects(ref, listener) {
                    guard let parentOwner = parentPolicy(gateway: gateway, listener: listener.name) else { continue }
                    used.insert(parentOwner)
                    if merging.isEmpty {
                        overriddenRoutes[parentOwner, default: []].insert(routeName)
                    } else {
                        mergedInto[parentOwner, default: []].insert(routeName)
                        for policy in merging {
                            mergedWith[policy, default: []].append(
                                (
                                    AncestorRef(
                                        namespace: gateway.namespace, name: gateway.name,
                                        sectionName: ref.sectionName ?? listener.name), parentOwner
                                ))
                        }
                    }
                }
                if let gatewayOwner, !used.isEmpty, !used.contains(gatewayOwner) {
                    overriddenRoutes[gatewayOwner, default: []].insert(routeName)
                }
            }
        }
        for (index, routes) in mergedInto {
            add(
                .merged(
                    "This policy is being merged by other backendTrafficPolicies for these routes: [\(routes.sorted().joined(separator: " "))]"
                ),
                to: index)
        }
        for (index, pairs) in mergedWith {
            var seen = Set<Int>()
            for (_, parent) in pairs where seen.insert(parent).inserted {
                let parentPolicy = policies[parent]
                var merged = policies[index].merged(over: parentPolicy)
                if let problem = Self.serviceProblem(merged.settings, options: options) {
                    merged.problems.insert(problem, at: 0)
                }
                merges[[index, parent]] = merged
                let problems = merged.problems
                if problems.isEmpty {
                    // Only where the parent policy applies: another Gateway of the route has none.
                    // A parentRef without sectionName merges per listener, and Envoy Gateway says
                    // so on an ancestor of its own for that listener, holding just Merged.
                    let merged = Condition.merged("Merged with policy \(parentPolicy.namespace)/\(parentPolicy.name)")
                    for place in pairs.filter({ $0.1 == parent }).map(\.0) {
                        if statuses[index].contains(where: { $0.ancestorRef == place }) {
                            add(merged, to: index) { $0 == place }
                        } else if statuses[index].contains(where: {
                            $0.ancestorRef
                                == AncestorRef(namespace: place.namespace, name: place.name, sectionName: nil)
                                && $0.conditions.contains { $0.is(.accepted) && $0.isTrue }
                        }) {
                            statuses[index].append(PolicyAncestorStatus(ancestorRef: place, conditions: [merged]))
                        }
                    }
                } else {
                    for ancestor in statuses[index].indices {
                        statuses[index][ancestor].conditions = statuses[index][ancestor].conditions.map {
                            $0.is(.accepted) ? .invalid(problems) : $0
                        }
                    }
                }
            }
        }
        // A Gateway policy is also displaced on the listeners that have their own.
        var overriddenListeners: [Int: Set<String>] = [:]
        for gateway in gateways {
            guard let gatewayOwner = owner[.gateway(namespace: gateway.namespace, name: gateway.name)] else { continue }
            for listener in gateway.listeners
            where owner[.listener(namespace: gateway.namespace, name: gateway.name, section: listener.name)] != nil {
                overriddenListeners[gatewayOwner, default: []].insert(
                    "\(gateway.namespace)/\(gateway.name)/\(listener.name)")
            }
        }
        for index in Set(overriddenRoutes.keys).union(overriddenListeners.keys).sorted() {
            var parts: [String] = []
            if let listeners = overriddenListeners[index] {
                parts.append("these gateway listeners: [\(listeners.sorted().joined(separator: " "))]")
            }
            if let routes = overriddenRoutes[index] {
                parts.append("these routes: [\(routes.sorted().joined(separator: " "))]")
            }
            add(
                .overridden(
                    "This policy is being overridden by other backendTrafficPolicies for \(parts.joined(separator: " and "))"
                ),
                to: index)
        }
        for (index, rules) in overriddenRules {
            add(
                .overridden(
                    "This policy is being overridden by other backendTrafficPolicy for these route rules: [\(rules.sorted().joined(separator: " "))]"
                ),
                to: index)
        }
    }

    /// Adds `condition` to the policy's accepted ancestors that `applies` selects, once per type.
    private mutating func add(
        _ condition: Condition, to index: Int, where applies: (AncestorRef) -> Bool = { _ in true }
    ) {
        for ancestor in statuses[index].indices
        where statuses[index][ancestor].conditions.contains(where: { $0.is(.accepted) && $0.isTrue })
            && applies(statuses[index][ancestor].ancestorRef)
            && !statuses[index][ancestor].conditions.contains(where: { $0.type == condition.type })
        {
            statuses[index][ancestor].conditions.append(condition)
        }
    }

    var report: [PolicyStatus] {
        zip(policies, statuses).map { policy, ancestors in
            PolicyStatus(
                namespace: policy.namespace, name: policy.name,
                ancestors: ancestors.isEmpty ? nil : Self.truncated(ancestors), location: policy.location)
        }
    }

    /// Gateway API allows 16 ancestors in a policy status. Beyond that Envoy Gateway keeps the
    /// 16 that matter most (not accepted first, then overridden, then the rest; each by
    /// namespace and name) and marks the last `Aggregated`.
    static let maxAncestors = 16

    static func truncated(_ ancestors: [PolicyAncestorStatus]) -> [PolicyAncestorStatus] {
        guard ancestors.count > maxAncestors else { return ancestors }
        func rank(_ ancestor: PolicyAncestorStatus) -> Int {
            if ancestor.conditions.contains(where: { $0.is(.accepted) && !$0.isTrue }) { return 0 }
            if ancestor.conditions.contains(where: { $0.is(.overridden) && $0.isTrue }) { return 1 }
            return 2
        }
        // A stable order: ties keep the order the ancestors were found in.
        var kept = ancestors.enumerated().sorted { a, b in
            (rank(a.element), a.element.ancestorRef.namespace, a.element.ancestorRef.name, a.offset)
                < (rank(b.element), b.element.ancestorRef.namespace, b.element.ancestorRef.name, b.offset)
        }.prefix(maxAncestors).map(\.element)
        kept[maxAncestors - 1].conditions.append(
            Condition(
                .aggregated, true, reason: "Aggregated",
                "Ancestors have been truncated because the number of policy ancestors exceeds 16."))
        return kept
    }

    static func describe(_ target: Target) -> String {
        switch target {
        case .gateway(_, let name): "Gateway \(name)"
        case .listener(let namespace, let name, let section): "Listener \(namespace)/\(name)/\(section)"
        case .route(let kind, _, let name): "\(kind) \(name)"
        case .rule(_, _, let name, let rule): "RouteRule \(name)/\(rule)"
        }
    }

    /// Each target of `policy` with the ancestors its status goes to; a nil target is a
    /// sectionName that names nothing (with the message saying so). Unknown objects are left
    /// out: Envoy Gateway writes no status for them.
    private func targets(
        of policy: BackendTrafficPolicy, gateways: [Gateway], routes: (RouteKey) -> RouteSource?, resources: ResourceSet
    ) -> [(Target?, [(AncestorRef, String)])] {
        var references = policy.targetRefs.map {
            (kind: $0.kind, namespace: policy.namespace, name: $0.name, section: $0.sectionName)
        }
        // Selector matches come first, oldest target first (Envoy Gateway's composePolicyTargetRefs).
        var selected: [(kind: String, namespace: String, name: String, section: String?, created: String)] = []
        for selector in policy.targetSelectors {
            for (key, metadata) in resources.metadata {
                let parts = key.split(separator: "/", maxSplits: 2).map(String.init)
                guard parts.count == 3, parts[0] == selector.kind, selector.matches(labels: metadata.labels) else {
                    continue
                }
                let allowed = selector.namespaces.admits(
                    parts[1], home: policy.namespace, labels: resources.labels(ofNamespace:))
                let granted =
                    parts[1] == policy.namespace
                    || resources.referenceGrants.permit(
                        fromGroup: "gateway.envoyproxy.io", fromKind: "BackendTrafficPolicy",
                        fromNamespace: policy.namespace,
                        toGroup: "gateway.networking.k8s.io", toKind: parts[0], toNamespace: parts[1], name: parts[2])
                if allowed && granted {
                    selected.append((parts[0], parts[1], parts[2], nil, metadata.creationTimestamp))
                }
            }
        }
        selected.sort { ($0.created, $0.namespace, $0.name) < ($1.created, $1.namespace, $1.name) }
        let plain = references
        references = selected.map { ($0.kind, $0.namespace, $0.name, $0.section) }
        for ref in plain
        where !references.contains(where: {
            $0.kind == ref.kind && $0.namespace == ref.namespace && $0.name == ref.name && $0.section == ref.section
        }) {
            references.append(ref)
        }

        return references.compactMap { ref -> (Target?, [(AncestorRef, String)])? in
            if ref.kind == "Gateway" {
                guard let gateway = gateways.first(where: { $0.namespace == ref.namespace && $0.name == ref.name })
                else { return nil }
                let ancestor = AncestorRef(namespace: gateway.namespace, name: gateway.name, sectionName: ref.section)
                guard let section = ref.section else {
                    return (.gateway(namespace: ref.namespace, name: ref.name), [(ancestor, "")])
                }
                guard gateway.listeners.contains(where: { $0.name == section }) else {
                    return (
                        nil, [(ancestor, "No section name \(section) found for Gateway \(ref.namespace)/\(ref.name)")]
                    )
                }
                return (.listener(namespace: ref.namespace, name: ref.name, section: section), [(ancestor, "")])
            }
            guard let route = routes(RouteKey(kind: ref.kind, namespace: ref.namespace, name: ref.name)) else {
                return nil
            }
            let ancestors = route.parentRefs.filter(\.isGateway).map {
                (AncestorRef(namespace: $0.namespace, name: $0.name, sectionName: $0.sectionName), "")
            }
            guard let section = ref.section else {
                return (.route(kind: ref.kind, namespace: ref.namespace, name: ref.name), ancestors)
            }
            guard route.rules.contains(where: { $0.name == section }) else {
                return (
                    nil,
                    ancestors.map {
                        ($0.0, "No section name \(section) found for \(ref.kind) \(ref.namespace)/\(ref.name)")
                    }
                )
            }
            return (.rule(kind: ref.kind, namespace: ref.namespace, name: ref.name, rule: section), ancestors)
        }
    }
}
