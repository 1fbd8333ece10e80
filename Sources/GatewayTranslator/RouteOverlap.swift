import GatewayAPI
import GatewayIR

/// Envoy Gateway's `RouteRulesOverlap` warning: two routes whose matches are the same (same
/// host, path, headers and query parameters, in any order) on one listener compete for the same
/// requests, and only precedence decides which wins. Each route's parent says with which.
extension GatewayTranslator {
    static func noteOverlaps(
        _ configs: [GatewayConfig], in status: inout StatusReport,
        memo: inout [String: (routes: [Route], groups: [Set<String>])]
    ) {
        // Gateway key → route ("HTTPRoute ns/name") → the routes it overlaps.
        var conflicts: [String: [String: Set<String>]] = [:]
        var kept: [String: (routes: [Route], groups: [Set<String>])] = [:]
        for config in configs {
            for listener in config.listeners {
                for host in listener.virtualHosts {
                    // Routes overlap only within a host; a host whose routes are the last
                    // translation's (the same storage, so mostly a pointer check) overlaps as it did.
                    let key = "\(config.key)\u{0}\(host.name)"
                    let groups: [Set<String>]
                    if let last = memo[key], last.routes == host.routes {
                        groups = last.groups
                    } else {
                        groups = overlapping(host)
                    }
                    kept[key] = (host.routes, groups)
                    for routes in groups {
                        for route in routes {
                            conflicts[config.key, default: [:]][route, default: []].formUnion(
                                routes.subtracting([route]))
                        }
                    }
                }
            }
        }
        memo = kept
        guard !conflicts.isEmpty else { return }
        func mark(_ routes: inout [RouteStatus]) {
            for index in routes.indices {
                let name = "\(routes[index].kind) \(routes[index].namespace)/\(routes[index].name)"
                for parent in routes[index].parents.indices {
                    let ref = routes[index].parents[parent].parentRef
                    guard let others = conflicts["\(ref.gatewayNamespace)/\(ref.name)"]?[name],
                        routes[index].parents[parent].conditions.contains(where: { $0.is(.accepted) && $0.isTrue })
                    else { continue }
                    routes[index].parents[parent].conditions.append(
                        Condition(
                            .routeRulesOverlap, true, reason: "RouteRulesOverlap",
                            "Overlapping match conditions with route(s): \(others.sorted().joined(separator: ", "))"))
                }
            }
        }
        mark(&status.httpRoutes)
        mark(&status.grpcRoutes)
    }

    /// The groups of a host's routes whose matches overlap, each as its routes' sources.
    private static func overlapping(_ host: VirtualHost) -> [Set<String>] {
        let hostname = host.domains.first ?? "*"
        // Routes can only overlap where path and the number of each kind of match are the same:
        // those are counted first, and only routes that share them get the whole key worked out
        // (it builds strings). A canary rule (a header match) beside its route's default rule
        // then costs a hash.
        var places: [Place: Int] = [:]
        places.reserveCapacity(host.routes.count)
        // By index: a loop variable would copy each route.
        for index in host.routes.indices where host.routes[index].metadata != nil {
            places[Place(hostname, host.routes[index]), default: 0] += 1
        }
        var buckets: [MatchKey: Set<String>] = [:]
        for index in host.routes.indices {
            guard let source = host.routes[index].metadata, places[Place(hostname, host.routes[index])]! > 1 else {
                continue
            }
            buckets[MatchKey(host.routes[index], hostname: hostname), default: []].insert(
                "\(source.kind) \(source.namespace)/\(source.name)")
        }
        return buckets.values.filter { $0.count > 1 }
    }

    /// Where a route matches, roughly: its host, its path and how many headers (a method counts
    /// as `:method`, as in `MatchKey`) and query parameters it matches. Routes that overlap have
    /// the same.
    private struct Place: Hashable {
        var hostname: String
        var path: Route.PathMatch
        var headers: Int
        var queryParams: Int

        init(_ hostname: String, _ route: Route) {
            self.hostname = hostname
            path = route.path
            headers = route.headers.count + (route.method == nil ? 0 : 1)
            queryParams = route.queryParams.count
        }
    }

    /// What a route matches, made comparable: header names without case, lists in any order.
    private struct MatchKey: Hashable {
        var hostname: String
        var path: Route.PathMatch
        var headers: [String]
        var queryParams: [String]

        init(_ route: Route, hostname: String) {
            self.hostname = hostname
            path = route.path
            var headers = route.headers.map { "\($0.name.lowercased()) \($0.kind.rawValue) \($0.value)" }
            if let method = route.method { headers.append(":method exact \(method)") }
            self.headers = headers.sorted()
            queryParams = route.queryParams.map { "\($0.name) \($0.kind.rawValue) \($0.value)" }.sorted()
        }
    }
}
