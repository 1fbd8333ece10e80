import EnvoyAPI
import FoundationEssentials
import GatewayIR
import SwiftProtobuf

/// EndpointGroup.tls → a TLS transport socket per backendRef that speaks TLS, chosen by the
/// endpoints' `envoy.transport_socket_match` metadata (`<cluster>/tls/<i>`), as Envoy Gateway
/// writes it. The CA bundle comes over SDS. When every backendRef of an HTTP cluster speaks TLS,
/// the cluster negotiates HTTP/2 or HTTP/1.1 by ALPN (HTTPProtocolOptions), which needs a TLS
/// socket at cluster level too: an empty placeholder, since the matches take precedence.
enum UpstreamTLSSockets: ClusterFeature {
    static let matchKey = "envoy.transport_socket_match"

    static func apply(_ backend: BackendCluster, to cluster: inout EnvoyCluster) throws {
        guard backend.groups.contains(where: { $0.tls != nil }) else { return }
        let autoSNI = requiresAutoSNI(backend)
        for (index, group) in backend.groups.enumerated() {
            guard let tls = group.tls else { continue }
            var socket = try tlsSocket(tls, autoSNI: autoSNI)
            if let version = backend.policy.proxyProtocol {
                socket = try ProxyProtocol.proxyProtocolSocket(version: version, around: socket)
            }
            var match = Envoy_Config_Cluster_V3_Cluster.TransportSocketMatch()
            match.name = matchName(backend, index)
            match.match = Google_Protobuf_Struct(fields: ["name": Google_Protobuf_Value(stringValue: match.name)])
            match.transportSocket = socket
            cluster.transportSocketMatches.append(match)
        }
        if negotiatesHTTP(backend) && !cluster.hasTransportSocket { cluster.transportSocket = try placeholderSocket() }
    }

    /// An empty TLS socket: what Envoy requires at cluster level to negotiate HTTP by ALPN; the
    /// matched sockets are the ones used.
    static func placeholderSocket() throws -> Envoy_Config_Core_V3_TransportSocket {
        var placeholder = Envoy_Config_Core_V3_TransportSocket()
        placeholder.name = "dummy.transport_socket"
        var empty = Envoy_Extensions_TransportSockets_Tls_V3_UpstreamTlsContext()
        empty.commonTlsContext = Envoy_Extensions_TransportSockets_Tls_V3_CommonTlsContext()
        placeholder.typedConfig = try .deterministic(empty)
        return placeholder
    }

    /// `<cluster>/tls/<i>`: the match name of backendRef `i`'s socket, also set on its endpoints.
    static func matchName(_ backend: BackendCluster, _ index: Int) -> String { "\(backend.name)/tls/\(index)" }

    /// Every backendRef of an HTTP cluster speaks TLS: HTTP/2 or HTTP/1.1 is chosen by ALPN.
    static func negotiatesHTTP(_ backend: BackendCluster) -> Bool {
        backend.upstreamProtocol == .http1 && !backend.groups.isEmpty && backend.groups.allSatisfy { $0.tls != nil }
    }

    /// With no SNI of its own anywhere, the request's Host is the SNI (and is checked in the
    /// certificate).
    static func requiresAutoSNI(_ backend: BackendCluster) -> Bool {
        negotiatesHTTP(backend) && !backend.groups.contains { $0.tls?.sni != nil }
    }

    static func tlsSocket(_ tls: UpstreamTLS, autoSNI: Bool) throws -> Envoy_Config_Core_V3_TransportSocket {
        var context = Envoy_Extensions_TransportSockets_Tls_V3_UpstreamTlsContext()
        context.commonTlsContext = Envoy_Extensions_TransportSockets_Tls_V3_CommonTlsContext()
        if !tls.insecureSkipVerify, let ca = tls.caCertificate {
            var combined =
                Envoy_Extensions_TransportSockets_Tls_V3_CommonTlsContext.CombinedCertificateValidationContext()
            combined.validationContextSdsSecretConfig = TLSSecrets.sdsConfig(ca)
            var validation = Envoy_Extensions_TransportSockets_Tls_V3_CertificateValidationContext()
            // The names asked for, else the SNI: a certificate for another name is refused.
            var names: [(Envoy_Extensions_TransportSockets_Tls_V3_SubjectAltNameMatcher.SanType, String)] =
                tls.subjectAltNames.compactMap { san in
                    if let uri = san.uri { return (.uri, uri) }
                    return san.hostname.map { (.dns, $0) }
                }
            if names.isEmpty, let sni = tls.sni { names = [(.dns, sni)] }
            validation.matchTypedSubjectAltNames = names.map { type, value in
                var matcher = Envoy_Extensions_TransportSockets_Tls_V3_SubjectAltNameMatcher()
                matcher.sanType = type
                matcher.matcher.exact = value
                return matcher
            }
            combined.defaultValidationContext = validation
            context.commonTlsContext.combinedValidationContext = combined
            if names.isEmpty && (tls.sni != nil || autoSNI) { context.autoSniSanValidation = true }
        }
        if let sni = tls.sni { context.sni = sni }
        context.commonTlsContext.tlsParams = tlsParameters(tls)
        if let alpn = tls.alpnProtocols { context.commonTlsContext.alpnProtocols = alpn }
        if let certificate = tls.clientCertificate {
            context.commonTlsContext.tlsCertificateSdsSecretConfigs = [TLSSecrets.sdsConfig(certificate)]
        }
        var socket = Envoy_Config_Core_V3_TransportSocket()
        socket.name = "envoy.transport_sockets.tls"
        socket.typedConfig = try .deterministic(context)
        return socket
    }

    /// Versions (Envoy's upstream default stops at TLS 1.2; Envoy Gateway asks for 1.3),
    /// ciphers, curves and signature algorithms.
    static func tlsParameters(_ tls: UpstreamTLS) -> Envoy_Extensions_TransportSockets_Tls_V3_TlsParameters {
        func version(_ text: String) -> Envoy_Extensions_TransportSockets_Tls_V3_TlsParameters.TlsProtocol {
            switch text {
            case "1.0": .tlsv10
            case "1.1": .tlsv11
            case "1.2": .tlsv12
            case "1.3": .tlsv13
            default: .tlsAuto
            }
        }
        var parameters = Envoy_Extensions_TransportSockets_Tls_V3_TlsParameters()
        parameters.tlsMinimumProtocolVersion = version(tls.minVersion)
        parameters.tlsMaximumProtocolVersion = version(tls.maxVersion)
        parameters.cipherSuites = tls.ciphers ?? []
        parameters.ecdhCurves = tls.ecdhCurves ?? []
        parameters.signatureAlgorithms = tls.signatureAlgorithms ?? []
        return parameters
    }

    /// The metadata that picks backendRef `index`'s socket for its endpoints.
    static func endpointMetadata(_ backend: BackendCluster, _ index: Int) -> Envoy_Config_Core_V3_Metadata? {
        guard backend.groups[index].tls != nil else { return nil }
        var metadata = Envoy_Config_Core_V3_Metadata()
        metadata.filterMetadata[matchKey] = Google_Protobuf_Struct(
            fields: ["name": Google_Protobuf_Value(stringValue: matchName(backend, index))])
        return metadata
    }
}

/// TrustBundle → an SDS secret with the CA certificates to check upstreams against.
enum TrustBundleSecrets {
    /// Where the system's trust store is on the Debian and Ubuntu images Envoy ships in.
    static let systemBundlePath = "/etc/ssl/certs/ca-certificates.crt"

    static func secret(_ bundle: TrustBundle) -> Envoy_Extensions_TransportSockets_Tls_V3_Secret {
        var secret = Envoy_Extensions_TransportSockets_Tls_V3_Secret()
        secret.name = bundle.name
        var validation = Envoy_Extensions_TransportSockets_Tls_V3_CertificateValidationContext()
        if let pem = bundle.pem {
            validation.trustedCa.inlineBytes = Data(pem.utf8)
        } else {
            validation.trustedCa.filename = systemBundlePath
        }
        secret.validationContext = validation
        return secret
    }
}
