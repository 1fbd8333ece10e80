import GatewayAPI
import GatewayIR

/// Resolves backendRefs to endpoints: Envoy Gateway `Backend`s directly, Kubernetes Services
/// through their EndpointSlices (ready endpoints; terminating ones draining).
struct BackendIndex {
    private var backends: [String: Backend] = [:]
    private var services: [String: Service] = [:]
    private var slices: [String: [EndpointSlice]] = [:]

    init(_ resources: ResourceSet) {
        for backend in resources.backends { backends["\(backend.namespace)/\(backend.name)"] = backend }
        for service in resources.services { services["\(service.namespace)/\(service.name)"] = service }
        for slice in resources.endpointSlices { slices["\(slice.namespace)/\(slice.serviceName)", default: []].append(slice) }
    }

    /// The cluster for a rule's backendRefs, or nil when none resolves (the route then answers 500,
    /// as Envoy Gateway's does). Host names make a DNS cluster.
    func cluster(named name: String, for refs: [BackendReference]) -> BackendCluster? {
        var groups: [EndpointGroup] = []
        var dns = false
        for ref in refs where ref.weight > 0 {
            let key = "\(ref.namespace)/\(ref.name)"
            switch ref.kind {
            case "Backend":
                guard let backend = backends[key] else { continue }
                var endpoints: [Endpoint] = []
                for endpoint in backend.endpoints {
                    switch endpoint {
                    case .ip(let address, let port): endpoints.append(Endpoint(host: address, port: port))
                    case .fqdn(let hostname, let port):
                        dns = true
                        endpoints.append(Endpoint(host: hostname, port: port))
                    }
                }
                groups.append(EndpointGroup(weight: ref.weight, endpoints: endpoints))
            case "Service":
                guard let service = services[key], let port = ref.port,
                    let servicePort = service.ports.first(where: { $0.port == port })
                else { continue }
                var endpoints: [Endpoint] = []
                for slice in slices[key, default: []] {
                    // A slice's ports are the endpoints' own, named as the Service's ports are.
                    let targetPort =
                        slice.ports.first(where: { ($0.name ?? "") == (servicePort.name ?? "") })?.port
                        ?? servicePort.targetPort ?? servicePort.port
                    for endpoint in slice.endpoints where endpoint.ready || endpoint.terminating {
                        for address in endpoint.addresses {
                            endpoints.append(Endpoint(host: address, port: targetPort, draining: endpoint.terminating))
                        }
                    }
                }
                groups.append(EndpointGroup(weight: ref.weight, endpoints: endpoints))
            default:
                continue
            }
        }
        guard !groups.isEmpty else { return nil }
        return BackendCluster(name: name, discovery: dns ? .dns : .endpoints, groups: groups)
    }
}
