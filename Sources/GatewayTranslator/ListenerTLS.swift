import FoundationEssentials
import GatewayAPI
import GatewayIR
import TLSCertificates

/// A listener's `tls` as Envoy Gateway judges it: the mode its protocol allows, and the
/// certificates it presents, resolved from Secrets (a ReferenceGrant for another namespace) and
/// checked as Envoy will load them. Bad certificates are left out, and the listener serves with
/// the others (`PartiallyInvalidCertificateRef`); with none left it is not programmed.
struct ListenerTLS: Equatable {
    /// The certificates to present, in the order the listener lists them.
    var secrets: [TLSSecret] = []
    /// The DNS names of those certificates, for the overlap check between listeners on a port.
    var domains: [String] = []
    /// Certificates that are valid but expire soon, for warnings: secret name → expiry.
    var expiries: [(secret: String, notAfter: Date)] = []
    /// The conditions it adds, in Envoy Gateway's order.
    var conditions: [Condition] = []

    /// Whether the listener can be served: no condition other than a partial certificate problem.
    var isValid: Bool {
        !conditions.contains { !$0.isTrue && $0.reason != Self.partiallyInvalid }
    }

    static let partiallyInvalid = "PartiallyInvalidCertificateRef"

    static func assess(_ listener: Gateway.Listener, gateway: Gateway, resources: ResourceSet, now: Date?) -> Self {
        var result = ListenerTLS()
        let proto = listener.protocol.rawValue
        switch listener.protocol {
        case .http, .tcp, .udp:
            if listener.tls != nil {
                result.conditions.append(.notProgrammed("Listener must not have TLS set when protocol is \(proto)."))
            }
        case .https:
            guard let tls = listener.tls else {
                result.conditions.append(.notProgrammed("Listener must have TLS set when protocol is \(proto)."))
                break
            }
            if let mode = tls.mode, mode != .terminate {
                result.conditions.append(
                    Condition(
                        .programmed, false, reason: "UnsupportedTLSMode",
                        "TLS \(mode.rawValue) mode is not supported, TLS mode must be Terminate."))
                break
            }
            result.resolve(tls.certificateRefs, gateway: gateway, resources: resources, now: now)
        case .tls:
            guard let tls = listener.tls else {
                result.conditions.append(.notProgrammed("Listener must have TLS set when protocol is \(proto)."))
                break
            }
            if tls.mode == .passthrough && !tls.certificateRefs.isEmpty {
                result.conditions.append(
                    .notProgrammed("Listener must not have TLS certificate refs set for TLS mode Passthrough."))
            }
            // The CRD defaults the mode to Terminate, as the API server would have written it.
            if (tls.mode ?? .terminate) == .terminate {
                if tls.certificateRefs.isEmpty {
                    result.conditions.append(
                        .notProgrammed("Listener must have TLS certificate refs set for TLS mode Terminate."))
                } else {
                    result.resolve(tls.certificateRefs, gateway: gateway, resources: resources, now: now)
                }
            }
        }
        return result
    }

    private mutating func resolve(
        _ refs: [Gateway.TLS.CertificateRef], gateway: Gateway, resources: ResourceSet, now: Date?
    ) {
        guard !refs.isEmpty else {
            conditions.append(.notProgrammed("Listener must have at least 1 TLS certificate ref"))
            return
        }
        var problems: [(reason: String, message: String)] = []
        var found: [Secret] = []
        for (index, ref) in refs.enumerated() {
            let prefix = "certificate refs \(index): "
            if let group = ref.group, !group.isEmpty {
                problems.append(
                    (
                        "InvalidCertificateRef",
                        prefix + "Listener's TLS certificate ref group must be unspecified/empty."
                    ))
                continue
            }
            if let kind = ref.kind, kind != "Secret" {
                problems.append(
                    ("InvalidCertificateRef", prefix + "Listener's TLS certificate ref kind must be Secret."))
                continue
            }
            var namespace = gateway.namespace
            if let other = ref.namespace, !other.isEmpty, other != gateway.namespace {
                let permitted = resources.referenceGrants.permit(
                    fromGroup: RouteGroupKind.gatewayAPIGroup, fromKind: "Gateway", fromNamespace: gateway.namespace,
                    toGroup: "", toKind: "Secret", toNamespace: other, name: ref.name)
                guard permitted else {
                    problems.append(
                        (
                            "RefNotPermitted",
                            prefix
                                + "Certificate ref to secret \(other)/\(ref.name) not permitted by any ReferenceGrant."
                        ))
                    continue
                }
                namespace = other
            }
            guard let secret = resources.secrets["\(namespace)/\(ref.name)"] else {
                problems.append(
                    ("InvalidCertificateRef", prefix + "Secret \(namespace)/\(ref.name) does not exist."))
                continue
            }
            guard secret.type == Secret.tlsType else {
                problems.append(
                    (
                        "InvalidCertificateRef",
                        prefix + "Secret \(namespace)/\(ref.name) must be of type \(Secret.tlsType)."
                    ))
                continue
            }
            guard secret.data[Secret.certificateKey]?.isEmpty == false,
                secret.data[Secret.privateKeyKey]?.isEmpty == false
            else {
                problems.append(
                    (
                        "InvalidCertificateRef",
                        prefix + "Secret \(namespace)/\(ref.name) must contain tls.crt and tls.key."
                    ))
                continue
            }
            found.append(secret)
        }
        guard !found.isEmpty else {
            let reason =
                problems.allSatisfy { $0.reason == "RefNotPermitted" } ? "RefNotPermitted" : "InvalidCertificateRef"
            conditions.append(
                .unresolvedRefs(reason, "No valid secrets exist: " + problems.map(\.message).joined(separator: "\n")))
            return
        }

        // Each certificate is checked as Envoy will load it; two certificates of one key type
        // for one name would leave Envoy no way to choose.
        var parseProblems: [String] = []
        var algorithmByDomain: Set<String> = []
        for secret in found {
            let name = "\(secret.namespace)/\(secret.name)"
            let certificate: ServingCertificate
            do {
                certificate = try ServingCertificate.check(
                    certificate: secret.data[Secret.certificateKey]!, key: secret.data[Secret.privateKeyKey]!, now: now)
            } catch {
                parseProblems.append("\(name) \(error.message)")
                continue
            }
            var seen = Set<String>()
            var clash: String?
            for domain in certificate.domains where seen.insert(domain).inserted {
                if !algorithmByDomain.insert("\(certificate.keyAlgorithm)/\(domain)").inserted {
                    clash = domain
                    break
                }
            }
            if let clash {
                parseProblems.append(
                    "\(name) public key algorithm must be unique, certificate domain \(clash) has a conflicting"
                        + " algorithm [\(certificate.keyAlgorithm)]")
                continue
            }
            // One SDS secret per Secret: listing it twice presents it once.
            if !secrets.contains(where: { $0.name == name }) {
                secrets.append(
                    TLSSecret(name: name, certificateChain: certificate.chainPEM, privateKey: certificate.privateKeyPEM)
                )
            }
            domains += certificate.dnsNames
            expiries.append((name, certificate.notAfter))
        }
        if secrets.isEmpty {
            conditions.append(
                .unresolvedRefs(
                    "InvalidCertificateRef", "No valid secrets exist: \(parseProblems.joined(separator: "\n"))."))
            return
        }
        let all = problems.map(\.message) + parseProblems
        if !all.isEmpty {
            conditions.append(
                .unresolvedRefs(Self.partiallyInvalid, "Some secrets are invalid: " + all.joined(separator: "\n")))
        }
    }
}

extension ListenerTLS {
    static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.secrets == rhs.secrets && lhs.domains == rhs.domains && lhs.conditions == rhs.conditions
            && lhs.expiries.elementsEqual(rhs.expiries) { $0.secret == $1.secret && $0.notAfter == $1.notAfter }
    }
}
