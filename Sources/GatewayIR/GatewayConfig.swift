/// Everything one Gateway's Envoys run, decided and named, free of protobuf. The xDS translator
/// writes it out; status and provenance stay with the Gateway translator.
public struct GatewayConfig: Sendable, Hashable, Codable {
    /// `<namespace>/<name>`: the node group (Envoy's `node.cluster`) this config is served to.
    public var key: String
    public var listeners: [HTTPListener]
    public var clusters: [BackendCluster]
    /// Certificates the listeners present, served over SDS; each once, by name.
    public var secrets: [TLSSecret] = []
    /// CA bundles upstream TLS checks certificates against.
    public var trustBundles: [TrustBundle] = []
    /// Listeners that route whole connections (TCP, TLS) and datagrams (UDP).
    public var tcpListeners: [TCPListener] = []
    public var udpListeners: [UDPListener] = []

    public init(key: String, listeners: [HTTPListener] = [], clusters: [BackendCluster] = []) {
        self.key = key
        self.listeners = listeners
        self.clusters = clusters
    }

    enum CodingKeys: String, CodingKey {
        case key, listeners, clusters, secrets, trustBundles, tcpListeners, udpListeners
    }

    // Secrets only where there are some, so configurations without TLS read as before.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        key = try container.decode(String.self, forKey: .key)
        listeners = try container.decode([HTTPListener].self, forKey: .listeners)
        clusters = try container.decode([BackendCluster].self, forKey: .clusters)
        secrets = try container.decodeIfPresent([TLSSecret].self, forKey: .secrets) ?? []
        trustBundles = try container.decodeIfPresent([TrustBundle].self, forKey: .trustBundles) ?? []
        tcpListeners = try container.decodeIfPresent([TCPListener].self, forKey: .tcpListeners) ?? []
        udpListeners = try container.decodeIfPresent([UDPListener].self, forKey: .udpListeners) ?? []
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(key, forKey: .key)
        try container.encode(listeners, forKey: .listeners)
        try container.encode(clusters, forKey: .clusters)
        if !secrets.isEmpty { try container.encode(secrets, forKey: .secrets) }
        if !trustBundles.isEmpty { try container.encode(trustBundles, forKey: .trustBundles) }
        if !tcpListeners.isEmpty { try container.encode(tcpListeners, forKey: .tcpListeners) }
        if !udpListeners.isEmpty { try container.encode(udpListeners, forKey: .udpListeners) }
    }
}

/// A listener that sends whole TCP connections to clusters: plain TCP (one route), TLS passed
/// through by SNI, or TLS terminated here and the plaintext passed on.
public struct TCPListener: Sendable, Hashable, Codable {
    public enum Mode: String, Sendable, Hashable, Codable {
        case tcp
        case tlsPassthrough
        case tlsTerminate
    }

    /// `<gw-ns>/<gw-name>/<listener-name>`.
    public var name: String
    public var port: Int
    public var mode: Mode
    /// The certificates a terminating listener presents (SDS names); nil otherwise.
    public var certificates: [String]?
    /// One filter chain each, in route order.
    public var routes: [TCPRoute] = []
    /// Where Envoy writes a JSON line per connection, or nil for none.
    public var accessLogPath: String?

    public init(name: String, port: Int, mode: Mode) {
        self.name = name
        self.port = port
        self.mode = mode
    }
}

/// A TLSRoute or TCPRoute on one listener: the connections it takes and the cluster they go to.
public struct TCPRoute: Sendable, Hashable, Codable {
    /// `<kind>/<ns>/<name>` (e.g. `tlsroute/default/db`): the filter chain's name.
    public var name: String
    public var cluster: String
    /// SNI names the chain matches; empty (or `*`) takes every connection.
    public var serverNames: [String]
    public var metadata: ResourceMetadata?
    /// Connections from one client address go to one endpoint (a policy's consistent hash by
    /// `SourceIP`, the only key a connection has).
    public var hashesSourceIP: Bool?

    public init(name: String, cluster: String, serverNames: [String] = []) {
        self.name = name
        self.cluster = cluster
        self.serverNames = serverNames
    }
}

/// A UDP listener and the one UDPRoute whose cluster its datagrams go to.
public struct UDPListener: Sendable, Hashable, Codable {
    public var name: String
    public var port: Int
    /// The cluster, nil until a route with a backend attaches.
    public var cluster: String?
    public var accessLogPath: String?

    public init(name: String, port: Int) {
        self.name = name
        self.port = port
    }
}

/// A certificate chain and its private key, as PEM, checked to be a pair Envoy takes.
/// Named `<secret-ns>/<secret-name>`, as Envoy Gateway names the SDS secret.
public struct TLSSecret: Sendable, Hashable, Codable {
    public var name: String
    public var certificateChain: String
    public var privateKey: String

    public init(name: String, certificateChain: String, privateKey: String) {
        self.name = name
        self.certificateChain = certificateChain
        self.privateKey = privateKey
    }
}

/// The TLS an HTTPS listener terminates.
public struct TLSTermination: Sendable, Hashable, Codable {
    /// SDS secret names, in the order the Gateway listener lists them.
    public var certificates: [String]
    /// SNI names the filter chain matches; empty matches every connection.
    public var serverNames: [String]
    /// ALPN offered to clients: Envoy Gateway's `h2, http/1.1`, or only `http/1.1` when a
    /// certificate or hostname overlaps another listener's on the port (no HTTP/2 coalescing).
    public var alpnProtocols: [String]

    public init(certificates: [String], serverNames: [String], alpnProtocols: [String]) {
        self.certificates = certificates
        self.serverNames = serverNames
        self.alpnProtocols = alpnProtocols
    }
}

/// One HTTP connection manager and its route configuration: an Envoy listener of its own, or,
/// for HTTPS, one filter chain of the Envoy listener on its port (the first on the port names it).
public struct HTTPListener: Sendable, Hashable, Codable {
    /// `<gw-ns>/<gw-name>/<listener-name>`; also the route configuration's name.
    public var name: String
    /// The port Envoy binds: the Gateway's port, plus 10000 below 1024 (Envoy runs unprivileged).
    public var port: Int
    public var virtualHosts: [VirtualHost]
    /// A GRPCRoute is attached: the listener bridges gRPC-Web and counts gRPC calls.
    public var servesGRPC = false
    /// Where Envoy writes a JSON line per request (and per connection no route took), or nil
    /// for no access log. Envoy Gateway logs to `/dev/stdout` unless told otherwise.
    public var accessLogPath: String?
    /// The TLS it terminates (HTTPS); nil for plain HTTP.
    public var tls: TLSTermination?
    /// Some route has a fault or a local rate limit: the connection manager needs that filter.
    public var usesFault: Bool { virtualHosts.contains { $0.routes.contains { $0.policy.fault != nil } } }
    /// Where Envoy asks about global rate limits: set when some route has them.
    public var rateLimitService: GlobalRateLimitService?
    public var usesGlobalRateLimit: Bool {
        virtualHosts.contains { $0.routes.contains { $0.policy.globalRateLimit != nil } }
    }
    public var usesLocalRateLimit: Bool { virtualHosts.contains { $0.routes.contains { $0.policy.rateLimit != nil } } }

    public init(name: String, port: Int, virtualHosts: [VirtualHost] = []) {
        self.name = name
        self.port = port
        self.virtualHosts = virtualHosts
    }
}

public struct VirtualHost: Sendable, Hashable, Codable {
    /// `<listener-name>/<hostname, dots as underscores>`.
    public var name: String
    public var domains: [String]
    /// In match precedence order: Envoy takes the first route that matches.
    public var routes: [Route]
    /// The Gateway listener it serves.
    public var metadata: ResourceMetadata?

    public init(name: String, domains: [String], routes: [Route] = []) {
        self.name = name
        self.domains = domains
        self.routes = routes
    }
}

public struct Route: Sendable, Hashable, Codable {
    public enum PathMatch: Sendable, Hashable, Codable {
        case exact(String)
        case prefix(String)
        case regularExpression(String)
    }

    public struct ValueMatch: Sendable, Hashable, Codable {
        public enum Kind: String, Sendable, Hashable, Codable {
            case exact
            case regularExpression
            /// gRPC method matches without a service match the end of `:path`.
            case suffix
        }

        public var name: String
        public var value: String
        public var kind: Kind

        public init(name: String, value: String, kind: Kind = .exact) {
            self.name = name
            self.value = value
            self.kind = kind
        }
    }

    public struct WeightedCluster: Sendable, Hashable, Codable {
        public var name: String
        public var weight: Int

        public init(name: String, weight: Int) {
            self.name = name
            self.weight = weight
        }
    }

    public struct Header: Sendable, Hashable, Codable {
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// Headers to set (replacing any), add (appending) and remove.
    public struct HeaderMutation: Sendable, Hashable, Codable {
        public var set: [Header]
        public var add: [Header]
        public var remove: [String]

        public init(set: [Header] = [], add: [Header] = [], remove: [String] = []) {
            self.set = set
            self.add = add
            self.remove = remove
        }
    }

    public struct Redirect: Sendable, Hashable, Codable {
        public enum Path: Sendable, Hashable, Codable {
            case full(String)
            case prefix(String)
        }

        public var scheme: String?
        public var hostname: String?
        public var port: Int?
        public var path: Path?
        public var statusCode: Int

        public init(
            scheme: String? = nil, hostname: String? = nil, port: Int? = nil, path: Path? = nil, statusCode: Int = 302
        ) {
            self.scheme = scheme
            self.hostname = hostname
            self.port = port
            self.path = path
            self.statusCode = statusCode
        }
    }

    /// HTTPRoute URLRewrite: what the upstream sees instead of the client's host and path.
    public struct Rewrite: Sendable, Hashable, Codable {
        public enum Path: Sendable, Hashable, Codable {
            /// The whole path becomes this.
            case full(String)
            /// The matched prefix becomes this.
            case prefix(String)
        }

        public var hostname: String?
        public var path: Path?

        public init(hostname: String? = nil, path: Path? = nil) {
            self.hostname = hostname
            self.path = path
        }
    }

    /// When Envoy retries a request, as Envoy Gateway writes it: from a base policy (connection
    /// failures and 503s, twice, on another host), overridden field by field.
    public struct RetryPolicy: Sendable, Hashable, Codable {
        /// Envoy `retry_on` conditions, sorted and unique; nil keeps Envoy Gateway's default set.
        public var triggers: [String]?
        /// Sorted and unique; Envoy Gateway's base is `[503]`.
        public var statusCodes: [Int] = [503]
        public var numRetries: Int = 2
        public var numAttemptsPerPriority: Int?
        public var perTryTimeout: Duration?
        public var backOffBase: Duration?
        public var backOffMax: Duration?

        public init() {}
    }

    public enum Action: Sendable, Hashable, Codable {
        case forward(cluster: String)
        /// Indirect: inline, a redirect made every route's action 100 bytes.
        indirect case redirect(Redirect)
        /// A route whose backends are all invalid: Envoy answers this status itself.
        case directResponse(status: Int)
    }

    /// A route's fields, in one shared box (`CopyOnWrite`): a route is copied from the
    /// translator's memo into its virtual host on every translation, and copying ~20 references
    /// inline was most of the per-Gateway pass at 10000 routes. Encoded as the route itself.
    struct Fields: Sendable, Hashable, Codable {
        var name: String
        var path: PathMatch
        var headers: [ValueMatch]
        var queryParams: [ValueMatch]
        var method: String?
        var action: Action
        var requestHeaders = HeaderMutation()
        var responseHeaders = HeaderMutation()
        var rewrite: Rewrite? {
            get { rewriteBox?.wrappedValue }
            set { rewriteBox = newValue.map { OutOfLine(wrappedValue: $0) } }
        }
        /// Out of line when there is one, as `retry` is.
        private var rewriteBox: OutOfLine<Rewrite>?
        var timeout: Duration?
        var retry: RetryPolicy? {
            get { retryBox?.wrappedValue }
            set { retryBox = newValue.map { OutOfLine(wrappedValue: $0) } }
        }
        /// Out of line when there is one: most routes have no retry policy of their own, and
        /// inline it was 112 of a route's 450 bytes.
        private var retryBox: OutOfLine<RetryPolicy>?
        var allowsWebSocket = true
        @OutOfLine var policy: RoutePolicy
        var metadata: ResourceMetadata?

        enum CodingKeys: String, CodingKey {
            case name, path, headers, queryParams, method, action, requestHeaders, responseHeaders, timeout
            case rewriteBox = "rewrite"
            case retryBox = "retry"
            case allowsWebSocket, policy, metadata
        }

        init(
            name: String, path: PathMatch, headers: [ValueMatch], queryParams: [ValueMatch], method: String?,
            action: Action
        ) {
            self.name = name
            self.path = path
            self.headers = headers
            self.queryParams = queryParams
            self.method = method
            self.action = action
            _policy = Route.noPolicy
        }
    }

    private var fields: CopyOnWrite<Fields>

    /// `<kind>/<ns>/<name>/rule/<i>/match/<j>/<hostname, dots as underscores>`.
    public var name: String {
        get { fields.value.name }
        _modify { yield &fields.value.name }
    }
    public var path: PathMatch {
        get { fields.value.path }
        _modify { yield &fields.value.path }
    }
    public var headers: [ValueMatch] {
        get { fields.value.headers }
        _modify { yield &fields.value.headers }
    }
    public var queryParams: [ValueMatch] {
        get { fields.value.queryParams }
        _modify { yield &fields.value.queryParams }
    }
    public var method: String? {
        get { fields.value.method }
        _modify { yield &fields.value.method }
    }
    public var action: Action {
        get { fields.value.action }
        _modify { yield &fields.value.action }
    }
    public var requestHeaders: HeaderMutation {
        get { fields.value.requestHeaders }
        _modify { yield &fields.value.requestHeaders }
    }
    public var responseHeaders: HeaderMutation {
        get { fields.value.responseHeaders }
        _modify { yield &fields.value.responseHeaders }
    }
    public var rewrite: Rewrite? {
        get { fields.value.rewrite }
        _modify { yield &fields.value.rewrite }
    }
    /// The whole request's deadline, from the client's request to the upstream's last byte.
    public var timeout: Duration? {
        get { fields.value.timeout }
        _modify { yield &fields.value.timeout }
    }
    public var retry: RetryPolicy? {
        get { fields.value.retry }
        _modify { yield &fields.value.retry }
    }
    /// Whether WebSocket upgrades pass (HTTP/1 routes); gRPC routes have none.
    public var allowsWebSocket: Bool {
        get { fields.value.allowsWebSocket }
        _modify { yield &fields.value.allowsWebSocket }
    }
    public var policy: RoutePolicy {
        get { fields.value.policy }
        _modify { yield &fields.value.policy }
    }
    /// The policy's box, to share one among equal policies (`OutOfLine`).
    public var sharedPolicy: OutOfLine<RoutePolicy> {
        get { fields.value.$policy }
        set { fields.value.$policy = newValue }
    }
    /// The route and rule it comes from.
    public var metadata: ResourceMetadata? {
        get { fields.value.metadata }
        _modify { yield &fields.value.metadata }
    }

    public init(
        name: String, path: PathMatch, headers: [ValueMatch] = [], queryParams: [ValueMatch] = [],
        method: String? = nil,
        action: Action
    ) {
        fields = CopyOnWrite(
            Fields(name: name, path: path, headers: headers, queryParams: queryParams, method: method, action: action))
    }

    public init(from decoder: any Decoder) throws { fields = CopyOnWrite(try Fields(from: decoder)) }

    public func encode(to encoder: any Encoder) throws { try fields.value.encode(to: encoder) }

    /// One box for every route without a policy of its own.
    private static let noPolicy = OutOfLine(wrappedValue: RoutePolicy())
}
