import GatewayAPI
import GatewayIR

/// The conditions Envoy Gateway writes on routes, listeners and Gateways, with its reasons and
/// messages, so that tooling reading them carries over.
extension GatewayTranslator {
    /// One parent status per parentRef: Accepted (or why not) and ResolvedRefs (or which
    /// backendRefs did not resolve); with the listeners the route attaches to
    /// (`<gw-ns>/<gw>/<listener>`), which count it among their attached routes.
    static func routeStatus(
        _ route: RouteSource, rules: [ResolvedRule], gateways: [Gateway], namespaces: NamespaceLabels
    ) -> (status: RouteStatus, attachedTo: [String]) {
        var attachedTo: [String] = []
        // A Service without ready endpoints is no broken reference: BackendsAvailable says it.
        var problems = rules.flatMap(\.problems)
        let unavailable = problems.filter(\.isUnavailable)
        problems.removeAll(where: \.isUnavailable)
        let resolvedRefs: Condition =
            problems.isEmpty
            ? .resolvedRefs("Resolved all the Object references for the Route")
            : .unresolvedRefs(problems[0].reason, problems.map { $0.message + "." }.joined(separator: "\n"))
        let backendsAvailable: Condition? =
            unavailable.isEmpty
            ? nil
            : Condition(
                .backendsAvailable, false, reason: BackendIndex.Problem.endpointsNotFound,
                unavailable.map { $0.message + "." }.joined(separator: "\n"))

        let rejected = rules.enumerated().filter { $0.element.rejection != nil }
        let ruleMessage = rejected.flatMap { $0.element.rejection!.messages }.map(conditionMessage)
            .joined(separator: "\n")

        let parents = route.parentRefs.map { ref in
            var accepted: Condition
            var partiallyInvalid: Condition?
            if !ref.isGateway {
                // Envoy Gateway serves ListenerSets, which Switchboard does not read yet.
                accepted = .notAccepted(
                    "NoMatchingParent",
                    "Only Gateway parents are supported, not \(ref.written.group ?? "gateway.networking.k8s.io")/\(ref.written.kind ?? "Gateway")"
                )
            } else if let gateway = gateways.first(where: { $0.namespace == ref.namespace && $0.name == ref.name }) {
                let named = gateway.listeners.filter { selects(ref, $0) }
                let allowing = named.filter { allows($0, route, gateway: gateway, namespaces: namespaces) }
                let hosting = allowing.filter { !hostnames(listener: $0.hostname, route: route.hostnames).isEmpty }
                if named.isEmpty {
                    accepted = .notAccepted("NoMatchingParent", "No listeners match this parent ref")
                } else if allowing.isEmpty {
                    accepted = .notAccepted(
                        "NotAllowedByListeners", "No listeners included by this parent ref allowed this attachment.")
                } else if hosting.isEmpty {
                    accepted = .notAccepted(
                        "NoMatchingListenerHostname",
                        "There were no hostname intersections between the \(route.kind) and this parent ref's Listener(s)."
                    )
                } else {
                    accepted = .accepted("Route is accepted")
                    if !rejected.isEmpty && rejected.count == rules.count {
                        accepted = .notAccepted("UnsupportedValue", ruleMessage)
                    } else if !rejected.isEmpty {
                        // Go's %v of the rule indices, as Envoy Gateway prints them.
                        let indices = rejected.map { String($0.offset) }.joined(separator: " ")
                        partiallyInvalid = Condition(
                            .partiallyInvalid, true, reason: "UnsupportedValue",
                            "Dropped Rule(s) [\(indices)]: \(ruleMessage)")
                    }
                    for listener in hosting {
                        attachedTo.append("\(gateway.namespace)/\(gateway.name)/\(listener.name)")
                    }
                }
            } else {
                // Envoy Gateway leaves a parent it does not know without status; in files that is
                // almost always a typo, so say so.
                accepted = .notAccepted("NoMatchingParent", "Gateway \(ref.namespace)/\(ref.name) not found")
            }
            return RouteStatus.Parent(
                parentRef: RouteStatus.ParentRef(
                    group: ref.written.group, kind: ref.written.kind, namespace: ref.written.namespace, name: ref.name,
                    sectionName: ref.sectionName, port: ref.port, gatewayNamespace: ref.namespace),
                controllerName: controllerName,
                conditions: [accepted, resolvedRefs] + [partiallyInvalid, backendsAvailable].compactMap { $0 })
        }
        let status = RouteStatus(
            kind: route.kind, namespace: route.namespace, name: route.name, parents: parents, location: route.location)
        return (status, attachedTo)
    }

    static func gatewayStatus(
        _ gateway: Gateway, listeners assessed: [String: ListenerAssessment], attached: [String: Int]
    ) -> GatewayStatus {
        let listeners = gateway.listeners.map { listener in
            let assessment = assessed[listener.name]!
            return ListenerStatus(
                name: listener.name,
                attachedRoutes: attached["\(gateway.namespace)/\(gateway.name)/\(listener.name)"] ?? 0,
                supportedKinds: assessment.supportedKinds, conditions: assessment.conditions)
        }
        let invalid = listeners.filter { !$0.conditions.contains { $0.is(.accepted) && $0.isTrue } }.map(\.name)
            .sorted()
        let accepted: Condition =
            if invalid.isEmpty {
                .accepted("The Gateway has been scheduled by Switchboard")
            } else if invalid.count < listeners.count {
                Condition(
                    .accepted, true, reason: "ListenersNotValid",
                    "Listeners not valid: \(invalid.joined(separator: ", "))")
            } else {
                .notAccepted("ListenersNotValid", "No listeners are valid: \(invalid.joined(separator: ", "))")
            }
        let programmed: Condition =
            invalid.count < listeners.count
            ? .programmed("Served over xDS to Envoys whose node.cluster is \(gateway.namespace)/\(gateway.name)")
            : .notProgrammed("The Gateway has no valid listener")
        return GatewayStatus(
            namespace: gateway.namespace, name: gateway.name, conditions: [accepted, programmed], listeners: listeners,
            location: gateway.location)
    }
}
