import GatewayAPI
import GatewayIR

/// TLSRoutes, TCPRoutes and UDPRoutes on TLS, TCP and UDP listeners, as Envoy Gateway
/// translates them: a route attaches as an HTTPRoute does (parentRefs, allowed kinds and
/// namespaces, and for TLSRoutes SNI hostnames), and all its backendRefs make one cluster,
/// `<kind>/<ns>/<name>/rule/-1`, since nothing in a connection chooses between rules. A TCPRoute
/// or UDPRoute has exactly one rule.
extension RouteSource {
    init(_ route: Layer4Route) {
        kind = route.kind.rawValue
        namespace = route.namespace
        name = route.name
        parentRefs = route.parentRefs
        hostnames = route.hostnames
        upstreamProtocol = route.kind == .udp ? .udp : .tcp
        location = route.location
        rules = [
            Rule(
                name: nil, matches: [], backendRefs: route.rules.flatMap(\.backendRefs), filters: [], timeouts: nil,
                retry: nil)
        ]
    }
}

extension GatewayTranslator {
    /// A layer-4 route with its one cluster resolved, or the reason it is refused whole.
    struct Layer4Rule {
        var route: RouteSource
        var resolved: ResolvedRule
        /// Set when the route is refused whole (a TCPRoute or UDPRoute without exactly one rule).
        var invalid: Condition?
    }

    static func resolveLayer4(_ routes: [Layer4Route], backends: BackendIndex) -> [Layer4Rule] {
        routes.sorted { ($0.namespace, $0.name, $0.kind.rawValue) < ($1.namespace, $1.name, $1.kind.rawValue) }
            .map { route in
                let source = RouteSource(route)
                let name = "\(source.namePrefix)/rule/-1"
                let resolution = backends.cluster(
                    named: name, for: source.rules[0].backendRefs, route: source, rule: -1)
                var rule = Layer4Rule(
                    route: source,
                    resolved: ResolvedRule(
                        clusterName: name, cluster: resolution.cluster, problems: resolution.problems,
                        filters: RouteFilters([]), rejection: nil, tlsPolicies: resolution.tlsPolicies))
                if route.kind != .tls && route.rules.count != 1 {
                    rule.invalid = .notAccepted("InvalidRule", "One and only one rule is supported")
                }
                return rule
            }
    }

    /// Each route's status; a route refused whole has only that condition on each parent.
    static func layer4Status(
        _ rule: Layer4Rule, gateways: [Gateway], namespaces: NamespaceLabels, attached: inout [String: Int]
    ) -> RouteStatus {
        var (status, attachedTo) = routeStatus(
            rule.route, rules: [rule.resolved], gateways: gateways, namespaces: namespaces)
        guard let invalid = rule.invalid else {
            for listener in attachedTo { attached[listener, default: 0] += 1 }
            return status
        }
        for index in status.parents.indices { status.parents[index].conditions = [invalid] }
        return status
    }

    /// The TLS, TCP and UDP listeners of `gateway` that are programmed, with the routes attached.
    /// A BackendTrafficPolicy on a route (or its listener or Gateway) sets its cluster; an invalid
    /// one leaves the route out, so its connections are refused rather than half-configured.
    static func addLayer4(
        _ gateway: Gateway, listeners: [String: ListenerAssessment], routes: [Layer4Rule], policies: PolicyAttachment,
        namespaces: NamespaceLabels, accessLogPath: String?, to config: inout GatewayConfig
    ) {
        for listener in gateway.listeners
        where [.tls, .tcp, .udp].contains(listener.protocol) && listeners[listener.name]?.programmed == true {
            let name = "\(gateway.namespace)/\(gateway.name)/\(listener.name)"
            // Each route with the policy that governs it on this listener, looked up once.
            let attached = routes.compactMap { rule -> (Layer4Rule, TrafficSettings?)? in
                guard rule.invalid == nil, attaches(rule.route, to: gateway, listener: listener, namespaces: namespaces)
                else { return nil }
                let effective = policies.effective(
                    route: rule.route, ruleName: nil, gateway: gateway, listener: listener.name)
                return effective?.problems.isEmpty == false ? nil : (rule, effective?.settings)
            }
            for (rule, settings) in attached {
                guard var cluster = rule.resolved.cluster, !config.clusters.contains(where: { $0.name == cluster.name })
                else { continue }
                cluster.metadata = ResourceMetadata(
                    kind: rule.route.kind, name: rule.route.name, namespace: rule.route.namespace)
                if let settings {
                    cluster.policy = TrafficPolicyTranslation.clusterPolicy(
                        settings,
                        hostname: hostnames(listener: listener.hostname, route: rule.route.hostnames).first ?? "*")
                }
                config.clusters.append(cluster)
            }
            if listener.protocol == .udp {
                var udp = UDPListener(name: name, port: envoyPort(listener.port))
                udp.cluster = attached.first { $0.0.resolved.cluster != nil }?.0.resolved.clusterName
                udp.accessLogPath = accessLogPath
                config.udpListeners.append(udp)
                continue
            }
            let mode: TCPListener.Mode =
                listener.protocol == .tcp ? .tcp : listener.tls?.mode == .passthrough ? .tlsPassthrough : .tlsTerminate
            var tcp = TCPListener(name: name, port: envoyPort(listener.port), mode: mode)
            tcp.accessLogPath = accessLogPath
            if mode == .tlsTerminate, let assessment = listeners[listener.name] {
                // Programmed means it has a certificate; without one Envoy would refuse the listener.
                guard !assessment.tls.secrets.isEmpty else { continue }
                tcp.certificates = assessment.tls.secrets.map(\.name)
                for secret in assessment.tls.secrets where !config.secrets.contains(where: { $0.name == secret.name }) {
                    config.secrets.append(secret)
                }
            }
            for (rule, settings) in attached where rule.resolved.cluster != nil {
                var route = TCPRoute(name: rule.route.namePrefix, cluster: rule.resolved.clusterName)
                if rule.route.kind == Layer4Route.Kind.tls.rawValue {
                    route.serverNames = hostnames(listener: listener.hostname, route: rule.route.hostnames)
                        .filter { $0 != "*" }
                }
                route.metadata = ResourceMetadata(
                    kind: rule.route.kind, name: rule.route.name, namespace: rule.route.namespace)
                let balancer = settings?.loadBalancer
                if balancer?.type == .consistentHash, case .sourceIP = balancer?.hashKey { route.hashesSourceIP = true }
                tcp.routes.append(route)
            }
            config.tcpListeners.append(tcp)
        }
    }
}
