import GRPCCore
import GRPCNIOTransportHTTP2
import X509

/// With mTLS, an Envoy may fetch only the Gateway its client certificate names, so one tenant
/// cannot read another's configuration: a URI SAN ending in `/ns/<namespace>/gateway/<name>`
/// (SPIFFE style: `spiffe://<trust-domain>/ns/<namespace>/gateway/<name>`).
enum NodeAuthorization {
    @Sendable static func check(_ context: ServerContext, nodeGroup: String) -> String? {
        guard let posix = context.transportSpecific as? HTTP2ServerTransport.Posix.Context, let certificate = posix.peerCertificate
        else { return "no client certificate: node authorization needs mTLS" }
        let suffix = "/ns/" + nodeGroup.split(separator: "/", maxSplits: 1).joined(separator: "/gateway/")
        let names = (try? certificate.extensions.subjectAlternativeNames) ?? nil
        var uris: [String] = []
        for name in names ?? SubjectAlternativeNames([]) {
            if case .uniformResourceIdentifier(let uri) = name { uris.append(uri) }
        }
        if uris.contains(where: { $0.hasSuffix(suffix) }) { return nil }
        return "the client certificate (URI SANs: \(uris.isEmpty ? "none" : uris.joined(separator: ", "))) does not name gateway \(nodeGroup): "
            + "it needs a URI SAN ending in \(suffix)"
    }
}
