/// `gateway.networking.k8s.io/v1` HTTPRoute, with the CRD's defaults applied as the API server
/// would: a rule with no matches matches every path (`PathPrefix /`), a path match with no type
/// is a `PathPrefix`, a backendRef weighs 1, a parentRef is a Gateway in the route's namespace.
public struct HTTPRoute: Sendable, Equatable {
    public struct PathMatch: Sendable, Equatable {
        public enum Kind: String, Sendable, CaseIterable {
            case exact = "Exact"
            case pathPrefix = "PathPrefix"
            case regularExpression = "RegularExpression"
        }

        public var kind: Kind
        public var value: String
    }

    public struct ValueMatch: Sendable, Equatable {
        public enum Kind: String, Sendable, CaseIterable {
            case exact = "Exact"
            case regularExpression = "RegularExpression"
        }

        public var kind: Kind
        public var name: String
        public var value: String
    }

    public struct Match: Sendable, Equatable {
        public var path: PathMatch
        public var headers: [ValueMatch]
        public var queryParams: [ValueMatch]
        public var method: String?
    }

    public struct Rule: Sendable, Equatable {
        public var name: String?
        public var matches: [Match]
        public var backendRefs: [BackendReference]
        public var filters: [Filter]
        public var timeouts: Timeouts?
        public var retry: Retry?
        public var location: SourceLocation
    }

    public var name: String
    public var namespace: String
    public var parentRefs: [ParentReference]
    public var hostnames: [String]
    public var rules: [Rule]
    public var location: SourceLocation
    public var annotations: [String: String] = [:]

    static let methods = ["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"]

    init?(_ object: ManifestObject) {
        guard let spec = object.spec(allowing: ["parentRefs", "hostnames", "rules"]) else { return nil }
        let namespace = object.namespace

        parentRefs = ParentReference.list(spec, namespace: namespace)
        hostnames = spec.strings("hostnames", format: .hostname(wildcard: true))

        let ruleReaders = spec.objects("rules")
        var rules: [Rule] = ruleReaders.map { rule in
            rule.allowOnly(["name", "matches", "filters", "backendRefs", "timeouts", "retry", "sessionPersistence"])
            var matches = rule.objects("matches").map { Self.match($0) }
            if matches.isEmpty { matches = [Self.defaultMatch] }
            let backendRefs = BackendReference.list(rule, namespace: namespace)
            return Rule(
                name: rule.string("name"), matches: matches, backendRefs: backendRefs, filters: Self.filters(rule),
                timeouts: Self.timeouts(rule), retry: Self.retry(rule), location: rule.location)
        }
        if !spec.has("rules") {
            rules = [
                Rule(
                    name: nil, matches: [Self.defaultMatch], backendRefs: [], filters: [], timeouts: nil, retry: nil,
                    location: spec.location)
            ]
        }
        self.rules = rules
        self.name = object.name
        self.namespace = namespace
        self.location = object.location
        annotations = object.annotations
    }

    static let defaultMatch = Match(
        path: PathMatch(kind: .pathPrefix, value: "/"), headers: [], queryParams: [], method: nil)

    static func match(_ reader: ObjectReader) -> Match {
        reader.allowOnly(["path", "headers", "queryParams", "method"])
        var path = PathMatch(kind: .pathPrefix, value: "/")
        if let pathReader = reader.object("path") {
            pathReader.allowOnly(["type", "value"])
            let kind = pathReader.oneOf("type", PathMatch.Kind.allCases.map(\.rawValue)).flatMap {
                PathMatch.Kind(rawValue: $0)
            }
            path = PathMatch(kind: kind ?? .pathPrefix, value: pathReader.string("value") ?? "/")
            if path.kind != .regularExpression, pathReader.has("value"),
                let problem = StringFormat.httpPath.problem(path.value)
            {
                pathReader.report("value", .notAllowed, problem)
            }
        }
        return Match(
            path: path, headers: valueMatches(reader, "headers"), queryParams: valueMatches(reader, "queryParams"),
            method: reader.oneOf("method", methods))
    }

    static func valueMatches(_ reader: ObjectReader, _ key: String) -> [ValueMatch] {
        reader.objects(key).compactMap { item in
            item.allowOnly(["type", "name", "value"])
            let kind = item.oneOf("type", ValueMatch.Kind.allCases.map(\.rawValue)).flatMap {
                ValueMatch.Kind(rawValue: $0)
            }
            guard let name = item.string("name", required: true, format: .headerName),
                let value = item.string("value", required: true, format: .text(maxLength: 4096))
            else {
                return nil
            }
            return ValueMatch(kind: kind ?? .exact, name: name, value: value)
        }
    }
}
