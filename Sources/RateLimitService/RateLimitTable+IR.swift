import GatewayIR

extension RateLimitTable {
    /// The limits of every global rate limit rule in `configs`, as Envoy Gateway gives them to the
    /// rate limit service: per domain (a listener, or a shared rule's policy) a node for the route
    /// (or the shared rule), and under it one chain per rule, whose last node holds the limit. The
    /// keys and values are those the routes' actions send (`GlobalRateLimitFilter`), so every
    /// descriptor Envoy sends finds its rule.
    public init(_ configs: [GatewayConfig]) {
        var domains: [String: [Node]] = [:]
        for config in configs {
            for listener in config.listeners {
                for host in listener.virtualHosts {
                    for route in host.routes {
                        guard let global = route.policy.globalRateLimit else { continue }
                        for rule in global.rules {
                            let domain = rule.shared ? GlobalRateLimit.policyDomain(ofRule: rule.name) : global.domain
                            let top = rule.shared ? rule.name : route.name
                            Self.add(rule, under: top, to: &domains[domain, default: []])
                        }
                    }
                }
            }
        }
        self.init(domains: domains)
    }

    private static func add(_ rule: GlobalRateLimit.Rule, under top: String, to nodes: inout [Node]) {
        // Every method variant has the same keys and values: one chain serves them all.
        guard let entries = rule.descriptors.first, let unit = RateLimit.Unit(rawValue: rule.unit) else { return }
        let limit = RateLimit(requestsPerUnit: rule.requests, unit: unit)
        var chain: Node?
        for entry in entries.reversed() {
            var node = Node(key: entry.key, value: entry.value, shadowMode: rule.shadowMode, children: [])
            if let below = chain {
                node.children = [below]
            } else {
                node.limit = limit
                node.headersOff = rule.headersOff
            }
            chain = node
        }
        guard let chain else { return }
        let index =
            nodes.firstIndex { $0.key == top && $0.value == top }
            ?? {
                nodes.append(Node(key: top, value: top))
                return nodes.count - 1
            }()
        // The same chain twice (a route on two hostnames) is one.
        if !nodes[index].children.contains(where: { $0.sameShape(as: chain) }) { nodes[index].children.append(chain) }
    }
}

extension RateLimitTable.Node {
    /// Same keys and values all the way down; limits aside, as Envoy Gateway compares them.
    func sameShape(as other: Self) -> Bool {
        key == other.key && value == other.value && children.count == other.children.count
            && zip(children, other.children).allSatisfy { $0.sameShape(as: $1) }
    }
}
