import FoundationEssentials
import GatewayIR
import GatewayTranslator
import RegexEngine

/// A request to explain: `switchboard explain --request 'GET https://host/path' --header K=V`.
public struct ExplainRequest: Sendable, Equatable, CustomStringConvertible {
    public var method: String
    public var scheme: String
    /// Lowercased, without the port (Envoy matches virtual hosts ignoring the port).
    public var host: String
    public var port: Int
    public var path: String
    public var query: [(name: String, value: String)]
    /// Names lowercased.
    public var headers: [(name: String, value: String)]

    public static func == (a: Self, b: Self) -> Bool { a.description == b.description }

    /// `text` is `[METHOD] URL`; each header `Name=Value` (or `Name: Value`).
    public init(parsing text: String, headers: [String] = []) throws(ExplainError) {
        let words = text.split(whereSeparator: \.isWhitespace).map(String.init)
        guard words.count == 1 || words.count == 2 else {
            throw .badRequest(text, why: "it has \(words.count) words")
        }
        method = words.count == 2 ? words[0].uppercased() : "GET"
        guard let url = URLComponents(string: words.last!), let scheme = url.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = url.host, !host.isEmpty
        else { throw .badRequest(text, why: "the URL needs http:// or https:// and a host") }
        self.scheme = scheme
        self.host = host.lowercased()
        port = url.port ?? (scheme == "https" ? 443 : 80)
        path = url.percentEncodedPath.isEmpty ? "/" : url.percentEncodedPath
        query = (url.queryItems ?? []).map { ($0.name, $0.value ?? "") }
        var parsed: [(name: String, value: String)] = []
        for header in headers {
            guard let split = header.firstIndex(where: { $0 == "=" || $0 == ":" }), split != header.startIndex else {
                throw .badRequest(text, why: "header \"\(header)\" is not Name=Value")
            }
            parsed.append(
                (
                    Self.trimmed(header[..<split]).lowercased(),
                    Self.trimmed(header[header.index(after: split)...])
                ))
        }
        self.headers = parsed
    }

    /// `text` without the spaces and tabs around it.
    static func trimmed(_ text: Substring) -> String {
        String(text.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }

    public var description: String {
        let defaultPort = scheme == "https" ? 443 : 80
        var text = "\(method) \(scheme)://\(host)\(port == defaultPort ? "" : ":\(port)")\(path)"
        if !query.isEmpty { text += "?" + query.map { "\($0.name)=\($0.value)" }.joined(separator: "&") }
        for header in headers { text += " \(header.name)=\(header.value)" }
        return text
    }

    /// A header's value as Envoy's route matchers see it: pseudo-headers included.
    func header(_ name: String) -> String? {
        switch name.lowercased() {
        case ":method": method
        case ":path": path + (query.isEmpty ? "" : "?" + query.map { "\($0.name)=\($0.value)" }.joined(separator: "&"))
        case ":authority", "host": host
        case ":scheme": scheme
        case let other: headers.first { $0.name == other }?.value
        }
    }
}

/// Envoy's choices for a request, over the IR: listener by port (and TLS by scheme), virtual
/// host by domain (exact, then the longest wildcard suffix, then `*`), then the first route
/// whose path, headers, query parameters and method all match.
enum RequestMatcher {
    /// A request's port is the Gateway's or the one Envoy binds for it.
    static func listens(_ listener: HTTPListener, on port: Int, scheme: String) -> Bool {
        (listener.port == port || listener.port == GatewayTranslator.envoyPort(port))
            && (listener.tls != nil) == (scheme == "https")
    }

    static func virtualHost(of listener: HTTPListener, for host: String) -> VirtualHost? {
        if let exact = listener.virtualHosts.first(where: { $0.domains.contains { $0.lowercased() == host } }) {
            return exact
        }
        var best: (length: Int, host: VirtualHost)?
        for virtualHost in listener.virtualHosts {
            for domain in virtualHost.domains where domain.hasPrefix("*") && domain != "*" {
                let suffix = domain.dropFirst().lowercased()
                // A wildcard covers at least one character before its suffix.
                if host.count > suffix.count, host.hasSuffix(suffix), suffix.count > best?.length ?? -1 {
                    best = (suffix.count, virtualHost)
                }
            }
        }
        if let best { return best.host }
        return listener.virtualHosts.first { $0.domains.contains("*") }
    }

    static func matches(_ route: Route, _ request: ExplainRequest) -> Bool {
        switch route.path {
        case .exact(let path):
            guard request.path == path else { return false }
        case .prefix(let prefix):
            // Gateway API prefixes match whole segments (Envoy's path_separated_prefix).
            let trimmed = prefix.count > 1 && prefix.hasSuffix("/") ? String(prefix.dropLast()) : prefix
            guard trimmed == "/" || request.path == trimmed || request.path.hasPrefix(trimmed + "/") else {
                return false
            }
        case .regularExpression(let pattern):
            guard RE2.fullMatch(pattern, request.path) == true else { return false }
        }
        if let method = route.method, method.uppercased() != request.method { return false }
        for header in route.headers {
            guard let value = request.header(header.name), matches(header, value) else { return false }
        }
        for param in route.queryParams {
            guard let value = request.query.first(where: { $0.name == param.name })?.value, matches(param, value) else {
                return false
            }
        }
        return true
    }

    static func matches(_ match: Route.ValueMatch, _ value: String) -> Bool {
        switch match.kind {
        case .exact: value == match.value
        case .regularExpression: RE2.fullMatch(match.value, value) == true
        case .suffix: value.hasSuffix(match.value)
        }
    }
}
