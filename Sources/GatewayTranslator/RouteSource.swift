import GatewayAPI
import GatewayIR

/// A route's kind, namespace and name: what tells it from every other route.
struct RouteKey: Hashable {
    var kind: String
    var namespace: String
    var name: String
}

/// An HTTPRoute or GRPCRoute reduced to what the translator needs: both attach to Gateway
/// listeners the same way and become the same Envoy routes; they differ in how matches read
/// and in the upstream protocol.
struct RouteSource: Equatable {
    struct Match: Equatable {
        /// In the route name: the match's index, or -1 for a rule without matches (GRPCRoute; an
        /// HTTPRoute rule always has one after CRD defaulting).
        var index: Int
        var path: Route.PathMatch
        var headers: [Route.ValueMatch] = []
        var queryParams: [Route.ValueMatch] = []
        var method: String?
        /// Patterns as the user wrote them when the match composes them into another (gRPC
        /// service and method): each is checked on its own, as Envoy Gateway checks them.
        var writtenPatterns: [String] = []

        /// Every regular expression Envoy would compile for this match: the written ones first.
        var patterns: [String] {
            var patterns = writtenPatterns
            if case .regularExpression(let value) = path { patterns.append(value) }
            patterns += (headers + queryParams).filter { $0.kind == .regularExpression }.map(\.value)
            return patterns
        }
    }

    struct Rule: Equatable {
        /// The rule's `name`, which policies target with `sectionName`.
        var name: String?
        var matches: [Match]
        var backendRefs: [BackendReference]
        var filters: [HTTPRoute.Filter]
        var timeouts: HTTPRoute.Timeouts?
        var retry: HTTPRoute.Retry?
    }

    struct Fields: Equatable {
        /// `HTTPRoute` or `GRPCRoute`.
        var kind = ""
        var namespace = ""
        var name = ""
        var parentRefs: [ParentReference] = []
        var hostnames: [String] = []
        var rules: [Rule] = []
        var upstreamProtocol = BackendCluster.UpstreamProtocol.http1
        var location = SourceLocation(file: "", line: 0, column: 0)
    }

    /// The fields, in one box: every translation copies each route several times (into the
    /// memo, the sorted list, each listener's pass), and copying the fields inline retained
    /// every string and array they hold, a fifth of the Gateway API → IR pass at 10000 routes.
    /// Not the IR's `CopyOnWrite`: a generic type from another module is not specialized here,
    /// and its unspecialized accessors cost a third more Gateway API → IR time under `perf`.
    /// Changed only through a `RouteSource` that holds the only reference.
    private final class Storage: @unchecked Sendable {
        var fields: Fields
        init(_ fields: Fields) { self.fields = fields }
    }

    private var storage = Storage(Fields())

    private var fields: Fields {
        get { storage.fields }
        _modify {
            if !isKnownUniquelyReferenced(&storage) { storage = Storage(storage.fields) }
            yield &storage.fields
        }
    }

    var kind: String {
        get { fields.kind }
        set { fields.kind = newValue }
    }
    var namespace: String {
        get { fields.namespace }
        set { fields.namespace = newValue }
    }
    var name: String {
        get { fields.name }
        set { fields.name = newValue }
    }
    var parentRefs: [ParentReference] {
        get { fields.parentRefs }
        set { fields.parentRefs = newValue }
    }
    var hostnames: [String] {
        get { fields.hostnames }
        set { fields.hostnames = newValue }
    }
    var rules: [Rule] {
        get { fields.rules }
        set { fields.rules = newValue }
    }
    var upstreamProtocol: BackendCluster.UpstreamProtocol {
        get { fields.upstreamProtocol }
        set { fields.upstreamProtocol = newValue }
    }
    var location: SourceLocation {
        get { fields.location }
        set { fields.location = newValue }
    }

    static func == (lhs: RouteSource, rhs: RouteSource) -> Bool {
        lhs.storage === rhs.storage || lhs.storage.fields == rhs.storage.fields
    }

    /// Whether both are the one route value (the memo hands on an unchanged route's): a
    /// pointer check, where `==` may compare every field.
    func isIdentical(to other: RouteSource) -> Bool { storage === other.storage }

    /// Where a rule's clusters and routes come from, its `name` as section (Envoy Gateway's tag).
    func metadata(rule index: Int) -> ResourceMetadata {
        // Layer-4 routes pool their rules (index -1): no rule names the section.
        ResourceMetadata(
            kind: kind, name: name, namespace: namespace,
            sectionName: rules.indices.contains(index) ? rules[index].name : nil)
    }

    /// The route among all others.
    var key: RouteKey { RouteKey(kind: kind, namespace: namespace, name: name) }

    /// `httproute/<ns>/<name>`: the stem of its clusters' and routes' names.
    var namePrefix: String { "\(kind.lowercased())/\(namespace)/\(name)" }

    init(_ route: HTTPRoute) {
        kind = "HTTPRoute"
        namespace = route.namespace
        name = route.name
        parentRefs = route.parentRefs
        hostnames = route.hostnames
        upstreamProtocol = .http1
        location = route.location
        rules = route.rules.map { rule in
            Rule(
                name: rule.name,
                matches: rule.matches.enumerated().map { index, match in
                    Match(
                        index: index, path: Self.path(match.path), headers: match.headers.map(Self.valueMatch),
                        queryParams: match.queryParams.map(Self.valueMatch), method: match.method)
                },
                backendRefs: rule.backendRefs, filters: rule.filters, timeouts: rule.timeouts, retry: rule.retry)
        }
    }

    init(_ route: GRPCRoute) {
        kind = "GRPCRoute"
        namespace = route.namespace
        name = route.name
        parentRefs = route.parentRefs
        hostnames = route.hostnames
        upstreamProtocol = .http2
        location = route.location
        rules = route.rules.map { rule in
            let matches =
                rule.matches.isEmpty
                ? [Match(index: -1, path: .prefix("/"))]
                : rule.matches.enumerated().map { index, match in Self.grpcMatch(match, index: index) }
            return Rule(
                name: rule.name, matches: matches, backendRefs: rule.backendRefs, filters: rule.filters, timeouts: nil,
                retry: nil)
        }
    }

    static func path(_ path: HTTPRoute.PathMatch) -> Route.PathMatch {
        switch path.kind {
        case .exact: .exact(path.value)
        case .pathPrefix: .prefix(path.value)
        case .regularExpression: .regularExpression(path.value)
        }
    }

    static func valueMatch(_ match: HTTPRoute.ValueMatch) -> Route.ValueMatch {
        Route.ValueMatch(
            name: match.name, value: match.value, kind: match.kind == .regularExpression ? .regularExpression : .exact)
    }

    /// What Envoy Gateway accepts as a gRPC service and method name, for regular expression
    /// matches that leave one of them open.
    static let anyService = #"(?i)\.?[a-z_][a-z_0-9]*(\.[a-z_][a-z_0-9]*)*"#
    static let anyMethod = "[A-Za-z_][A-Za-z_0-9]*"

    /// A gRPC request's path is `/<service>/<method>`; matches become path and `:path` matches.
    static func grpcMatch(_ match: GRPCRoute.Match, index: Int) -> Match {
        var result = Match(index: index, path: .prefix("/"), headers: match.headers.map(valueMatch))
        guard let method = match.method else { return result }
        switch (method.kind, method.service, method.method) {
        case (.exact, let service?, let name?): result.path = .exact("/\(service)/\(name)")
        case (.exact, let service?, nil): result.path = .prefix("/\(service)")
        case (.exact, nil, let name?):
            result.headers.append(Route.ValueMatch(name: ":path", value: "/\(name)", kind: .suffix))
        case (.regularExpression, let service, let name) where service != nil || name != nil:
            result.writtenPatterns = [service, name].compactMap { $0 }
            result.path = .regularExpression("/\(service ?? anyService)/\(name ?? anyMethod)")
        default: break
        }
        return result
    }
}
