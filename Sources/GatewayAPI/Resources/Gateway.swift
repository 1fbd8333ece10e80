/// `gateway.networking.k8s.io/v1` Gateway: the listeners Envoy opens.
public struct Gateway: Sendable, Equatable {
    public struct Listener: Sendable, Equatable {
        public enum ProtocolType: String, Sendable, CaseIterable {
            case http = "HTTP"
            case https = "HTTPS"
            case tls = "TLS"
            case tcp = "TCP"
            case udp = "UDP"
        }

        public var name: String
        public var hostname: String?
        public var port: Int
        public var `protocol`: ProtocolType
        /// `allowedRoutes.namespaces`: the namespaces whose routes may attach.
        public var namespaces: NamespaceSelection
        /// `allowedRoutes.namespaces.from`: `Same` (the CRD default), `All` or `Selector`.
        public var allowedNamespaces: String { namespaces.from }
        /// `allowedRoutes.kinds` as written; nil when not given (the protocol's kinds apply).
        public var kinds: [RouteGroupKind]?
        /// `tls`, when written.
        public var tls: TLS?
        public var location: SourceLocation
    }

    /// A listener's `tls`: how it treats TLS and the certificates it presents.
    public struct TLS: Sendable, Equatable {
        public enum Mode: String, Sendable, CaseIterable {
            case terminate = "Terminate"
            case passthrough = "Passthrough"
        }

        /// A `certificateRefs` entry: a Secret unless `group`/`kind` say otherwise.
        public struct CertificateRef: Sendable, Equatable {
            public var group: String?
            public var kind: String?
            public var name: String
            public var namespace: String?
        }

        /// Nil when not written (the CRD's default is Terminate).
        public var mode: Mode?
        public var certificateRefs: [CertificateRef]
        /// `options`: implementation-specific settings, kept as written.
        public var options: [String: String]
    }

    public var name: String
    public var namespace: String
    public var gatewayClassName: String
    public var listeners: [Listener]
    public var location: SourceLocation

    static let allowedSpecFields = ["gatewayClassName", "listeners", "addresses", "infrastructure", "backendTLS"]
    static let allowedListenerFields = ["name", "hostname", "port", "protocol", "tls", "allowedRoutes"]

    /// Reads a Gateway; nil when a required field is missing or wrong (each problem is reported).
    init?(_ object: ManifestObject) {
        guard let spec = object.spec(allowing: Self.allowedSpecFields) else { return nil }
        let className = spec.string("gatewayClassName", required: true)
        let readers = spec.objects("listeners", required: true)
        var listeners: [Listener] = []
        var names = Set<String>()
        for reader in readers {
            reader.allowOnly(Self.allowedListenerFields)
            let name = reader.string("name", required: true)
            let port = reader.int("port", required: true, range: 1...65535)
            let proto = reader.oneOf("protocol", Listener.ProtocolType.allCases.map(\.rawValue), required: true)
                .flatMap { Listener.ProtocolType(rawValue: $0) }
            var namespaces = NamespaceSelection.same
            var kinds: [RouteGroupKind]?
            if let allowed = reader.object("allowedRoutes") {
                allowed.allowOnly(["namespaces", "kinds"])
                if let object = allowed.object("namespaces") {
                    namespaces = NamespaceSelection(object, order: ["All", "Same", "Selector"])
                }
                if allowed.has("kinds") {
                    kinds = allowed.objects("kinds").compactMap { entry in
                        entry.allowOnly(["group", "kind"])
                        let group = entry.string("group")
                        return entry.string("kind", required: true).map { RouteGroupKind(group: group, kind: $0) }
                    }
                }
            }
            var tls: TLS?
            if let object = reader.object("tls") {
                object.allowOnly(["mode", "certificateRefs", "options", "frontendValidation"])
                let mode = object.oneOf("mode", TLS.Mode.allCases.map(\.rawValue)).flatMap(TLS.Mode.init)
                let refs = object.objects("certificateRefs").compactMap { ref -> TLS.CertificateRef? in
                    ref.allowOnly(["group", "kind", "name", "namespace"])
                    guard let name = ref.string("name", required: true) else { return nil }
                    return TLS.CertificateRef(
                        group: ref.string("group"), kind: ref.string("kind"), name: name,
                        namespace: ref.string("namespace"))
                }
                if refs.count > 64 {
                    object.report("certificateRefs", .outOfRange, "at most 64 certificate references per listener")
                }
                tls = TLS(mode: mode, certificateRefs: refs, options: object.stringMap("options"))
            }
            guard let name, let port, let proto else { continue }
            if !names.insert(name).inserted {
                reader.context.report(
                    at: reader.location, .duplicateName, "\(reader.path).name",
                    "listener name \"\(name)\" is used twice; listener names must be unique within a Gateway")
                continue
            }
            listeners.append(
                Listener(
                    name: name, hostname: reader.string("hostname", format: .hostname(wildcard: true)), port: port,
                    protocol: proto,
                    namespaces: namespaces, kinds: kinds, tls: tls, location: reader.location))
        }
        guard let className else { return nil }
        self.init(
            name: object.name, namespace: object.namespace, gatewayClassName: className, listeners: listeners,
            location: object.location)
    }

    public init(
        name: String, namespace: String, gatewayClassName: String, listeners: [Listener], location: SourceLocation
    ) {
        self.name = name
        self.namespace = namespace
        self.gatewayClassName = gatewayClassName
        self.listeners = listeners
        self.location = location
    }
}

/// A route kind a listener takes (`allowedRoutes.kinds`, `status.supportedKinds`); `group` nil
/// when not written, which means Gateway API's own group.
public struct RouteGroupKind: Sendable, Equatable, Encodable {
    public var group: String?
    public var kind: String

    public init(group: String? = nil, kind: String) {
        self.group = group
        self.kind = kind
    }

    public static let gatewayAPIGroup = "gateway.networking.k8s.io"
}
