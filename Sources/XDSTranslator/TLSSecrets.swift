import EnvoyAPI
import FoundationEssentials
import GatewayIR
import SwiftProtobuf

/// Certificates as SDS `Secret` resources, and the references to them: every certificate is
/// served on the ADS stream, never inlined in a listener or cluster.
enum TLSSecrets {
    static func secret(_ ir: TLSSecret) -> Envoy_Extensions_TransportSockets_Tls_V3_Secret {
        var secret = Envoy_Extensions_TransportSockets_Tls_V3_Secret()
        secret.name = ir.name
        var certificate = Envoy_Extensions_TransportSockets_Tls_V3_TlsCertificate()
        certificate.certificateChain.inlineBytes = Data(ir.certificateChain.utf8)
        certificate.privateKey.inlineBytes = Data(ir.privateKey.utf8)
        secret.tlsCertificate = certificate
        return secret
    }

    /// A reference to a secret on the ADS stream; Envoy waits for it however long it takes
    /// (Envoy Gateway's zero initial fetch timeout).
    static func sdsConfig(_ name: String) -> Envoy_Extensions_TransportSockets_Tls_V3_SdsSecretConfig {
        var config = Envoy_Extensions_TransportSockets_Tls_V3_SdsSecretConfig()
        config.name = name
        config.sdsConfig = .adsV3
        config.sdsConfig.initialFetchTimeout = Google_Protobuf_Duration(seconds: 0)
        return config
    }
}
