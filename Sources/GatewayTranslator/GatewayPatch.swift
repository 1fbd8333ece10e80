import GatewayAPI
import GatewayIR

extension GatewayTranslator {
    /// What a Gateway's pass over the routes made, kept so that the next translation can patch
    /// it: when the Gateway, its listeners, the policies, the namespaces and the order of the
    /// routes are those of the last translation, only the routes that changed are attached
    /// again, and their Envoy routes and clusters put in the places the old ones had. An edit
    /// of one route among ten thousand then costs one route's work, where the pass looked at
    /// every route on every listener (half of an edit's Gateway API → IR).
    ///
    /// A patch is only taken where it gives what the whole pass would: a changed route must
    /// attach to the same listeners, serve the same hostnames with as many Envoy routes and
    /// clusters as before, and use a global rate limit as before; anything else (a match added,
    /// a hostname changed, a route moved to another listener) runs the whole pass.
    struct GatewayPass {
        /// Where some of one route's Envoy routes lie: which virtual host of `config` (indices),
        /// and which of the host's routes as gathered, before precedence sorted them.
        struct Placement {
            // 32-bit: one or more for each route, ten thousand or more of them.
            var listener: Int32
            var host: Int32
            var start: Int32
            var count: Int32

            init(listener: Int, host: Int, range: Range<Int>) {
                self.listener = Int32(listener)
                self.host = Int32(host)
                start = Int32(range.lowerBound)
                count = Int32(range.count)
            }

            var range: Range<Int> { Int(start)..<Int(start + count) }
        }

        /// What the pass read besides the routes and the policies (compared once per translation).
        var gateway: Gateway
        var listeners: [String: ListenerAssessment]
        /// As the pass returned it.
        var config: GatewayConfig
        /// By route (this translation's order): where its clusters lie in `config.clusters`.
        var clusters: [Range<Int>?]
        /// Where each route's Envoy routes lie, route by route, in the order the pass added
        /// them: one array, not one for each route.
        var placements: [Placement]
        /// By route, and one more: where its placements start in `placements`.
        var placementStarts: [Int32]

        /// The placements of the route at `index`.
        func placements(of index: Int) -> ArraySlice<Placement> {
            placements[Int(placementStarts[index])..<Int(placementStarts[index + 1])]
        }

        /// `placements`, as the pass recorded them (its listeners in turn, routes in order on
        /// each), grouped by route with their order kept.
        static func grouped(_ recorded: [(route: Int, placement: Placement)], routes: Int) -> (
            placements: [Placement], starts: [Int32]
        ) {
            var starts = [Int32](repeating: 0, count: routes + 1)
            for (route, _) in recorded { starts[route + 1] += 1 }
            for index in 0..<routes { starts[index + 1] += starts[index] }
            var next = starts
            var placements = [Placement](
                repeating: Placement(listener: 0, host: 0, range: 0..<0), count: recorded.count)
            for (route, placement) in recorded {
                placements[Int(next[route])] = placement
                next[route] += 1
            }
            return (placements, starts)
        }
    }

    /// The server options a pass reads: a patch needs them unchanged.
    struct PassOptions: Equatable {
        var disableBackendTrafficPolicy: Bool
        var disabledNamespaces: Set<String>
        var accessLogPath: String?
        var rateLimitService: GlobalRateLimitService?

        init(_ options: Options) {
            disableBackendTrafficPolicy = options.disableBackendTrafficPolicy
            disabledNamespaces = options.backendTrafficPolicyDisabledNamespaces
            accessLogPath = options.accessLogPath
            rateLimitService = options.rateLimitService
        }
    }

    /// The routes (by index) to attach again, when every Gateway's pass may be patched with
    /// them: the same options, Gateways and namespaces as the last translation, each route where
    /// it was (the same value, or the same key where it changed), and each policy as it was or
    /// changed only in what it sets for the routes it names (whose routes are then attached
    /// again). Nil when a whole pass is needed, or when so many changed that it is as cheap.
    static func patchScope(
        routes: [RouteSource], rulesReused: [Bool], policies: [BackendTrafficPolicy], samePolicies: [Int?],
        statusesUnchanged: Bool, options: PassOptions, memo: Memo
    ) -> [Int]? {
        guard statusesUnchanged, memo.passOptions == options, memo.passRoutes.count == routes.count,
            policies.count == memo.policies.count
        else { return nil }
        var changed: [Int] = []
        var governed: [RouteKey] = []
        for index in policies.indices where samePolicies[index] != index {
            guard let targets = routeTargets(of: policies[index], as: memo.policies[index]) else { return nil }
            governed += targets
        }
        for index in routes.indices {
            if rulesReused[index] {
                guard routes[index].isIdentical(to: memo.passRoutes[index]) else { return nil }
                // Few policies change at once: a route is looked for among their targets only then.
                if governed.isEmpty || !governed.contains(routes[index].key) { continue }
            } else {
                guard routes[index].key == memo.passRoutes[index].key else { return nil }
            }
            guard changed.count < routes.count / 8 + 1 else { return nil }
            changed.append(index)
        }
        return changed
    }

    /// The routes `policy` names, when it is `old` changed only in what it sets: the same
    /// policy (name, age) naming the same routes, and nothing else (no Gateway, listener or
    /// selector), so that it governs the routes it did, and only those. Nil otherwise.
    static func routeTargets(of policy: BackendTrafficPolicy, as old: BackendTrafficPolicy) -> [RouteKey]? {
        guard policy.namespace == old.namespace, policy.name == old.name,
            policy.creationTimestamp == old.creationTimestamp, policy.targetRefs == old.targetRefs,
            policy.targetSelectors.isEmpty, old.targetSelectors.isEmpty,
            policy.targetRefs.allSatisfy({ ["HTTPRoute", "GRPCRoute"].contains($0.kind) })
        else { return nil }
        return policy.targetRefs.map { RouteKey(kind: $0.kind, namespace: policy.namespace, name: $0.name) }
    }

    /// `gateway`'s pass as the last translation made it, with the routes `changed` attached
    /// again; nil (and the pass forgotten) when a changed route's part differs in shape.
    static func patch(
        _ gateway: Gateway, listeners: [String: ListenerAssessment], changed: [Int],
        routes: [(RouteSource, [ResolvedRule])], policies: PolicyAttachment, namespaces: NamespaceLabels,
        memo: inout Memo, attachments: inout Int
    ) -> GatewayConfig? {
        let key = "\(gateway.namespace)/\(gateway.name)"
        guard var pass = memo.passes.removeValue(forKey: key), pass.gateway == gateway, pass.listeners == listeners,
            pass.placementStarts.count == routes.count + 1
        else { return nil }
        let served = gateway.listeners.filter {
            [.http, .https].contains($0.protocol) && listeners[$0.name]?.programmed == true
        }
        let names = served.map { "\(gateway.namespace)/\(gateway.name)/\($0.name)" }
        let last = memo.generation - 1
        var interned = InternedPolicies()
        // Each changed route's new part on each listener, its routes by placement, its clusters.
        var made: [(listener: Int, key: RouteKey, attachment: Attachment)] = []
        var replacements: [(placement: GatewayPass.Placement, routes: [Route])] = []
        var clusters: [(range: Range<Int>, clusters: [BackendCluster])] = []
        for index in changed {
            let (route, rules) = routes[index]
            let levels = route.rules.map { policies.routeLevel(route: route, ruleName: $0.name) }
            var placements = pass.placements(of: index).makeIterator()
            var first: [BackendCluster]?
            for (position, listener) in served.enumerated() {
                let old = memo.attachments[names[position]]?[route.key]
                let attaches = attaches(route, to: gateway, listener: listener, namespaces: namespaces)
                guard attaches == (old?.generation == last) else { return nil }
                guard attaches, let old = old?.attachment else { continue }
                let parent = policies.parentPolicy(gateway: gateway, listener: listener.name)
                let attachment = self.attachment(
                    route, rules: rules, governing: levels.map { .init(route: $0, parent: parent) },
                    policies: policies, listener: listener, listenerName: names[position], interned: &interned,
                    last: old)
                guard attachment.usesGlobalRateLimit == old.usesGlobalRateLimit,
                    attachment.hosts.count == old.hosts.count
                else { return nil }
                for (new, old) in zip(attachment.hosts, old.hosts) {
                    guard new.hostname == old.hostname, !new.routes.isEmpty, new.routes.count == old.routes.count,
                        let placement = placements.next(), placement.range.count == new.routes.count
                    else { return nil }
                    replacements.append((placement, new.routes))
                    if first == nil { first = new.clusters }
                }
                made.append((position, route.key, attachment))
            }
            guard placements.next() == nil else { return nil }
            if let range = pass.clusters[index] {
                guard let first, first.count == range.count else { return nil }
                clusters.append((range, first))
            } else if first?.isEmpty == false {
                return nil
            }
        }
        for (range, made) in clusters { pass.config.clusters.replaceSubrange(range, with: made) }
        // Each host's routes as gathered, changed where the routes were, then sorted again.
        var precedence = memo.precedence.removeValue(forKey: key) ?? [:]
        var touched: [(listener: Int, host: Int, slot: Dictionary<String, PrecedenceEntry>.Index)] = []
        for (placement, routes) in replacements {
            let (listener, host) = (Int(placement.listener), Int(placement.host))
            let name = pass.config.listeners[listener].virtualHosts[host].name
            guard let slot = precedence.index(forKey: name) else { return nil }
            precedence.values[slot].written.replaceSubrange(placement.range, with: routes)
            if !touched.contains(where: { $0.slot == slot }) {
                touched.append((listener, host, slot))
            }
        }
        for (listener, host, slot) in touched {
            let sorted = RoutePrecedence.sorted(precedence.values[slot].written)
            precedence.values[slot].sorted = sorted
            pass.config.listeners[listener].virtualHosts[host].routes = sorted
        }
        // Everything else is this translation's as it stands.
        for slot in precedence.values.indices { precedence.values[slot].generation = memo.generation }
        memo.precedence[key] = precedence
        var madeBy = Dictionary(grouping: made, by: \.listener)
        for (position, name) in names.enumerated() {
            guard var kept = memo.attachments.removeValue(forKey: name) else { continue }
            for (_, key, attachment) in madeBy.removeValue(forKey: position) ?? [] {
                kept[key] = (attachment, memo.generation)
            }
            for slot in kept.values.indices { kept.values[slot].generation = memo.generation }
            attachments += kept.count
            memo.reused += kept.count
            memo.attachments[name] = kept
        }
        memo.reused -= made.count
        memo.patchedPasses += 1
        memo.passes[key] = pass
        return pass.config
    }
}
