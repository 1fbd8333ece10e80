import GatewayAPI
import GatewayIR

/// The operator's resources → one `GatewayConfig` per Gateway: listeners, virtual hosts, routes in
/// precedence order, and a cluster per route rule. Pure: no files, no clocks.
///
/// Names follow Envoy Gateway's (mapping doc §5.1) so its users' dashboards carry over.
public enum GatewayTranslator {
    /// Envoy runs unprivileged: a Gateway port below 1024 becomes this much higher, as in Envoy Gateway.
    public static let privilegedPortOffset = 10000

    public static func translate(_ resources: ResourceSet) -> [GatewayConfig] {
        let backends = BackendIndex(resources)
        return resources.gateways.sorted { ($0.namespace, $0.name) < ($1.namespace, $1.name) }.map { gateway in
            translate(gateway, routes: resources.httpRoutes, backends: backends)
        }
    }

    public static func envoyPort(_ port: Int) -> Int {
        port < 1024 ? port + privilegedPortOffset : port
    }

    static func translate(_ gateway: Gateway, routes: [HTTPRoute], backends: BackendIndex) -> GatewayConfig {
        var config = GatewayConfig(key: "\(gateway.namespace)/\(gateway.name)")
        var clusterNames = Set<String>()
        let sortedRoutes = routes.sorted { ($0.namespace, $0.name) < ($1.namespace, $1.name) }

        // Listeners on one port share one Envoy listener, named after the first (Envoy Gateway's rule).
        var byPort: [Int: HTTPListener] = [:]
        var portOrder: [Int] = []
        for listener in gateway.listeners where listener.protocol == .http {
            let port = envoyPort(listener.port)
            let listenerName = "\(gateway.namespace)/\(gateway.name)/\(listener.name)"
            if byPort[port] == nil {
                byPort[port] = HTTPListener(name: listenerName, port: port)
                portOrder.append(port)
            }
            for route in sortedRoutes where attaches(route, to: gateway, listener: listener) {
                for hostname in hostnames(listener: listener.hostname, route: route.hostnames) {
                    let routeNames = add(route, hostname: hostname, backends: backends, clusters: &config.clusters, known: &clusterNames)
                    let hostName = "\(byPort[port]!.name)/\(underscored(hostname))"
                    if let index = byPort[port]!.virtualHosts.firstIndex(where: { $0.domains == [hostname] }) {
                        byPort[port]!.virtualHosts[index].routes += routeNames
                    } else {
                        byPort[port]!.virtualHosts.append(VirtualHost(name: hostName, domains: [hostname], routes: routeNames))
                    }
                }
            }
        }
        config.listeners = portOrder.map { port in
            var listener = byPort[port]!
            listener.virtualHosts.sort { $0.name < $1.name }
            for index in listener.virtualHosts.indices {
                listener.virtualHosts[index].routes = RoutePrecedence.sorted(listener.virtualHosts[index].routes)
            }
            return listener
        }
        return config
    }

    /// Whether `route` names this Gateway (and this listener, by section name or port) and the
    /// listener allows routes from the route's namespace.
    static func attaches(_ route: HTTPRoute, to gateway: Gateway, listener: Gateway.Listener) -> Bool {
        let allowed =
            switch listener.allowedNamespaces {
            case "All": true
            case "Same": route.namespace == gateway.namespace
            default: false  // Selector needs Namespace objects, which files do not carry yet.
            }
        return allowed
            && route.parentRefs.contains { ref in
                ref.namespace == gateway.namespace && ref.name == gateway.name
                    && (ref.sectionName == nil || ref.sectionName == listener.name)
                    && (ref.port == nil || ref.port == listener.port)
            }
    }

    /// The hostnames a route serves on a listener: the intersection of both, with `*.` wildcards
    /// as Gateway API defines them; `*` when neither names any.
    static func hostnames(listener: String?, route: [String]) -> [String] {
        guard let listener else { return route.isEmpty ? ["*"] : route }
        if route.isEmpty { return [listener] }
        return route.compactMap { hostname in
            if hostname == listener { return hostname }
            if listener.hasPrefix("*."), hostname.hasSuffix(listener.dropFirst()) { return hostname }
            if hostname.hasPrefix("*."), listener.hasSuffix(hostname.dropFirst()) { return listener }
            return nil
        }
    }

    /// The routes of every rule and match of `route` for one hostname, adding each rule's cluster once.
    static func add(
        _ route: HTTPRoute, hostname: String, backends: BackendIndex, clusters: inout [BackendCluster],
        known: inout Set<String>
    ) -> [Route] {
        var routes: [Route] = []
        for (ruleIndex, rule) in route.rules.enumerated() {
            let clusterName = "httproute/\(route.namespace)/\(route.name)/rule/\(ruleIndex)"
            let cluster = backends.cluster(named: clusterName, for: rule.backendRefs)
            if let cluster, known.insert(clusterName).inserted { clusters.append(cluster) }
            let filters = RouteFilters(rule.filters)
            for (matchIndex, match) in rule.matches.enumerated() {
                var route = Route(
                        name: "\(clusterName)/match/\(matchIndex)/\(underscored(hostname))",
                        path: pathMatch(match.path),
                        headers: match.headers.map { Route.ValueMatch(name: $0.name, value: $0.value, regularExpression: $0.kind == .regularExpression) },
                        queryParams: match.queryParams.map {
                            Route.ValueMatch(name: $0.name, value: $0.value, regularExpression: $0.kind == .regularExpression)
                        },
                        method: match.method,
                        action: cluster == nil ? .directResponse(status: 500) : .forward(cluster: clusterName))
                filters.apply(to: &route)
                routes.append(route)
            }
        }
        return routes
    }

    static func pathMatch(_ path: HTTPRoute.PathMatch) -> Route.PathMatch {
        switch path.kind {
        case .exact: .exact(path.value)
        case .pathPrefix: .prefix(path.value)
        case .regularExpression: .regularExpression(path.value)
        }
    }

    static func underscored(_ hostname: String) -> String {
        hostname.replacingOccurrences(of: ".", with: "_")
    }
}

extension String {
    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: Character(target), omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
