import AsyncHTTPClient
import FoundationEssentials

/// GET from a running server's admin address, for the commands that ask it (status, health,
/// diff). AsyncHTTPClient rather than URLSession: FoundationNetworking links libcurl and its TLS
/// and LDAP libraries into every switchboard process, serve too (about 5 MiB resident).
public enum AdminClient {
    /// The most an answer may hold: `/debug/served` of a large configuration is tens of MB.
    static let maxAnswerBytes = 1 << 30

    /// The answer's status and body; throws when the server does not answer within `timeout`
    /// seconds. HTTPS trusts the system's certificate authorities.
    public static func get(_ url: String, timeout: Double, token: String?) async throws -> (status: Int, body: Data) {
        var request = HTTPClientRequest(url: url)
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        let response = try await HTTPClient.shared.execute(request, timeout: .milliseconds(Int64(timeout * 1000)))
        let body = try await response.body.collect(upTo: maxAnswerBytes)
        return (Int(response.status.code), Data(body.readableBytesView))
    }
}
