import FoundationEssentials
import GatewayAPI

/// Each listener of a Gateway as Envoy Gateway judges it before routes attach: the route kinds
/// it takes, its conditions, and whether it is programmed (served to Envoy). A listener that is
/// not programmed still takes routes (they count in `attachedRoutes` and are accepted), but
/// Envoy gets nothing for it, as in Envoy Gateway.
struct ListenerAssessment: Equatable {
    var supportedKinds: [RouteGroupKind]
    var conditions: [Condition]
    /// What its `tls` resolved to (certificates for HTTPS).
    var tls = ListenerTLS()
    /// A certificate overlaps another listener's on the port: offer HTTP/1.1 only.
    var tlsOverlaps = false
    var programmed: Bool { conditions.contains { $0.is(.programmed) && $0.isTrue } }
}

enum ListenerValidation {
    /// The route kinds a listener takes, in Envoy Gateway's order: a TLS listener that passes
    /// TLS through takes only TLSRoutes; one that terminates it takes TCPRoutes too.
    static func routeKinds(for listener: Gateway.Listener) -> [String] {
        switch listener.protocol {
        case .http, .https: httpKinds
        case .tls: listener.tls?.mode == .passthrough ? ["TLSRoute"] : ["TCPRoute", "TLSRoute"]
        case .tcp: ["TCPRoute"]
        case .udp: ["UDPRoute"]
        }
    }

    private static let httpKinds = ["HTTPRoute", "GRPCRoute"]

    /// Whether `listener` takes routes of `kind`: what `allowedKinds` lists, without building
    /// the list (this runs for every route and listener).
    static func takes(_ listener: Gateway.Listener, kind: String) -> Bool {
        guard routeKinds(for: listener).contains(kind) else { return false }
        guard let requested = listener.kinds, !requested.isEmpty else { return true }
        return requested.contains {
            ($0.group ?? RouteGroupKind.gatewayAPIGroup) == RouteGroupKind.gatewayAPIGroup && $0.kind == kind
        }
    }

    /// Every listener of `gateway`, by name. `now` judges certificate validity (nil: not judged).
    static func assess(_ gateway: Gateway, resources: ResourceSet, now: Date?) -> [String: ListenerAssessment] {
        let tls = Dictionary(
            gateway.listeners.map {
                ($0.name, ListenerTLS.assess($0, gateway: gateway, resources: resources, now: now))
            },
            uniquingKeysWith: { first, _ in first })
        let conflicts = self.conflicts(gateway, excluding: Set(tls.filter { !$0.value.isValid }.keys))
        var result: [String: ListenerAssessment] = [:]
        for listener in gateway.listeners {
            let (kinds, kindProblem) = allowedKinds(listener)
            var conditions: [Condition] = []
            if let conflict = conflicts[listener.name] { conditions.append(conflict) }
            if let kindProblem { conditions.append(.unresolvedRefs("InvalidRouteKinds", kindProblem)) }
            let listenerTLS = tls[listener.name] ?? ListenerTLS()
            conditions += listenerTLS.conditions
            if [.tcp, .udp].contains(listener.protocol) && listener.hostname != nil {
                conditions.append(
                    .notProgrammed(
                        "Listener must not have hostname set when protocol is \(listener.protocol.rawValue)."))
            }
            let onlyRefs = conditions.count == 1 && conditions[0].is(.resolvedRefs)
            if onlyRefs && conditions[0].reason == ListenerTLS.partiallyInvalid {
                // Served with the certificates that are valid.
                conditions += [
                    .accepted("Listener has been successfully translated"),
                    .programmed("Sending translated listener configuration to the data plane"),
                ]
            } else if onlyRefs && conditions[0].reason == "InvalidCertificateRef" {
                // Well formed, but with no certificate it cannot serve.
                conditions += [
                    .accepted("Listener has been successfully translated"),
                    .notProgrammed("Listener is invalid, see other Conditions for details."),
                ]
            } else if conditions.isEmpty {
                conditions = [
                    .programmed("Sending translated listener configuration to the data plane"),
                    .accepted("Listener has been successfully translated"),
                    .resolvedRefs("Listener references have been resolved"),
                ]
            } else {
                // Envoy Gateway's rule: any problem leaves the listener unprogrammed, and
                // references count as resolved unless a condition says otherwise.
                if !conditions.contains(where: { $0.is(.programmed) }) {
                    conditions.append(.notProgrammed("Listener is invalid, see other Conditions for details."))
                }
                if !conditions.contains(where: { $0.is(.resolvedRefs) }) {
                    conditions.append(.resolvedRefs("Listener references have been resolved"))
                }
            }
            result[listener.name] = ListenerAssessment(supportedKinds: kinds, conditions: conditions, tls: listenerTLS)
        }
        noteOverlaps(gateway, &result)
        return result
    }

    /// HTTPS listeners on one port whose hostnames, or certificates' names, overlap: each gets
    /// `OverlappingTLSConfig` naming the first other listener it overlaps, and overlapping
    /// certificates also limit ALPN to HTTP/1.1, since a browser would reuse an HTTP/2
    /// connection for a name the other certificate covers (Gateway API GEP-3567).
    static func noteOverlaps(_ gateway: Gateway, _ result: inout [String: ListenerAssessment]) {
        let https = gateway.listeners.filter { $0.protocol == .https }
        func valid(_ listener: Gateway.Listener) -> Bool {
            !(result[listener.name]?.conditions.contains { condition in
                !condition.isTrue
                    && (condition.is(.programmed) || condition.is(.accepted) || condition.is(.resolvedRefs))
                    && condition.reason != ListenerTLS.partiallyInvalid
            } ?? true)
        }
        // Hostnames first, then certificates, whose condition replaces it (the spec's preference).
        for check in [false, true] {
            var found: [String: (other: String, mine: String, theirs: String)] = [:]
            for (i, a) in https.enumerated() where found[a.name] == nil && valid(a) {
                for b in https[(i + 1)...] where found[b.name] == nil && valid(b) && a.port == b.port {
                    if check {
                        let names = (result[a.name]?.tls.domains ?? [], result[b.name]?.tls.domains ?? [])
                        guard
                            let pair = names.0.lazy.compactMap({ x in
                                names.1.first(where: { overlapping(x, $0) }).map { (x, $0) }
                            }).first
                        else { continue }
                        found[a.name] = (b.name, pair.0, pair.1)
                        found[b.name] = (a.name, pair.1, pair.0)
                    } else if overlapping(a.hostname, b.hostname) {
                        found[a.name] = (b.name, a.hostname ?? "", b.hostname ?? "")
                        found[b.name] = (a.name, b.hostname ?? "", a.hostname ?? "")
                    }
                }
            }
            for (name, overlap) in found {
                let condition =
                    check
                    ? Condition(
                        .overlappingTLSConfig, true, reason: "OverlappingCertificates",
                        "The certificate SAN \(overlap.mine) overlaps with the certificate SAN \(overlap.theirs) in"
                            + " listener \(overlap.other). ALPN will default to HTTP/1.1 to prevent HTTP/2 connection"
                            + " coalescing, unless explicitly configured via ClientTrafficPolicy")
                    : Condition(
                        .overlappingTLSConfig, true, reason: "OverlappingHostnames",
                        "The hostname \(overlap.mine) overlaps with the hostname \(overlap.theirs) in listener"
                            + " \(overlap.other).")
                result[name]?.conditions.removeAll { $0.is(.overlappingTLSConfig) }
                result[name]?.conditions.append(condition)
                if check { result[name]?.tlsOverlaps = true }
            }
        }
    }

    /// Whether two hostnames (nil: any) can name the same host; `*.` covers one label.
    static func overlapping(_ a: String?, _ b: String?) -> Bool {
        guard let a, let b else { return true }
        func covers(_ this: String, _ other: String) -> Bool {
            if other.hasPrefix("*") && other.count > 1 && !(this.hasPrefix("*") && this.count > 1) {
                let suffix = other.dropFirst()
                return this.hasSuffix(suffix) && !this.dropLast(suffix.count).contains(".")
            }
            return this == other
        }
        return covers(a, b) || covers(b, a)
    }

    /// The kinds a listener takes, and the message for the last kind it cannot take, if any
    /// (Envoy Gateway keeps the last).
    static func allowedKinds(_ listener: Gateway.Listener) -> ([RouteGroupKind], String?) {
        let kinds = routeKinds(for: listener)
        guard let requested = listener.kinds, !requested.isEmpty else {
            return (kinds.map { RouteGroupKind(group: RouteGroupKind.gatewayAPIGroup, kind: $0) }, nil)
        }
        var supported: [RouteGroupKind] = []
        var problem: String?
        var unsupported: [RouteGroupKind] = []
        for entry in requested {
            if let group = entry.group, group != RouteGroupKind.gatewayAPIGroup {
                problem = "Group is not supported, group must be \(RouteGroupKind.gatewayAPIGroup)"
            } else if kinds.contains(entry.kind) {
                supported.append(entry)
            } else {
                unsupported.append(entry)
            }
        }
        // The message lists the kinds asked for that are supported, else all the protocol takes.
        let listed = supported.isEmpty ? kinds : supported.map(\.kind)
        if let last = unsupported.last {
            problem = "\(last.kind) is not supported, kind must be one of [\(listed.joined(separator: " "))]"
        }
        return (supported, problem)
    }

    /// Listeners that share a port but cannot: incompatible protocols (HTTPS and TLS go together,
    /// UDP goes with anything), else the same hostname. Every listener involved is conflicted;
    /// among one Gateway's own listeners there is no winner. Listeners whose allowed kinds or
    /// TLS are invalid take no part, as in Envoy Gateway.
    static func conflicts(_ gateway: Gateway, excluding invalid: Set<String> = []) -> [String: Condition] {
        let prefix = "\(gateway.namespace)/\(gateway.name)/"
        let candidates = gateway.listeners.filter {
            allowedKinds($0).1 == nil && $0.protocol != .udp && !invalid.contains($0.name)
        }
        var result: [String: Condition] = [:]
        for port in Set(candidates.map(\.port)) {
            let onPort = candidates.filter { $0.port == port }
            let classes = Set(onPort.map { [.https, .tls].contains($0.protocol) ? "https/tls" : $0.protocol.rawValue })
            if classes.count > 1 {
                let names = onPort.map { prefix + $0.name }.sorted().joined(separator: ", ")
                for listener in onPort {
                    result[listener.name] = Condition(
                        .conflicted, true, reason: "ProtocolConflict",
                        "All listeners for a given port must use a compatible protocol, conflicting listeners: \(names)"
                    )
                }
                continue
            }
            let layer7 = onPort.filter { $0.protocol != .tcp }
            for hostname in Set(layer7.map { $0.hostname ?? "" }) {
                let same = layer7.filter { ($0.hostname ?? "") == hostname }
                guard same.count > 1 else { continue }
                let names = same.map { prefix + $0.name }.sorted().joined(separator: ", ")
                for listener in same {
                    result[listener.name] = Condition(
                        .conflicted, true, reason: "HostnameConflict",
                        "All listeners for a given port must use a unique hostname, conflicting listeners: \(names)")
                }
            }
            // Two TCP listeners on one port: the first stays (Envoy Gateway's rule; UDP below).
            for listener in onPort.filter({ $0.protocol == .tcp }).dropFirst() where result[listener.name] == nil {
                result[listener.name] = Condition(
                    .conflicted, true, reason: "ProtocolConflict", "Only one TCP listener is allowed in a given port")
            }
        }
        for port in Set(gateway.listeners.filter { $0.protocol == .udp }.map(\.port)) {
            for listener in gateway.listeners.filter({ $0.protocol == .udp && $0.port == port }).dropFirst() {
                result[listener.name] = Condition(
                    .conflicted, true, reason: "ProtocolConflict", "Only one UDP listener is allowed in a given port")
            }
        }
        return result
    }
}
