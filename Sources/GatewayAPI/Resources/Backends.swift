/// Envoy Gateway `gateway.envoyproxy.io/v1alpha1` Backend: endpoints given directly by IP or name.
public struct Backend: Sendable, Equatable {
    public enum Endpoint: Sendable, Equatable {
        case ip(address: String, port: Int)
        case fqdn(hostname: String, port: Int)
    }

    public var name: String
    public var namespace: String
    public var endpoints: [Endpoint]
    /// Each endpoint's `zone`, in the same order (for zone-aware load balancing).
    public var zones: [String?] = []
    public var appProtocols: [String]
    /// `spec.tls`: nil for plaintext.
    public var tls: BackendTLSSettings? {
        get { tlsBox?.wrappedValue }
        set { tlsBox = newValue.map { Shared(wrappedValue: $0) } }
    }
    /// Out of line when there is one: inline it was 128 of a Backend's 216 bytes, in every one
    /// of them (most have none), in each decoded file and in the resources.
    private var tlsBox: Shared<BackendTLSSettings>?
    public var location: SourceLocation

    init?(_ object: ManifestObject) {
        guard let spec = object.spec(allowing: ["endpoints", "appProtocols", "fallback", "tls", "type"]) else {
            return nil
        }
        var zones: [String?] = []
        endpoints = spec.objects("endpoints", required: true).compactMap { endpoint in
            endpoint.allowOnly(["ip", "fqdn", "unix", "zone", "hostname"])
            let zone = endpoint.string("zone")
            if let ip = endpoint.object("ip") {
                ip.allowOnly(["address", "port"])
                guard let address = ip.string("address", required: true, format: .ipAddress),
                    let port = ip.int("port", required: true, range: 0...65535)
                else { return nil }
                zones.append(zone)
                return .ip(address: address, port: port)
            }
            if let fqdn = endpoint.object("fqdn") {
                fqdn.allowOnly(["hostname", "port"])
                guard let hostname = fqdn.string("hostname", required: true, format: .hostname(wildcard: false)),
                    let port = fqdn.int("port", required: true, range: 0...65535)
                else { return nil }
                zones.append(zone)
                return .fqdn(hostname: hostname, port: port)
            }
            endpoint.context.report(
                at: endpoint.location, .missingField, endpoint.path,
                endpoint.has("unix")
                    ? "unix socket endpoints are not supported yet: use ip or fqdn" : "needs ip or fqdn")
            return nil
        }
        self.zones = zones
        appProtocols = spec.strings("appProtocols")
        name = object.name
        namespace = object.namespace
        location = object.location
        tls = spec.object("tls").flatMap(BackendTLSSettings.init)
    }
}

/// Kubernetes `v1` Service: the ports a backendRef may name. Endpoints come from EndpointSlices.
public struct Service: Sendable, Equatable {
    public struct Port: Sendable, Equatable {
        public var name: String?
        public var port: Int
        public var targetPort: Int?
        public var appProtocol: String?
    }

    public var name: String
    public var namespace: String
    public var ports: [Port]
    public var location: SourceLocation

    init?(_ object: ManifestObject) {
        guard let spec = object.spec(allowing: nil) else { return nil }
        ports = spec.objects("ports").compactMap { port in
            port.allowOnly(["name", "port", "targetPort", "protocol", "appProtocol", "nodePort"])
            guard let number = port.int("port", required: true, range: 1...65535) else { return nil }
            // A named targetPort is resolved by the EndpointSlice's port names, not here.
            let target = port.scalar("targetPort").flatMap { Int($0) }
            return Port(
                name: port.string("name"), port: number, targetPort: target, appProtocol: port.string("appProtocol"))
        }
        name = object.name
        namespace = object.namespace
        location = object.location
    }
}

/// Kubernetes `discovery.k8s.io/v1` EndpointSlice: the addresses behind a Service
/// (named by the `kubernetes.io/service-name` label).
public struct EndpointSlice: Sendable, Equatable {
    public struct Endpoint: Sendable, Equatable {
        public var addresses: [String]
        public var ready: Bool
        public var terminating: Bool
        public var zone: String?
    }

    public struct Port: Sendable, Equatable {
        public var name: String?
        public var port: Int
    }

    public var name: String
    public var namespace: String
    public var serviceName: String
    public var endpoints: [Endpoint]
    public var ports: [Port]
    public var location: SourceLocation

    init?(_ object: ManifestObject) {
        let root = object.fields
        root.allowOnly(["apiVersion", "kind", "metadata", "addressType", "endpoints", "ports"])
        let addressType = root.oneOf("addressType", ["IPv4", "IPv6", "FQDN"], required: true)
        let addressFormat: StringFormat = addressType == "FQDN" ? .hostname(wildcard: false) : .ipAddress
        let labels = root.object("metadata")?.object("labels")
        guard let service = labels?.string("kubernetes.io/service-name") else {
            object.fields.context.report(
                at: object.location, .missingField, "metadata.labels[kubernetes.io/service-name]",
                "is required: it names the Service these endpoints belong to")
            return nil
        }
        endpoints = root.objects("endpoints").map { endpoint in
            endpoint.allowOnly(["addresses", "conditions", "hostname", "nodeName", "zone", "targetRef", "hints"])
            let conditions = endpoint.object("conditions")
            return Endpoint(
                addresses: endpoint.strings("addresses", format: addressFormat),
                // An unknown readiness counts as ready, as Kubernetes documents.
                ready: conditions?.bool("ready") ?? true, terminating: conditions?.bool("terminating") ?? false,
                zone: endpoint.string("zone"))
        }
        ports = root.objects("ports").compactMap { port in
            port.allowOnly(["name", "port", "protocol", "appProtocol"])
            guard let number = port.int("port", required: true, range: 1...65535) else { return nil }
            return Port(name: port.string("name"), port: number)
        }
        serviceName = service
        name = object.name
        namespace = object.namespace
        location = object.location
    }
}
