import FoundationEssentials
import GatewayAPI
import GatewayIR
import Parallel

/// The operator's resources → one `GatewayConfig` per Gateway (listeners, virtual hosts, routes
/// in precedence order, a cluster per route rule) and the status of every Gateway and route.
/// Pure: no files, no clocks.
///
/// Names follow Envoy Gateway's (docs/envoy-gateway-mapping.md §5.1) so its users' dashboards carry over.
public enum GatewayTranslator {
    /// Envoy runs unprivileged: a Gateway port below 1024 becomes this much higher, as in Envoy Gateway.
    public static let privilegedPortOffset = 10000
    /// Written into route parent statuses; Envoy Gateway's, since we translate as it does.
    public static let controllerName = "gateway.envoyproxy.io/gatewayclass-controller"

    public struct Output: Sendable {
        public var configs: [GatewayConfig]
        public var status: StatusReport
    }

    /// Server-wide switches, as KubeLB offers them: BackendTrafficPolicy off, or off for some
    /// namespaces (tenants). Disabled policies get a condition saying why.
    public struct Options: Sendable {
        public var disableBackendTrafficPolicy = false
        public var backendTrafficPolicyDisabledNamespaces: Set<String> = []
        /// Every listener's access log (Envoy Gateway's default: `/dev/stdout`); nil turns it off.
        public var accessLogPath: String? = Self.defaultAccessLogPath
        /// The time certificates' validity is judged by: the caller's clock (the translator reads
        /// none). Nil leaves validity windows unjudged.
        public var now: Date?
        /// Where Envoy reaches the rate limit service that counts global rate limits; nil when
        /// this server does not run one (global rate limits are then refused).
        public var rateLimitService: GlobalRateLimitService?

        public static let defaultAccessLogPath = "/dev/stdout"

        public init(
            disableBackendTrafficPolicy: Bool = false, backendTrafficPolicyDisabledNamespaces: Set<String> = [],
            accessLogPath: String? = Self.defaultAccessLogPath, now: Date? = nil,
            rateLimitService: GlobalRateLimitService? = nil
        ) {
            self.disableBackendTrafficPolicy = disableBackendTrafficPolicy
            self.backendTrafficPolicyDisabledNamespaces = backendTrafficPolicyDisabledNamespaces
            self.accessLogPath = accessLogPath
            self.now = now
            self.rateLimitService = rateLimitService
        }
    }

    public static func translate(_ resources: ResourceSet, options: Options = Options()) -> Output {
        var memo = Memo()
        return translate(resources, options: options, memo: &memo)
    }

    /// `translate(resources)`, reusing what `memo` kept of the last translation wherever a
    /// route's inputs are the same, and keeping this one's for the next. The memo is changed in
    /// place: rebuilding and freeing ten thousand entries cost more than the lookups.
    public static func translate(_ resources: ResourceSet, options: Options = Options(), memo: inout Memo) -> Output {
        memo.generation &+= 1
        memo.reused = 0
        let backendInputs = BackendInputs(resources)
        let backendsUnchanged = memo.backends != nil && memo.backendInputs == backendInputs
        if !backendsUnchanged {
            memo.backendInputs = backendInputs
            memo.backends = BackendIndex(resources)
        }
        let backends = memo.backends!
        // A route's status is kept while the Gateways and namespaces it is judged against are equal.
        let statusInputs = Memo.StatusInputs(gateways: resources.gateways, namespaces: resources.namespaces)
        let statusesUnchanged = memo.statusInputs == statusInputs
        memo.statusInputs = statusInputs
        var resolvedRoutes:
            [(route: RouteSource, rules: [ResolvedRule], reused: Bool, status: Memo.RouteEntry.Status?)] = []
        resolvedRoutes.reserveCapacity(resources.httpRoutes.count + resources.grpcRoutes.count)
        var routesWritten = 0
        // Routes whose rules are resolved after the loops, on every core (a first load resolves
        // ten thousand): where each sits in `resolvedRoutes`, and its memo entry's key.
        // With the rules its entry had, if any: `shareClusters(_:with:)` keeps their equal clusters.
        var unresolved: [(position: Int, key: RouteKey, earlier: [ResolvedRule])] = []
        // A route resolves as before when it and everything its backendRefs can reach are equal;
        // a route written as before is the same RouteSource, so comparing it later is cheap.
        // The entry is changed in place: writing a new one released and retained every field
        // of ten thousand routes on each edit.
        // `same` tells whether an entry was written so, `written` boxes the route for the memo:
        // only a route that changed is boxed (ten thousand boxes on every edit were 4 % of it).
        func resolve(
            key: RouteKey, same: (Memo.Written) -> Bool, written: () -> Memo.Written, source: () -> RouteSource
        ) {
            guard let index = memo.rules.index(forKey: key) else {
                let route = source()
                routesWritten += 1
                unresolved.append((resolvedRoutes.count, key, []))
                resolvedRoutes.append((route, [], false, nil))
                memo.rules[key] = Memo.RouteEntry(
                    written: written(), route: route, rules: [], status: nil, generation: memo.generation)
                return
            }
            // In place: reading `values[index]` copied the whole entry, a tenth of an edit.
            let generation = memo.generation
            var earlier: [ResolvedRule] = []
            if update(
                &memo.rules.values[index], same: same, written: written, generation: generation, source: source,
                earlier: &earlier)
            {
                memo.reused += 1
            } else {
                unresolved.append((resolvedRoutes.count - 1, key, earlier))
            }
        }
        /// Brings a kept entry up to this translation; whether its rules (and status) were reused.
        /// When they were not, `earlier` takes them from the entry.
        func update(
            _ kept: inout Memo.RouteEntry, same: (Memo.Written) -> Bool, written: () -> Memo.Written,
            generation: UInt64, source: () -> RouteSource, earlier: inout [ResolvedRule]
        ) -> Bool {
            let keptGeneration = kept.generation
            if keptGeneration != generation { routesWritten += 1 }
            kept.generation = generation
            var sameRoute = true
            if !same(kept.written) {
                let route = source()
                sameRoute = kept.route == route
                kept.written = written()
                // An equal route stays the value the attachments and policies hold.
                if !sameRoute { kept.route = route }
            }
            // Only the last translation's entries were resolved against the backends compared.
            if backendsUnchanged, keptGeneration == generation - 1, sameRoute {
                if !statusesUnchanged { kept.status = nil }
                resolvedRoutes.append((kept.route, kept.rules, true, kept.status))
                return true
            }
            swap(&earlier, &kept.rules)
            kept.status = nil
            resolvedRoutes.append((kept.route, [], false, nil))
            return false
        }
        for route in resources.httpRoutes {
            resolve(
                key: RouteKey(kind: "HTTPRoute", namespace: route.namespace, name: route.name),
                same: { $0.holds(route) }, written: { .http(route) }, source: { RouteSource(route) })
        }
        for route in resources.grpcRoutes {
            resolve(
                key: RouteKey(kind: "GRPCRoute", namespace: route.namespace, name: route.name),
                same: { $0.holds(route) }, written: { .grpc(route) }, source: { RouteSource(route) })
        }
        let resolved = Parallel.map(unresolved, minimumChunk: 64) { [resolvedRoutes] unresolved in
            resolveRules(resolvedRoutes[unresolved.position].route, backends: backends)
        }
        for (unresolved, var rules) in zip(unresolved, resolved) {
            shareClusters(&rules, with: unresolved.earlier)
            resolvedRoutes[unresolved.position].rules = rules
            memo.rules[unresolved.key]?.rules = rules
        }
        memo.forgetRoutes(keeping: routesWritten)
        resolvedRoutes.sort {
            ($0.route.namespace, $0.route.name, $0.route.kind) < ($1.route.namespace, $1.route.name, $1.route.kind)
        }
        let routes = resolvedRoutes.map(\.route)
        let rules = resolvedRoutes.map(\.rules)
        let rulesReused = resolvedRoutes.map(\.reused)
        let statuses = resolvedRoutes.map(\.status)
        resolvedRoutes = []
        let gateways = resources.gateways.sorted { ($0.namespace, $0.name) < ($1.namespace, $1.name) }
        let layer4 = resolveLayer4(resources.layer4Routes, backends: backends)
        // TCPRoutes, UDPRoutes and TLSRoutes take policies as HTTP routes do (cluster settings only).
        let policyTargets = routes + layer4.map(\.route)
        let layer4ByKey = Dictionary(layer4.map { ($0.route.key, $0.route) }, uniquingKeysWith: { a, _ in a })
        let passOptions = PassOptions(options)
        // The last translation's attachment of policies stands while everything it read does.
        let policyInputs = Memo.PolicyInputs(resources, layer4: layer4.map(\.route), options: passOptions)
        let policies: PolicyAttachment
        if statusesUnchanged, let kept = memo.policyAttachment, memo.policyInputs == policyInputs,
            memo.policyTargetsUnchanged(routes)
        {
            policies = kept
        } else {
            // The memo holds exactly this translation's HTTP and gRPC routes by now, by key.
            var made = PolicyAttachment(
                resources, route: { memo.rules[$0]?.route ?? layer4ByKey[$0] }, options: options)
            made.noteOverrides(gateways: gateways, routes: policyTargets)
            policies = made
            memo.policyAttachment = made
            memo.policyInputs = policyInputs
        }

        let namespaces: NamespaceLabels = { resources.labels(ofNamespace: $0) }
        var status = StatusReport()
        var attached: [String: Int] = [:]  // "<gw-ns>/<gw>/<listener>" → routes attached
        // Statuses not kept are judged on every core (a first load judges ten thousand).
        let unjudged = statuses.indices.filter { statuses[$0] == nil }
        let judged = Parallel.map(unjudged, minimumChunk: 64) { index in
            routeStatus(routes[index], rules: rules[index], gateways: gateways, namespaces: namespaces)
        }
        var judgedAt = 0
        // Routes mostly have the parents and listeners of the route before them (the same
        // Gateway, accepted): those share its arrays, which the memo keeps for every route
        // (2 MB at 10000 routes when each had its own). The route before may be a kept one: an
        // edited route judged again shares them too, not arrays of its own.
        var previous: Memo.RouteEntry.Status?
        for (index, route) in routes.enumerated() {
            let made: Memo.RouteEntry.Status
            if let kept = statuses[index] {
                made = kept
            } else {
                var (routeStatus, attachedTo) = judged[judgedAt]
                judgedAt += 1
                if let previous {
                    if routeStatus.parents == previous.status.parents { routeStatus.parents = previous.status.parents }
                    if attachedTo == previous.attachedTo { attachedTo = previous.attachedTo }
                }
                made = Memo.RouteEntry.Status((routeStatus, attachedTo))
                memo.rules[route.key]?.status = made
            }
            previous = made
            for listener in made.attachedTo { attached[listener, default: 0] += 1 }
            let routeStatus = made.status
            if route.kind == "GRPCRoute" {
                status.grpcRoutes.append(routeStatus)
            } else {
                status.httpRoutes.append(routeStatus)
            }
        }
        for rule in layer4 {
            let routeStatus = layer4Status(rule, gateways: gateways, namespaces: namespaces, attached: &attached)
            switch rule.route.kind {
            case Layer4Route.Kind.tls.rawValue: status.tlsRoutes = (status.tlsRoutes ?? []) + [routeStatus]
            case Layer4Route.Kind.tcp.rawValue: status.tcpRoutes = (status.tcpRoutes ?? []) + [routeStatus]
            default: status.udpRoutes = (status.udpRoutes ?? []) + [routeStatus]
            }
        }
        var assessments: [[String: ListenerAssessment]] = []
        // Which of the last translation's policies each of these equals: once, for every Gateway.
        let samePolicies = memo.samePolicies(as: policies.policies)
        var attachments = 0
        // Made once: every Gateway and the BackendTLSPolicy statuses read it.
        let routesWithRules = Array(zip(routes, rules))
        let patchScope = patchScope(
            routes: routes, rulesReused: rulesReused, policies: policies.policies, samePolicies: samePolicies,
            statusesUnchanged: statusesUnchanged, options: passOptions, memo: memo)
        let configs = gateways.map { gateway in
            let listeners = ListenerValidation.assess(gateway, resources: resources, now: options.now)
            assessments.append(listeners)
            status.gateways.append(gatewayStatus(gateway, listeners: listeners, attached: attached))
            var config = translate(
                gateway, listeners: listeners, routes: routesWithRules, rulesReused: rulesReused,
                policies: policies, samePolicies: samePolicies, namespaces: namespaces,
                accessLogPath: options.accessLogPath, rateLimitService: options.rateLimitService,
                patchScope: patchScope, memo: &memo, attachments: &attachments)
            if let service = options.rateLimitService, config.listeners.contains(where: { $0.rateLimitService != nil })
            {
                config.clusters.append(rateLimitCluster(service))
            }
            addLayer4(
                gateway, listeners: listeners, routes: layer4, policies: policies, namespaces: namespaces,
                accessLogPath: options.accessLogPath, to: &config)
            config.trustBundles = backends.tls.bundles(for: config.clusters)
            for secret in backends.tls.clientSecrets(for: config.clusters)
            where !config.secrets.contains(where: { $0.name == secret.name }) {
                config.secrets.append(secret)
            }
            return config
        }
        noteOverlaps(configs, in: &status, memo: &memo.overlaps)
        if memo.precedence.count != configs.count || memo.passes.count != configs.count {
            let kept = Set(configs.map(\.key))
            memo.precedence = memo.precedence.filter { kept.contains($0.key) }
            memo.passes = memo.passes.filter { kept.contains($0.key) }
        }
        memo.passRoutes = routes
        memo.passOptions = passOptions
        status.backendTrafficPolicies = policies.report
        status.backendTLSPolicies = backendTLSPolicyStatus(
            backends.tls, routes: routesWithRules + layer4.map { ($0.route, [$0.resolved]) },
            gateways: gateways)
        status.certificates = certificates(
            Array(zip(gateways, assessments)), resources: resources, now: options.now)
        memo.forgetAttachments(keeping: attachments)
        memo.policies = policies.policies
        return Output(configs: configs, status: status)
    }

    /// The certificates programmed listeners present, by secret, with their expiry.
    static func certificates(
        _ gateways: [(Gateway, [String: ListenerAssessment])], resources: ResourceSet, now: Date?
    ) -> [CertificateStatus]? {
        var bySecret: [String: CertificateStatus] = [:]
        for (gateway, listeners) in gateways {
            for listener in gateway.listeners {
                guard let assessment = listeners[listener.name], assessment.programmed else { continue }
                for (secret, notAfter) in assessment.tls.expiries {
                    let name = "\(gateway.namespace)/\(gateway.name)/\(listener.name)"
                    if bySecret[secret] != nil {
                        bySecret[secret]!.listeners.append(name)
                        continue
                    }
                    let soon = now.map {
                        notAfter.timeIntervalSince($0) < Double(CertificateStatus.warningDays) * 86400
                    }
                    bySecret[secret] = CertificateStatus(
                        secret: secret, notAfter: notAfter.formatted(.iso8601),
                        notAfterSeconds: Int64(notAfter.timeIntervalSince1970), expiresSoon: soon ?? false,
                        listeners: [name], location: resources.secrets[secret]?.location ?? gateway.location)
                }
            }
        }
        return bySecret.isEmpty ? nil : bySecret.values.sorted { $0.secret < $1.secret }
    }

    /// `ratelimit_cluster`, where Envoy asks the rate limit service over gRPC (HTTP/2): Envoy
    /// Gateway's name; a host name is resolved by Envoy (a DNS cluster), an address is sent as an
    /// endpoint.
    static func rateLimitCluster(_ service: GlobalRateLimitService) -> BackendCluster {
        BackendCluster(
            name: "ratelimit_cluster", discovery: CIDR.isAddress(service.host) ? .endpoints : .dns,
            upstreamProtocol: .http2,
            groups: [EndpointGroup(weight: 1, endpoints: [Endpoint(host: service.host, port: service.port)])])
    }

    public static func envoyPort(_ port: Int) -> Int {
        port < 1024 ? port + privilegedPortOffset : port
    }

    /// A route rule with its backends resolved: shared by every Gateway the route attaches to.
    struct ResolvedRule {
        var clusterName: String
        /// Nil when no backend resolved, or when the rule is rejected: its routes answer 500.
        var cluster: BackendCluster?
        var problems: [BackendIndex.Problem]
        var rejection: RuleRejection?
        /// The BackendTLSPolicies its backendRefs use, `<ns>/<name>`.
        var tlsPolicies: Set<String>
        /// The rule's filters, out of line when it has any: the memo keeps every rule, most have
        /// none, and inline they were three quarters of a resolved rule (176 of 232 bytes).
        private var filterBox: FilterBox?

        init(
            clusterName: String, cluster: BackendCluster?, problems: [BackendIndex.Problem], filters: RouteFilters,
            rejection: RuleRejection?, tlsPolicies: Set<String> = []
        ) {
            self.clusterName = clusterName
            self.cluster = cluster
            self.problems = problems
            self.rejection = rejection
            self.tlsPolicies = tlsPolicies
            filterBox = filters.isEmpty ? nil : FilterBox(filters)
        }

        var filters: RouteFilters { filterBox?.filters ?? RouteFilters([]) }

        private final class FilterBox: Sendable {
            let filters: RouteFilters
            init(_ filters: RouteFilters) { self.filters = filters }
        }

        /// What the rule's routes answer without a cluster: 503 when every backend is a Service
        /// without ready endpoints (nothing is wrong but capacity), else 500, as in Envoy Gateway.
        var unavailableStatus: Int {
            rejection == nil && !problems.isEmpty && problems.allSatisfy(\.isUnavailable) ? 503 : 500
        }
    }

    /// Each of `rules`' clusters (and cluster names) equal to the one of the same rule in
    /// `earlier` (the route's rules as the last translation resolved them) replaced by that one:
    /// the attachments and the Envoy translator's memo hold the earlier box, and an equal copy
    /// beside it in the memo's rules kept a few hundred bytes for every route ever edited.
    static func shareClusters(_ rules: inout [ResolvedRule], with earlier: [ResolvedRule]) {
        for (index, earlier) in zip(rules.indices, earlier) {
            if rules[index].clusterName == earlier.clusterName { rules[index].clusterName = earlier.clusterName }
            if let cluster = rules[index].cluster, let kept = earlier.cluster, cluster == kept {
                rules[index].cluster = kept
            }
        }
    }

    static func resolveRules(_ route: RouteSource, backends: BackendIndex) -> [ResolvedRule] {
        route.rules.enumerated().map { index, rule in
            let name = joined(route.namePrefix, "/rule/", String(index))
            let filters = RouteFilters(rule.filters)
            let rejection = rejection(rule, index: index, filters: filters)
            // A dropped rule is not looked at further, as in Envoy Gateway: its backends go unreported.
            if rejection?.dropsRule == true {
                return ResolvedRule(
                    clusterName: name, cluster: nil, problems: [], filters: filters, rejection: rejection)
            }
            let resolution = backends.cluster(named: name, for: rule.backendRefs, route: route, rule: index)
            return ResolvedRule(
                clusterName: name, cluster: rejection == nil ? resolution.cluster : nil,
                problems: resolution.problems, filters: filters, rejection: rejection,
                tlsPolicies: resolution.tlsPolicies)
        }
    }

    static func translate(
        _ gateway: Gateway, listeners: [String: ListenerAssessment], routes: [(RouteSource, [ResolvedRule])],
        rulesReused: [Bool], policies: PolicyAttachment, samePolicies: [Int?], namespaces: NamespaceLabels,
        accessLogPath: String?, rateLimitService: GlobalRateLimitService?, patchScope: [Int]?, memo: inout Memo,
        attachments: inout Int
    ) -> GatewayConfig {
        if let changed = patchScope,
            let patched = patch(
                gateway, listeners: listeners, changed: changed, routes: routes, policies: policies,
                namespaces: namespaces, memo: &memo, attachments: &attachments)
        {
            return patched
        }
        var config = GatewayConfig(key: "\(gateway.namespace)/\(gateway.name)")
        // Where each route's clusters and Envoy routes go, for the next translation to patch;
        // a placement's host is its index before the hosts are sorted, until they are.
        var clusterRanges = [Range<Int>?](repeating: nil, count: routes.count)
        var placements: [(route: Int, placement: GatewayPass.Placement)] = []
        // Every host of every listener a route serves gives the same clusters (a rule's, named
        // after it): the first adds them. Route names are unique, so no other check is needed.
        var clustersAdded = [Bool](repeating: false, count: routes.count)
        // Each rule's own policy, looked up once for every listener (nil until the route attaches).
        var routeLevels = [[Int?]?](repeating: nil, count: routes.count)
        var interned = InternedPolicies()

        // HTTP listeners on one port share one connection manager, named after the first (Envoy
        // Gateway's rule); each HTTPS listener has its own, a filter chain of the port's listener.
        var byPort: [String: HTTPListener] = [:]
        var portOrder: [String] = []
        // Each port's virtual hosts by their one domain: ten thousand routes with hostnames of
        // their own would otherwise search every host for each.
        var hostIndex: [String: [String: Int]] = [:]
        // A listener that is not programmed (conflicts, invalid kinds) takes routes but serves nothing.
        for listener in gateway.listeners
        where [.http, .https].contains(listener.protocol) && listeners[listener.name]?.programmed == true {
            let listenerName = "\(gateway.namespace)/\(gateway.name)/\(listener.name)"
            let port = listener.protocol == .https ? listenerName : "\(envoyPort(listener.port))"
            if byPort[port] == nil {
                byPort[port] = HTTPListener(name: listenerName, port: envoyPort(listener.port))
                byPort[port]!.accessLogPath = accessLogPath
                portOrder.append(port)
                if listener.protocol == .https, let assessment = listeners[listener.name] {
                    byPort[port]!.tls = TLSTermination(
                        certificates: assessment.tls.secrets.map(\.name),
                        serverNames: listener.hostname.map { [$0] } ?? [],
                        alpnProtocols: assessment.tlsOverlaps ? ["http/1.1"] : ["h2", "http/1.1"])
                    for secret in assessment.tls.secrets
                    where !config.secrets.contains(where: { $0.name == secret.name }) {
                        config.secrets.append(secret)
                    }
                }
            }
            let parentPolicy = policies.parentPolicy(gateway: gateway, listener: listener.name)
            // This port's listener and host index, and this listener's kept attachments, taken
            // out while its routes are added (and put back after): a lookup of each by its name
            // for every route was a tenth of this.
            let portIndex = portOrder.firstIndex(of: port)!
            var http = byPort.removeValue(forKey: port)!
            var hosts = hostIndex.removeValue(forKey: port) ?? [:]
            var kept = memo.attachments.removeValue(forKey: listenerName) ?? [:]
            // First which routes attach and which of them need a new attachment; those are made
            // on every core (a first load makes ten thousand), then all are placed in order.
            var attaching: [(index: Int, governing: [PolicyAttachment.Governing], fresh: Int?)] = []
            var fresh: [(index: Int, governing: [PolicyAttachment.Governing])] = []
            for (index, (route, _)) in routes.enumerated()
            where attaches(route, to: gateway, listener: listener, namespaces: namespaces) {
                if routeLevels[index] == nil {
                    routeLevels[index] = route.rules.map { policies.routeLevel(route: route, ruleName: $0.name) }
                }
                let governing = routeLevels[index]!.map { PolicyAttachment.Governing(route: $0, parent: parentPolicy) }
                if rulesReused[index], let slot = kept.index(forKey: route.key),
                    kept.values[slot].generation == memo.generation - 1,
                    memo.holds(
                        kept.values[slot].attachment, governing: governing, same: samePolicies, listener: listener)
                {
                    attaching.append((index, governing, nil))
                } else {
                    attaching.append((index, governing, fresh.count))
                    fresh.append((index, governing))
                }
            }
            var made = Parallel.map(fresh, minimumChunk: 64) { fresh in
                attachment(
                    routes[fresh.index].0, rules: routes[fresh.index].1, governing: fresh.governing,
                    policies: policies, listener: listener, listenerName: listenerName)
            }
            for (index, fresh) in zip(made.indices, fresh) {
                intern(
                    &made[index], rules: routes[fresh.index].1, into: &interned,
                    last: kept[routes[fresh.index].0.key]?.attachment)
            }
            for (index, governing, freshIndex) in attaching {
                let route = routes[index].0
                if route.kind == "GRPCRoute" { http.servesGRPC = true }
                // Looked up once and changed in place, as the route entries are.
                let slot = kept.index(forKey: route.key)
                let keptGeneration = slot.map { kept.values[$0].generation }
                let attachment: Attachment
                if let freshIndex {
                    attachment = made[freshIndex]
                    if let slot {
                        kept.values[slot] = (attachment, memo.generation)
                    } else {
                        kept[route.key] = (attachment, memo.generation)
                    }
                } else {
                    // Its policies' indices are this translation's from now on: the next compares
                    // them with this one's policies, and an index may have shifted (a policy gone).
                    kept.values[slot!].attachment.governing = governing
                    kept.values[slot!].generation = memo.generation
                    attachment = kept.values[slot!].attachment
                    memo.reused += 1
                }
                if keptGeneration != memo.generation { attachments += 1 }
                if attachment.usesGlobalRateLimit { http.rateLimitService = rateLimitService }
                for (hostname, underscoredHostname, routeNames, clusters) in attachment.hosts {
                    if !clustersAdded[index] {
                        clusterRanges[index] = config.clusters.count..<config.clusters.count + clusters.count
                        config.clusters += clusters
                        clustersAdded[index] = true
                    }
                    if let host = hosts[hostname] {
                        let start = http.virtualHosts[host].routes.count
                        placements.append(
                            (index, .init(listener: portIndex, host: host, range: start..<start + routeNames.count)))
                        http.virtualHosts[host].routes += routeNames
                    } else if !routeNames.isEmpty {  // every rule dropped: no host, as in Envoy Gateway
                        placements.append(
                            (
                                index,
                                .init(listener: portIndex, host: http.virtualHosts.count, range: 0..<routeNames.count)
                            ))
                        hosts[hostname] = http.virtualHosts.count
                        var host = VirtualHost(
                            name: "\(http.name)/\(underscoredHostname)", domains: [hostname], routes: routeNames)
                        host.metadata = ResourceMetadata(
                            kind: "Gateway", name: gateway.name, namespace: gateway.namespace,
                            sectionName: listener.name)
                        http.virtualHosts.append(host)
                    }
                }
            }
            byPort[port] = http
            hostIndex[port] = hosts
            memo.attachments[listenerName] = kept
        }
        // This Gateway's hosts' routes in precedence order, as the last translation had them,
        // changed in place where a host's routes changed.
        var precedence = memo.precedence.removeValue(forKey: config.key) ?? [:]
        var hostCount = 0
        // By listener: each host's index after sorting, by its index before.
        var sortedIndex: [[Int]] = []
        config.listeners = portOrder.map { port in
            var listener = byPort[port]!
            let hosts = listener.virtualHosts
            let order = hosts.indices.sorted { hosts[$0].name < hosts[$1].name }
            var newIndex = [Int](repeating: 0, count: order.count)
            for (new, old) in order.enumerated() { newIndex[old] = new }
            sortedIndex.append(newIndex)
            listener.virtualHosts = order.map { hosts[$0] }
            hostCount += listener.virtualHosts.count
            for index in listener.virtualHosts.indices {
                // A host whose routes are the last translation's (the same storage: mostly a
                // pointer check) sorts as it did.
                let routes = listener.virtualHosts[index].routes
                if let slot = precedence.index(forKey: listener.virtualHosts[index].name) {
                    if precedence.values[slot].written != routes {
                        precedence.values[slot].written = routes
                        precedence.values[slot].sorted = RoutePrecedence.sorted(routes)
                    }
                    precedence.values[slot].generation = memo.generation
                    listener.virtualHosts[index].routes = precedence.values[slot].sorted
                } else {
                    let sorted = RoutePrecedence.sorted(routes)
                    precedence[listener.virtualHosts[index].name] = (routes, sorted, memo.generation)
                    listener.virtualHosts[index].routes = sorted
                }
            }
            return listener
        }
        if precedence.count != hostCount {
            let generation = memo.generation
            precedence = precedence.filter { $0.value.generation == generation }
        }
        memo.precedence[config.key] = precedence
        for slot in placements.indices {
            let placement = placements[slot].placement
            placements[slot].placement.host = Int32(sortedIndex[Int(placement.listener)][Int(placement.host)])
        }
        let grouped = GatewayPass.grouped(placements, routes: routes.count)
        memo.passes[config.key] = GatewayPass(
            gateway: gateway, listeners: listeners, config: config, clusters: clusterRanges,
            placements: grouped.placements, placementStarts: grouped.starts)
        return config
    }

    /// What `route` makes on one listener: for each hostname they share, its routes, and its
    /// rules' clusters with the policy settings for that hostname.
    static func attachment(
        _ route: RouteSource, rules: [ResolvedRule], governing: [PolicyAttachment.Governing],
        policies: PolicyAttachment, listener: Gateway.Listener, listenerName: String,
        interned: inout InternedPolicies, last: Attachment?
    ) -> Attachment {
        var made = attachment(
            route, rules: rules, governing: governing, policies: policies, listener: listener,
            listenerName: listenerName)
        intern(&made, rules: rules, into: &interned, last: last)
        return made
    }

    /// `attachment`'s policies replaced by the equal ones already in `interned` (or added to it):
    /// one box for every equal value in a translation. With `last`, the last translation's part
    /// of the same route, its policies join `interned` first, and each route or cluster equal to
    /// the one in its place there is replaced by it: an edited route's unchanged parts stay the
    /// boxes the rest of the memo (and the Envoy translator's) hold, not equal copies beside
    /// them, which kept a few kilobytes for every route ever edited.
    static func intern(
        _ attachment: inout Attachment, rules: [ResolvedRule], into interned: inout InternedPolicies,
        last: Attachment? = nil
    ) {
        if let last { interned.add(last) }
        for host in attachment.hosts.indices {
            for index in attachment.hosts[host].routes.indices {
                let policy = attachment.hosts[host].routes[index].sharedPolicy
                let shared = interned.routes.insert(policy).memberAfterInsert
                if !shared.sharesBox(with: policy) { attachment.hosts[host].routes[index].sharedPolicy = shared }
            }
            // A cluster without settings keeps its rule's box, as its rule made it: setting it
            // would copy the cluster's fields.
            for index in attachment.hosts[host].clusters.indices {
                let policy = attachment.hosts[host].clusters[index].sharedPolicy
                if rules.contains(where: { $0.cluster?.sharedPolicy.sharesBox(with: policy) == true }) { continue }
                let shared = interned.clusters.insert(policy).memberAfterInsert
                if !shared.sharesBox(with: policy) { attachment.hosts[host].clusters[index].sharedPolicy = shared }
            }
        }
        guard let last else { return }
        for (host, old) in zip(attachment.hosts.indices, last.hosts)
        where attachment.hosts[host].hostname == old.hostname {
            for (index, old) in zip(attachment.hosts[host].routes.indices, old.routes)
            where attachment.hosts[host].routes[index] == old {
                attachment.hosts[host].routes[index] = old
            }
            for (index, old) in zip(attachment.hosts[host].clusters.indices, old.clusters)
            where attachment.hosts[host].clusters[index] == old {
                attachment.hosts[host].clusters[index] = old
            }
        }
    }

    /// What `route` makes on one listener, its policies not yet interned: this part of a
    /// translation runs on every core.
    static func attachment(
        _ route: RouteSource, rules: [ResolvedRule], governing: [PolicyAttachment.Governing],
        policies: PolicyAttachment, listener: Gateway.Listener, listenerName: String
    ) -> Attachment {
        let ruleSettings = governing.map(policies.effective)
        let shares = ruleSettings.map { $0.map(TrafficPolicyTranslation.RouteShare.init) }
        var usesGlobalRateLimit = false
        let hosts = hostnames(listener: listener.hostname, route: route.hostnames).map { hostname in
            var routeNames = add(
                route, rules: rules, hostname: hostname, listenerPort: listener.port, policies: shares)
            for index in routeNames.indices {
                if routeNames[index].policy.globalRateLimit != nil {
                    routeNames[index].policy.globalRateLimit!.domain = listenerName
                    usesGlobalRateLimit = true
                }
            }
            let clusters = zip(rules, ruleSettings).compactMap { rule, settings -> BackendCluster? in
                guard var cluster = rule.cluster else { return nil }
                if let settings, settings.problems.isEmpty {
                    cluster.policy = TrafficPolicyTranslation.clusterPolicy(settings.settings, hostname: hostname)
                }
                return cluster
            }
            return (hostname, underscored(hostname), routeNames, clusters)
        }
        return Attachment(
            governing: governing, listenerHostname: listener.hostname, listenerPort: listener.port, hosts: hosts,
            usesGlobalRateLimit: usesGlobalRateLimit)
    }

    /// Whether `ref` names this listener (by section name or port, or neither).
    static func selects(_ ref: ParentReference, _ listener: Gateway.Listener) -> Bool {
        (ref.sectionName == nil || ref.sectionName == listener.name) && (ref.port == nil || ref.port == listener.port)
    }

    /// Whether the listener takes routes of this kind from the route's namespace.
    static func allows(
        _ listener: Gateway.Listener, _ route: RouteSource, gateway: Gateway, namespaces: NamespaceLabels
    ) -> Bool {
        guard ListenerValidation.takes(listener, kind: route.kind) else { return false }
        return listener.namespaces.admits(route.namespace, home: gateway.namespace, labels: namespaces)
    }

    /// A namespace's labels (from Namespace objects, plus Kubernetes' automatic name label).
    typealias NamespaceLabels = @Sendable (String) -> [String: String]

    /// Whether `route` attaches to this listener: a parentRef names both, the listener allows it,
    /// and their hostnames intersect.
    static func attaches(
        _ route: RouteSource, to gateway: Gateway, listener: Gateway.Listener, namespaces: NamespaceLabels
    ) -> Bool {
        allows(listener, route, gateway: gateway, namespaces: namespaces)
            && hostnamesIntersect(listener: listener.hostname, route: route.hostnames)
            && route.parentRefs.contains { ref in
                ref.isGateway && ref.namespace == gateway.namespace && ref.name == gateway.name
                    && selects(ref, listener)
            }
    }

    /// The hostnames a route serves on a listener: the intersection of both, with `*.` wildcards
    /// as Gateway API defines them; `*` when neither names any.
    static func hostnames(listener: String?, route: [String]) -> [String] {
        guard let listener else { return route.isEmpty ? ["*"] : route }
        if route.isEmpty { return [listener] }
        return route.compactMap { intersection(listener: listener, route: $0) }
    }

    /// Whether `hostnames(listener:route:)` is not empty, without making it: asked for every
    /// route on every listener.
    static func hostnamesIntersect(listener: String?, route: [String]) -> Bool {
        guard let listener, !route.isEmpty else { return true }
        return route.contains { intersection(listener: listener, route: $0) != nil }
    }

    /// The hostname a listener's and a route's hostname both match, or nil.
    private static func intersection(listener: String, route hostname: String) -> String? {
        if hostname == listener { return hostname }
        if listener.hasPrefix("*."), endsWith(hostname, listener.utf8.dropFirst()) { return hostname }
        if hostname.hasPrefix("*."), endsWith(listener, hostname.utf8.dropFirst()) { return listener }
        return nil
    }

    /// Whether `name` ends with `suffix`, byte for byte: hostnames are ASCII, and the generic
    /// `hasSuffix` of a Substring compared them character by character (4 % of a translation at
    /// 10000 routes).
    private static func endsWith(_ name: String, _ suffix: Substring.UTF8View) -> Bool {
        name.utf8.count >= suffix.count && name.utf8.suffix(suffix.count).elementsEqual(suffix)
    }

    /// The routes of every rule and match of `route` for one hostname.
    static func add(
        _ route: RouteSource, rules: [ResolvedRule], hostname: String, listenerPort: Int,
        policies: [TrafficPolicyTranslation.RouteShare?]
    ) -> [Route] {
        var routes: [Route] = []
        for (index, ((rule, resolved), policy)) in zip(zip(route.rules, rules), policies).enumerated()
        where resolved.rejection?.dropsRule != true {
            for match in rule.matches {
                var ir = Route(
                    name: joined(resolved.clusterName, "/match/", String(match.index), "/", underscored(hostname)),
                    path: match.path, headers: match.headers, queryParams: match.queryParams, method: match.method,
                    action: resolved.cluster == nil
                        ? .directResponse(status: resolved.unavailableStatus) : .forward(cluster: resolved.clusterName))
                ir.allowsWebSocket = route.upstreamProtocol == .http1
                ir.metadata = route.metadata(rule: index)
                // A rule whose filters are refused answers 500, redirect or not (Envoy Gateway's rule).
                if resolved.rejection == nil { resolved.filters.apply(to: &ir, listenerPort: listenerPort) }
                RouteTraffic.apply(timeouts: rule.timeouts, retry: rule.retry, to: &ir)
                policy?.apply(to: &ir)
                routes.append(ir)
            }
        }
        return routes
    }

    /// `parts` one after another, in a string of their length: an interpolation keeps the
    /// capacity its buffer grew to, up to twice the length, and the memo keeps a name for every
    /// cluster and route (2.9 MB of route names at 10000 routes, about half of it spare).
    static func joined(_ parts: String...) -> String {
        var result = ""
        result.reserveCapacity(parts.reduce(0) { $0 + $1.utf8.count })
        for part in parts { result += part }
        return result
    }

    static func underscored(_ hostname: String) -> String {
        hostname.split(separator: ".", omittingEmptySubsequences: false).joined(separator: "_")
    }
}
