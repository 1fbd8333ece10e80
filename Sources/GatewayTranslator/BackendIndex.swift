import GatewayAPI
import GatewayIR

/// Resolves backendRefs to endpoints: Envoy Gateway `Backend`s directly, Kubernetes Services
/// through their EndpointSlices (ready endpoints; terminating ones draining). A reference that
/// does not resolve is a route status problem, worded as Envoy Gateway words it.
struct BackendIndex {
    /// Why a backendRef did not resolve: a Gateway API `ResolvedRefs` reason and its message;
    /// or, reason `EndpointsNotFound`, that it resolved to a Service with no ready endpoint,
    /// which Envoy Gateway reports as `BackendsAvailable=False` instead.
    struct Problem: Equatable {
        static let endpointsNotFound = "EndpointsNotFound"

        var reason: String
        var message: String

        var isUnavailable: Bool { reason == Self.endpointsNotFound }
    }

    /// Each Backend's place in `backendList` by `<ns>/<name>` (the last of a name wins): the
    /// memo keeps this index, and copies of ten thousand Backends in it were 3.8 MB.
    private var backends: [String: Int] = [:]
    private let backendList: [Backend]
    /// Each Backend's endpoints as the IR has them, in `backendList`'s order: made once and
    /// shared by every cluster that names the Backend (each rule of a route did its own).
    private let backendEndpoints: [(endpoints: [Endpoint], dns: Bool)]
    private var services: [String: Service] = [:]
    private var slices: [String: [EndpointSlice]] = [:]
    private var grants: [ReferenceGrant] = []
    let tls: BackendTLSIndex

    init(_ resources: ResourceSet) {
        tls = BackendTLSIndex(resources)
        backendList = resources.backends
        backendEndpoints = backendList.map { backend in
            var dns = false
            var endpoints: [Endpoint] = []
            endpoints.reserveCapacity(backend.endpoints.count)
            for (index, endpoint) in backend.endpoints.enumerated() {
                let zone = index < backend.zones.count ? backend.zones[index] : nil
                switch endpoint {
                case .ip(let address, let port): endpoints.append(Endpoint(host: address, port: port, zone: zone))
                case .fqdn(let hostname, let port):
                    dns = true
                    endpoints.append(Endpoint(host: hostname, port: port, zone: zone))
                }
            }
            return (endpoints, dns)
        }
        for (index, backend) in backendList.enumerated() { backends["\(backend.namespace)/\(backend.name)"] = index }
        for service in resources.services { services["\(service.namespace)/\(service.name)"] = service }
        for slice in resources.endpointSlices {
            slices["\(slice.namespace)/\(slice.serviceName)", default: []].append(slice)
        }
        grants = resources.referenceGrants
    }

    /// A rule's backendRefs resolved: the cluster, or nil when none resolves (the route then
    /// answers 500, as Envoy Gateway's does); the problems of the refs that did not resolve; and
    /// the BackendTLSPolicies that apply (`<ns>/<name>`), for their status.
    struct Resolution {
        var cluster: BackendCluster?
        var problems: [Problem]
        var tlsPolicies: Set<String>
    }

    /// A rule's backendRefs resolved. Host names make a DNS cluster.
    func cluster(named name: String, for refs: [BackendReference], route: RouteSource, rule ruleIndex: Int)
        -> Resolution
    {
        var groups: [EndpointGroup] = []
        var problems: [Problem] = []
        var tlsPolicies: Set<String> = []
        var dns = false
        var upstreamProtocol = route.upstreamProtocol
        for (refIndex, ref) in refs.enumerated() {
            let resolved = resolve(ref, route: route)
            guard case .success(let group) = resolved else {
                if case .failure(let problem) = resolved {
                    problems.append(
                        Problem(
                            reason: problem.reason,
                            message:
                                "Failed to process route rule \(ruleIndex) backendRef \(refIndex): \(problem.message)"))
                }
                continue
            }
            // TLS is for connections; a UDPRoute's datagrams go as they are.
            let tls =
                route.upstreamProtocol == .udp
                ? BackendTLSIndex.Outcome()
                : self.tls.outcome(
                    namespace: ref.namespace, group: ref.group, kind: ref.kind, name: ref.name, section: group.section,
                    backend: group.backend)
            if let policy = tls.policy { tlsPolicies.insert(policy) }
            if let problem = tls.problem {
                problems.append(
                    Problem(
                        reason: "InvalidBackendTLS",
                        message: "Failed to process route rule \(ruleIndex) backendRef \(refIndex): \(problem)"))
                continue
            }
            if group.endpoints.isEmpty && ref.kind == "Service" {
                problems.append(
                    Problem(
                        reason: Problem.endpointsNotFound,
                        message:
                            "Failed to find endpoints: no ready endpoints for the related Service \(ref.namespace)/\(ref.name)"
                    ))
                continue
            }
            if group.dns { dns = true }
            if group.http2 && upstreamProtocol == .http1 { upstreamProtocol = .http2 }
            if ref.weight > 0 {
                let section = ref.kind == "Service" ? ref.port.map(String.init) : nil
                var endpoints = EndpointGroup(
                    weight: ref.weight, endpoints: group.endpoints,
                    metadata: ResourceMetadata(
                        kind: ref.kind, name: ref.name, namespace: ref.namespace, sectionName: section))
                endpoints.tls = tls.tls
                groups.append(endpoints)
            }
        }
        guard !groups.isEmpty else { return Resolution(cluster: nil, problems: problems, tlsPolicies: tlsPolicies) }
        var cluster = BackendCluster(
            name: name, discovery: dns ? .dns : .endpoints, upstreamProtocol: upstreamProtocol, groups: groups)
        cluster.metadata = route.metadata(rule: ruleIndex)
        return Resolution(cluster: cluster, problems: problems, tlsPolicies: tlsPolicies)
    }

    private struct ResolvedGroup {
        var endpoints: [Endpoint]
        var dns = false
        var http2 = false
        /// What a BackendTLSPolicy's `sectionName` names: the Service port's name, or the
        /// Backend port's number.
        var section: String?
        var backend: Backend?
    }

    private struct Failure: Error {
        var reason: String
        var message: String
    }

    private func resolve(_ ref: BackendReference, route: RouteSource) -> Result<ResolvedGroup, Failure> {
        let key = "\(ref.namespace)/\(ref.name)"
        guard ["", "gateway.envoyproxy.io"].contains(ref.group) else {
            return .failure(
                Failure(
                    reason: "InvalidKind",
                    message:
                        "group \"\(ref.group)\" is invalid: only the core API group (empty) and gateway.envoyproxy.io are supported"
                ))
        }
        guard ["Service", "Backend"].contains(ref.kind) else {
            return .failure(
                Failure(
                    reason: "InvalidKind",
                    message: "kind \(ref.kind) is invalid: only Service and Envoy Gateway Backend are supported"))
        }
        if ref.namespace != route.namespace {
            let permitted = grants.permit(
                fromGroup: "gateway.networking.k8s.io", fromKind: route.kind, fromNamespace: route.namespace,
                toGroup: ref.group, toKind: ref.kind, toNamespace: ref.namespace, name: ref.name)
            if !permitted {
                return .failure(
                    Failure(
                        reason: "RefNotPermitted",
                        message: "Backend ref to \(ref.kind) \(key) not permitted by any ReferenceGrant"))
            }
        }
        switch ref.kind {
        case "Backend":
            guard let index = backends[key] else {
                return .failure(Failure(reason: "BackendNotFound", message: "Backend \(key) not found"))
            }
            let backend = backendList[index]
            var group = ResolvedGroup(
                endpoints: backendEndpoints[index].endpoints,
                http2: backend.appProtocols.contains("gateway.envoyproxy.io/h2c"), section: ref.port.map(String.init),
                backend: backend)
            group.dns = backendEndpoints[index].dns
            return .success(group)
        default:
            guard let service = services[key] else {
                return .failure(Failure(reason: "BackendNotFound", message: "service \(key) not found"))
            }
            guard let port = ref.port else {
                return .failure(
                    Failure(
                        reason: "PortNotSpecified",
                        message: "A valid port number corresponding to a port on the Service must be specified"))
            }
            guard let servicePort = service.ports.first(where: { $0.port == port }) else {
                return .failure(
                    Failure(reason: "PortNotFound", message: "TCP Port \(port) not found on Service \(key)"))
            }
            var group = ResolvedGroup(
                endpoints: [], http2: ["kubernetes.io/h2c", "grpc"].contains(servicePort.appProtocol ?? ""),
                section: servicePort.name)
            for slice in slices[key, default: []] {
                // A slice's ports are the endpoints' own, named as the Service's ports are.
                let targetPort =
                    slice.ports.first(where: { ($0.name ?? "") == (servicePort.name ?? "") })?.port
                    ?? servicePort.targetPort ?? servicePort.port
                for endpoint in slice.endpoints where endpoint.ready || endpoint.terminating {
                    for address in endpoint.addresses {
                        group.endpoints.append(
                            Endpoint(
                                host: address, port: targetPort, draining: endpoint.terminating, zone: endpoint.zone))
                    }
                }
            }
            return .success(group)
        }
    }
}
