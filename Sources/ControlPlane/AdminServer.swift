import AdminAPI
import CanonicalText
import Crypto
import Explain
import FoundationEssentials
import GatewayTranslator
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOSSL
import XDSCache
import XDSServer
import XDSTranslator

/// How the admin server is protected. It shows the whole translated configuration
/// (`/debug/snapshot`) and every Envoy's state, so beyond loopback it needs a token.
public struct AdminSecurity: Sendable {
    /// Requests other than `/healthz` and `/readyz` must carry `Authorization: Bearer <token>`.
    public var token: String?
    /// Serve HTTPS with this certificate chain and key (PEM files).
    public var certificateChainPath: String?
    public var privateKeyPath: String?

    public init(token: String? = nil, certificateChainPath: String? = nil, privateKeyPath: String? = nil) {
        self.token = token
        self.certificateChainPath = certificateChainPath
        self.privateKeyPath = privateKeyPath
    }

    /// Reads a token file: its content without surrounding whitespace, which must not be empty.
    public static func token(fromFile path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ControlPlaneError(
                .adminCredentials, "cannot read the admin token file \(path) (check the path and its permissions)")
        }
        let text = String(decoding: data, as: UTF8.self)
        let token = String(text.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
        guard !token.isEmpty, !token.contains(where: \.isWhitespace) else {
            throw ControlPlaneError(
                .adminCredentials, "the admin token file \(path) must hold one token, without spaces")
        }
        return token
    }

    /// Whether `host` is only reachable from this machine.
    public static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }
}

/// Answers 401 unless the request carries the bearer token; health probes pass without it.
struct BearerTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let expected: SHA256.Digest
    static var open: Set<String> { ["/healthz", "/readyz"] }

    init(token: String) {
        expected = SHA256.hash(data: Data(token.utf8))
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        if Self.open.contains(request.uri.path) { return try await next(request, context) }
        let header = request.headers[.authorization] ?? ""
        let prefix = "Bearer "
        // Digests compared in constant time, so the comparison does not leak the token.
        if header.hasPrefix(prefix), SHA256.hash(data: Data(header.dropFirst(prefix.count).utf8)) == expected {
            return try await next(request, context)
        }
        var response = AdminServer.text(
            "a bearer token is required (switchboard status --admin-token-file FILE)\n", status: .unauthorized)
        response.headers[.wwwAuthenticate] = "Bearer"
        return response
    }
}

/// The admin HTTP server (`--admin-address`, loopback by default): the dashboard at `/`,
/// `/healthz`, `/readyz` (once the first snapshot is built), `/metrics` (Prometheus text,
/// rendered by the caller), `/status` (JSON), `/debug/explain?route=…` (what `explain` prints)
/// and `/debug/snapshot?gateway=NS/NAME` (resources as `translate` prints them).
public enum AdminServer {
    public static func application(
        host: String, port: Int, security: AdminSecurity = AdminSecurity(), reloader: ConfigReloader,
        cache: SnapshotCache,
        registry: StreamRegistry, metrics: @escaping @Sendable () -> String, logger: Logger
    ) throws -> some ApplicationProtocol {
        let router = Router()
        if let token = security.token { router.add(middleware: BearerTokenMiddleware(token: token)) }
        router.get("/healthz") { _, _ in "ok\n" }
        router.get("/readyz") { _, _ -> Response in
            if let problem = notReady(reloader, cache: cache) {
                return text(problem + "\n", status: .serviceUnavailable)
            }
            return text("ready\n", status: .ok)
        }
        router.get("/metrics") { _, _ -> Response in
            var response = text(metrics(), status: .ok)
            response.headers[.contentType] = "text/plain; version=0.0.4"
            return response
        }
        router.get("/status") { _, _ -> Response in
            let data = try encoder.encode(status(reloader: reloader, cache: cache, registry: registry))
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
        router.get("/") { _, _ -> Response in
            Response(
                status: .ok,
                headers: [
                    .contentType: "text/html; charset=utf-8",
                    // The page's own inline script and style, and fetches back to this server: nothing else.
                    .contentSecurityPolicy:
                        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:",
                ],
                body: .init(byteBuffer: ByteBuffer(string: Dashboard.page)))
        }
        router.get("/debug/explain") { request, _ -> Response in
            let query = request.uri.queryParameters
            guard let explainer = reloader.explainer() else {
                return text("no configuration loaded yet\n", status: .serviceUnavailable)
            }
            let explanations: [Explanation]
            do {
                let gateway = query.get("gateway")
                if let route = query.get("route") {
                    explanations = try explainer.explain(Explainer.RuleReference(parsing: route), gateway: gateway)
                } else if let request = query.get("request") {
                    explanations = try explainer.explain(ExplainRequest(parsing: request), gateway: gateway)
                } else {
                    return text(
                        "give ?route=httproute/NAMESPACE/NAME[/rule/INDEX] or ?request=GET%20http://host/path\n",
                        status: .badRequest)
                }
            } catch {
                return text("\(error)\n", status: .notFound)
            }
            if query.get("format") == "json" {
                return Response(
                    status: .ok, headers: [.contentType: "application/json"],
                    body: .init(byteBuffer: ByteBuffer(string: try Explanation.json(explanations))))
            }
            return text(explanations.map(\.text).joined(separator: "\n\n") + "\n", status: .ok)
        }
        router.get("/debug/served") { _, _ -> Response in
            // What `switchboard diff --admin-address` compares a new configuration with.
            var snapshots: [String: Snapshot] = [:]
            for group in cache.nodeGroups where group != ResourceType.rateLimitServiceNode {
                snapshots[group] = cache.snapshot(for: group)
            }
            let last = reloader.lastResult
            let body = try ConfigDiff.document(
                snapshots, status: last?.status ?? StatusReport(), diagnostics: last?.diagnostics ?? [])
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        router.get("/debug/snapshot") { request, _ -> Response in
            let groups = cache.nodeGroups
            let gateways = groups.filter { $0 != ResourceType.rateLimitServiceNode }
            let gateway = request.uri.queryParameters.get("gateway") ?? (gateways.count == 1 ? gateways[0] : "")
            guard let snapshot = cache.snapshot(for: gateway) else {
                return text(
                    "unknown gateway \"\(gateway)\"; serving: \(groups.joined(separator: ", "))\n", status: .notFound)
            }
            if gateway == ResourceType.rateLimitServiceNode {
                // What envoyproxy/ratelimit is served: every Gateway's rate limit configurations.
                let json = "{" + (try SnapshotJSON.rateLimitConfigs(snapshot) ?? "\"rateLimitConfigs\":[]") + "}"
                return text(try CanonicalText.yaml(json), status: .ok)
            }
            let report = reloader.lastResult?.status.filtered(toGateway: gateway)
            return text(try Translation.render(snapshot, status: report, as: .yaml), status: .ok)
        }
        var server: HTTPServerBuilder = .http1()
        if let chain = security.certificateChainPath, let key = security.privateKeyPath {
            let configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMFile(chain).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)))
            server = try .tls(.http1(), tlsConfiguration: configuration)
        }
        return Application(
            router: router, server: server,
            configuration: .init(address: .hostname(host, port: port), serverName: "switchboard"), logger: logger)
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()

    static func text(_ body: String, status: HTTPResponse.Status) -> Response {
        Response(
            status: status, headers: [.contentType: "text/plain; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    /// Ready once something is served, or the last load succeeded (even with no Gateway in it),
    /// and while every configuration path is watched: a replica that cannot see edits serves
    /// stale configuration, so it leaves the load balancer until it can. Nil when ready, else why not.
    static func notReady(_ reloader: ConfigReloader, cache: SnapshotCache) -> String? {
        let unwatched = reloader.unwatched
        if !unwatched.isEmpty { return "not watching the configuration: " + unwatched.joined(separator: "; ") }
        if cache.nodeGroups.isEmpty && reloader.lastResult.map({ $0.outcome != .failed }) != true {
            return "no configuration loaded yet"
        }
        return nil
    }

    public static func status(reloader: ConfigReloader, cache: SnapshotCache, registry: StreamRegistry) -> AdminStatus {
        let result = reloader.lastResult
        var resources: JSONValue?
        if let report = result?.status, let data = try? JSONEncoder().encode(report) {
            resources = try? JSONDecoder().decode(JSONValue.self, from: data)
        }
        let envoys = registry.streams.sorted { ($0.nodeGroup, $0.nodeID, $0.id) < ($1.nodeGroup, $1.nodeID, $1.id) }.map
        { record in
            AdminStatus.Envoy(
                nodeID: record.nodeID, nodeCluster: record.nodeGroup, stream: record.kind.rawValue,
                connectedSince: record.connectedSince,
                types: Dictionary(
                    uniqueKeysWithValues: record.types.map { type, status in
                        (
                            type.description,
                            AdminStatus.TypeState(
                                sent: status.lastSentVersion, acked: status.lastAckedVersion,
                                nackVersion: status.lastNack?.version,
                                nackMessage: status.lastNack?.error.message)
                        )
                    }))
        }
        return AdminStatus(
            ready: notReady(reloader, cache: cache) == nil, unwatched: reloader.unwatched,
            reload: result.map {
                AdminStatus.Reload(
                    outcome: $0.outcome.rawValue, at: $0.at, diagnostics: $0.diagnostics.map(\.description),
                    lastKnownGood: $0.heldBack, error: $0.error?.message)
            }, resources: resources, envoys: envoys)
    }
}
