import GatewayIR
import GatewayTranslator

extension Explainer {
    /// Where `request` goes on each Gateway (or on `gateway`) with a listener for it, and what
    /// applies there. Throws, saying where matching stopped, when it reaches no route anywhere.
    public func explain(_ request: ExplainRequest, gateway: String? = nil) throws(ExplainError) -> [Explanation] {
        if let gateway, !configs.contains(where: { $0.key == gateway }) {
            throw .noGateway(gateway, known: configs.map(\.key).sorted())
        }
        var explanations: [Explanation] = []
        var misses: [String] = []
        var ports: [String] = []
        for config in configs.sorted(by: { $0.key < $1.key }) where gateway == nil || config.key == gateway {
            for listener in config.listeners {
                // Envoy binds ports below 1024 higher (it runs unprivileged): name the Gateway's.
                let offset = GatewayTranslator.privilegedPortOffset
                let gatewayPort =
                    (offset..<offset + 1024).contains(listener.port) ? listener.port - offset : listener.port
                ports.append(
                    "\(listener.name) (\(listener.tls == nil ? "http" : "https"), port \(gatewayPort)"
                        + (gatewayPort == listener.port ? ")" : ", which Envoy binds as \(listener.port))"))
                guard RequestMatcher.listens(listener, on: request.port, scheme: request.scheme) else { continue }
                guard let host = RequestMatcher.virtualHost(of: listener, for: request.host) else {
                    let domains = listener.virtualHosts.flatMap(\.domains)
                    misses.append(
                        "listener \(listener.name) has no virtual host for \(request.host) (its domains: \(domains.joined(separator: ", ")))"
                    )
                    continue
                }
                guard let route = host.routes.first(where: { RequestMatcher.matches($0, request) }) else {
                    misses.append(
                        "no route of virtual host \(host.name) matches the path, method, headers and query parameters (\(host.routes.count) route\(host.routes.count == 1 ? "" : "s"); Envoy answers 404)"
                    )
                    continue
                }
                guard let (reference, index) = Self.rule(of: route) else { continue }
                let match = Explanation.RequestMatch(
                    request: request.description, listener: listener.name, virtualHost: host.name, route: route.name)
                if let explanation = explanation(
                    reference, ruleIndex: index, config: config, listener: listener,
                    section: host.metadata?.sectionName ?? listener.name, places: [(host, route)], request: match)
                {
                    explanations.append(explanation)
                }
            }
        }
        guard explanations.isEmpty else { return explanations }
        if misses.isEmpty {
            throw .noMatch(
                request.description,
                why: "no \(request.scheme) listener on port \(request.port); the listeners: "
                    + (ports.isEmpty ? "none" : ports.joined(separator: ", ")))
        }
        throw .noMatch(request.description, why: misses.joined(separator: "; "))
    }

    /// The route and rule an Envoy route came from, by its name
    /// (`<kind>/<ns>/<name>/rule/<i>/match/<j>/<host>`).
    static func rule(of route: Route) -> (RuleReference, Int)? {
        let parts = route.name.split(separator: "/").map(String.init)
        guard parts.count >= 5, parts[3] == "rule", let index = Int(parts[4]) else { return nil }
        let kind = route.metadata?.kind ?? (parts[0] == "grpcroute" ? "GRPCRoute" : "HTTPRoute")
        return (RuleReference(kind: kind, namespace: parts[1], name: parts[2], rule: index), index)
    }
}
