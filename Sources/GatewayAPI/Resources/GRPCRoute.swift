/// `gateway.networking.k8s.io/v1` GRPCRoute: routes by gRPC service and method, to HTTP/2 backends.
public struct GRPCRoute: Sendable, Equatable {
    public struct MethodMatch: Sendable, Equatable {
        public enum Kind: String, Sendable, CaseIterable {
            case exact = "Exact"
            case regularExpression = "RegularExpression"
        }

        public var kind: Kind
        /// Nil matches every service (or method).
        public var service: String?
        public var method: String?
    }

    public struct Match: Sendable, Equatable {
        public var method: MethodMatch?
        public var headers: [HTTPRoute.ValueMatch]
    }

    public struct Rule: Sendable, Equatable {
        public var name: String?
        /// Empty matches every gRPC request.
        public var matches: [Match]
        public var backendRefs: [BackendReference]
        public var filters: [HTTPRoute.Filter]
        public var location: SourceLocation
    }

    public var name: String
    public var namespace: String
    public var parentRefs: [ParentReference]
    public var hostnames: [String]
    public var rules: [Rule]
    public var location: SourceLocation

    init?(_ object: ManifestObject) {
        guard let spec = object.spec(allowing: ["parentRefs", "hostnames", "rules"]) else { return nil }
        let namespace = object.namespace
        parentRefs = ParentReference.list(spec, namespace: namespace)
        hostnames = spec.strings("hostnames", format: .hostname(wildcard: true))
        rules = spec.objects("rules").map { rule in
            rule.allowOnly(["name", "matches", "filters", "backendRefs", "sessionPersistence"])
            let matches = rule.objects("matches").map { match in
                match.allowOnly(["method", "headers"])
                return Match(
                    method: match.object("method").map(Self.method), headers: HTTPRoute.valueMatches(match, "headers"))
            }
            let filters = HTTPRoute.filters(rule).filter {
                if case .requestHeaderModifier = $0 { return true }
                if case .responseHeaderModifier = $0 { return true }
                rule.context.report(
                    at: rule.location, .notAllowed, "\(rule.path).filters",
                    "GRPCRoute allows only RequestHeaderModifier and ResponseHeaderModifier filters")
                return false
            }
            return Rule(
                name: rule.string("name"), matches: matches,
                backendRefs: BackendReference.list(rule, namespace: namespace),
                filters: filters, location: rule.location)
        }
        name = object.name
        self.namespace = namespace
        location = object.location
    }

    static func method(_ reader: ObjectReader) -> MethodMatch {
        reader.allowOnly(["type", "service", "method"])
        let kind = reader.oneOf("type", MethodMatch.Kind.allCases.map(\.rawValue)).flatMap {
            MethodMatch.Kind(rawValue: $0)
        }
        // Gateway API's CRD limits both to 1024 bytes; longer ones also become regular
        // expressions Envoy refuses as too large.
        let match = MethodMatch(
            kind: kind ?? .exact, service: reader.string("service", format: .text(maxLength: 1024)),
            method: reader.string("method", format: .text(maxLength: 1024)))
        if match.service == nil && match.method == nil {
            reader.context.report(at: reader.location, .missingField, reader.path, "needs service, method or both")
        }
        return match
    }
}

/// `gateway.networking.k8s.io/v1` GatewayClass: which controller owns the Gateways of a class.
public struct GatewayClass: Sendable, Equatable {
    public var name: String
    public var controllerName: String
    public var location: SourceLocation

    init?(_ object: ManifestObject) {
        guard let spec = object.spec(allowing: ["controllerName", "parametersRef", "description"]) else { return nil }
        guard let controller = spec.string("controllerName", required: true) else { return nil }
        name = object.name
        controllerName = controller
        location = object.location
    }
}
