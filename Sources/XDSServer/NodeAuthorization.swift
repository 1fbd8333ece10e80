import GRPCCore
import GRPCNIOTransportHTTP2
import X509

/// With mTLS, an Envoy may fetch only the Gateway its client certificate names, so one tenant
/// cannot read another's configuration. The certificate is a SPIFFE X.509-SVID: exactly one URI
/// SAN, `spiffe://<trust-domain>/ns/<namespace>/gateway/<name>`, and nothing else in that URI.
enum NodeAuthorization {
    @Sendable static func check(_ context: ServerContext, nodeGroup: String) -> String? {
        check(
            peer: (context.transportSpecific as? HTTP2ServerTransport.Posix.Context)?.peerCertificate,
            nodeGroup: nodeGroup)
    }

    /// Why the client with certificate `peer` may not fetch `nodeGroup`, or nil when it may.
    static func check(peer: Certificate?, nodeGroup: String) -> String? {
        guard let certificate = peer else { return "no client certificate: node authorization needs mTLS" }
        let names = (try? certificate.extensions.subjectAlternativeNames) ?? nil
        var uris: [String] = []
        for name in names ?? SubjectAlternativeNames([]) {
            if case .uniformResourceIdentifier(let uri) = name { uris.append(uri) }
        }
        return denial(uriSANs: uris, nodeGroup: nodeGroup)
    }

    /// Why a certificate with these URI SANs may not fetch `nodeGroup` (`<namespace>/<name>`), or
    /// nil when it may.
    static func denial(uriSANs uris: [String], nodeGroup: String) -> String? {
        let path = nodeGroup.split(separator: "/", maxSplits: 1).joined(separator: "/gateway/")
        let expected = "spiffe://<trust-domain>/ns/\(path)"
        guard uris.count == 1, let uri = uris.first else {
            // An X.509-SVID carries exactly one URI SAN (SPIFFE X.509-SVID §2); with several, the
            // certificate would name more than one identity, and which one counts would be a guess.
            let found = uris.isEmpty ? "none" : "\(uris.count): \(uris.joined(separator: ", "))"
            return "the client certificate must carry exactly one URI SAN, \(expected); it has \(found)"
        }
        guard let gateway = gateway(named: uri) else {
            return "the client certificate's URI SAN \(uri) is not of the form "
                + "spiffe://<trust-domain>/ns/<namespace>/gateway/<name>: issue one naming gateway \(nodeGroup), \(expected)"
        }
        if gateway == nodeGroup { return nil }
        return "the client certificate names gateway \(gateway) (\(uri)), not \(nodeGroup): "
            + "set the Envoy's node.cluster to \(gateway), or issue a certificate with \(expected)"
    }

    /// The gateway (`<namespace>/<name>`) a SPIFFE ID names, or nil unless `uri` is exactly
    /// `spiffe://<trust-domain>/ns/<namespace>/gateway/<name>`.
    ///
    /// Parsed as the SPIFFE ID spec defines it rather than with a URL parser, so there is no room for
    /// a lenient reading: the trust domain is `[a-z0-9._-]+` (so no userinfo, port or uppercase),
    /// each path segment is `[a-zA-Z0-9._-]+` and not `.` or `..` (so no query, fragment,
    /// percent-encoding or empty segment), and the path is exactly those four segments.
    static func gateway(named uri: String) -> String? {
        let scheme = "spiffe://"
        guard uri.utf8.count <= 2048, uri.hasPrefix(scheme) else { return nil }
        let parts = uri.dropFirst(scheme.count).split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 5, !parts[0].isEmpty, parts[0].utf8.allSatisfy(trustDomainBytes.contains)
        else { return nil }
        let segments = parts.dropFirst()
        for segment in segments {
            guard !segment.isEmpty, segment != ".", segment != "..", segment.utf8.allSatisfy(pathBytes.contains)
            else { return nil }
        }
        guard parts[1] == "ns", parts[3] == "gateway" else { return nil }
        return "\(parts[2])/\(parts[4])"
    }

    private static let trustDomainBytes = Set("abcdefghijklmnopqrstuvwxyz0123456789._-".utf8)
    private static let pathBytes = trustDomainBytes.union("ABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)
}
