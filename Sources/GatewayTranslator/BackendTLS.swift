import GatewayAPI
import GatewayIR
import TLSCertificates

/// BackendTLSPolicies and Backends' own `tls` → the TLS Envoy speaks to each backendRef, as
/// Envoy Gateway resolves it. A policy reaches Services and Backends in its own namespace only;
/// one naming the port (`sectionName`: a Service port's name, a Backend port's number) wins over
/// one that does not; among equals the oldest wins, then by namespace and name. A policy
/// overrides what a Backend's `tls` sets; the Backend keeps `insecureSkipVerify`.
struct BackendTLSIndex {
    /// What a backendRef is to be reached with, or why it cannot be: a route status message.
    struct Outcome {
        var tls: UpstreamTLS?
        /// `<ns>/<name>` of the policy that applies, whether or not it resolved.
        var policy: String?
        var problem: String?
    }

    let policies: [BackendTLSPolicy]
    private let configMaps: [String: [String: String]]
    private let secrets: [String: Secret]
    private let clusterTrustBundles: [String: String]
    /// Each policy's CA bundle, or what is wrong with its references, by `<ns>/<name>`.
    private(set) var policyBundles: [String: Result<TrustBundle, Problem>] = [:]
    /// Each Backend's own CA bundle (`tls.caCertificateRefs`), by `<ns>/<name>`.
    private var backendBundles: [String: Result<TrustBundle, Problem>] = [:]
    /// Every bundle by its SDS name; a policy's wins over a Backend's of the same name.
    private var bundlesByName: [String: TrustBundle] = [:]
    /// Each Backend's client certificate (`tls.clientCertificateRef`), or why it cannot be used.
    private var clientCertificates: [String: Result<TLSSecret, Problem>] = [:]

    init(_ resources: ResourceSet) {
        policies = resources.backendTLSPolicies.sorted {
            ($0.creationTimestamp, $0.namespace, $0.name) < ($1.creationTimestamp, $1.namespace, $1.name)
        }
        configMaps = resources.configMapData
        secrets = resources.secrets
        clusterTrustBundles = resources.clusterTrustBundles
        let system = TrustBundle(name: TrustBundle.systemName, pem: nil)
        for policy in policies {
            let bundle =
                policy.systemCertificates
                ? .success(system)
                : caBundle(policy.caCertificateRefs, namespace: policy.namespace).map {
                    TrustBundle(name: "\(policy.name)/\(policy.namespace)-ca", pem: $0)
                }
            policyBundles["\(policy.namespace)/\(policy.name)"] = bundle
            if case .success(let bundle) = bundle, bundlesByName[bundle.name] == nil {
                bundlesByName[bundle.name] = bundle
            }
        }
        for backend in resources.backends {
            guard let tls = backend.tls, tls.systemCertificates || !tls.caCertificateRefs.isEmpty else { continue }
            let bundle =
                tls.systemCertificates
                ? .success(system)
                : caBundle(tls.caCertificateRefs, namespace: backend.namespace).map {
                    TrustBundle(name: "\(backend.name)/\(backend.namespace)-ca", pem: $0)
                }
            backendBundles["\(backend.namespace)/\(backend.name)"] = bundle
            if case .success(let bundle) = bundle, bundlesByName[bundle.name] == nil {
                bundlesByName[bundle.name] = bundle
            }
        }
        for backend in resources.backends {
            guard let reference = backend.tls?.clientCertificate else { continue }
            clientCertificates["\(backend.namespace)/\(backend.name)"] = clientCertificate(
                reference, of: backend, secrets: resources.secrets)
        }
    }

    /// A Backend's client certificate, checked as Envoy will load it; Envoy Gateway's messages
    /// where it has one.
    private func clientCertificate(
        _ reference: (namespace: String?, name: String), of backend: Backend, secrets: [String: Secret]
    ) -> Result<TLSSecret, Problem> {
        let namespace = reference.namespace ?? backend.namespace
        guard namespace == backend.namespace else {
            return .failure(
                Problem(
                    message:
                        "ClientCertificateRef Secret is not located in the same namespace as Backend. Secret namespace: \(namespace) does not match Backend namespace: \(backend.namespace)"
                ))
        }
        let name = "\(namespace)/\(reference.name)"
        guard let secret = secrets[name], let chain = secret.data[Secret.certificateKey],
            let key = secret.data[Secret.privateKeyKey]
        else {
            return .failure(
                Problem(
                    message:
                        "failed to locate TLS secret for client auth: \(name) specified in Backend \(backend.namespace)/\(backend.name)"
                ))
        }
        do throws(CertificateProblem) {
            let certificate = try ServingCertificate.check(certificate: chain, key: key, now: nil)
            return .success(
                TLSSecret(name: name, certificateChain: certificate.chainPEM, privateKey: certificate.privateKeyPEM))
        } catch {
            return .failure(Problem(message: "client certificate \(name) \(error.message)"))
        }
    }

    /// The client certificates `clusters` present to their backends.
    func clientSecrets(for clusters: [BackendCluster]) -> [TLSSecret] {
        // Without client certificates there is nothing to find: no pass over every cluster.
        if clientCertificates.isEmpty { return [] }
        let names = Set(clusters.flatMap { $0.groups.compactMap { $0.tls?.clientCertificate } })
        var secrets: [String: TLSSecret] = [:]
        for case .success(let secret) in clientCertificates.values where names.contains(secret.name) {
            secrets[secret.name] = secret
        }
        return secrets.keys.sorted().map { secrets[$0]! }
    }

    /// The bundles `clusters` check upstream certificates against, by name.
    func bundles(for clusters: [BackendCluster]) -> [TrustBundle] {
        if bundlesByName.isEmpty { return [] }
        let names = Set(clusters.flatMap { $0.groups.compactMap { $0.tls?.caCertificate } })
        return names.sorted().compactMap { bundlesByName[$0] }
    }

    /// The policy for a Service port (`group` "", `section` its name) or a Backend port (its
    /// number), in `namespace`.
    func policy(namespace: String, group: String, kind: String, name: String, section: String?)
        -> BackendTLSPolicy?
    {
        func targets(_ policy: BackendTLSPolicy, exact: Bool) -> Bool {
            policy.namespace == namespace
                && policy.targetRefs.contains { ref in
                    ref.group == group && ref.kind == kind && ref.name == name
                        && (exact
                            ? section != nil && ref.sectionName == section
                            : ref.sectionName == nil || ref.sectionName == section)
                }
        }
        if section != nil, let exact = policies.first(where: { targets($0, exact: true) }) { return exact }
        return policies.first { targets($0, exact: false) }
    }

    /// The TLS for endpoints of `kind` `name` in `namespace` (port `section`); a Backend brings
    /// its own `tls`.
    func outcome(namespace: String, group: String, kind: String, name: String, section: String?, backend: Backend?)
        -> Outcome
    {
        let policy = self.policy(namespace: namespace, group: group, kind: kind, name: name, section: section)
        let key = policy.map { "\($0.namespace)/\($0.name)" }
        var outcome = Outcome(policy: key)
        var tls: UpstreamTLS?
        // The Backend's own settings first; a policy then overrides what it sets.
        if let backend, let settings = backend.tls {
            tls = UpstreamTLS(sni: settings.sni, caCertificate: nil, insecureSkipVerify: settings.insecureSkipVerify)
            if let version = settings.minVersion { tls?.minVersion = version }
            if let version = settings.maxVersion { tls?.maxVersion = version }
            tls?.ciphers = settings.ciphers.isEmpty ? nil : settings.ciphers
            tls?.ecdhCurves = settings.ecdhCurves.isEmpty ? nil : settings.ecdhCurves
            tls?.signatureAlgorithms = settings.signatureAlgorithms.isEmpty ? nil : settings.signatureAlgorithms
            tls?.alpnProtocols = settings.alpnProtocols
            if let problem = TLSParameterNames.cipherProblem(settings.ciphers)
                ?? TLSParameterNames.problem(
                    curves: settings.ecdhCurves, signatureAlgorithms: settings.signatureAlgorithms)
            {
                outcome.problem = "Backend \(backend.namespace)/\(backend.name) tls.\(problem)"
                return outcome
            }
            switch clientCertificates["\(backend.namespace)/\(backend.name)"] {
            case .success(let secret): tls?.clientCertificate = secret.name
            case .failure(let problem):
                outcome.problem = problem.message
                return outcome
            case nil: break
            }
            switch backendBundles["\(backend.namespace)/\(backend.name)"] {
            case .success(let bundle): tls?.caCertificate = bundle.name
            case .failure(let problem):
                outcome.problem = problem.message
                return outcome
            case nil: break
            }
        }
        if let policy, let key {
            var merged = tls ?? UpstreamTLS(caCertificate: nil)
            switch policyBundles[key] {
            case .success(let bundle): merged.caCertificate = bundle.name
            case .failure(let problem):
                outcome.problem = problem.message
                return outcome
            case nil: break
            }
            merged.sni = policy.hostname
            merged.subjectAltNames = policy.subjectAltNames.map {
                switch $0 {
                case .hostname(let hostname): UpstreamTLS.SubjectAltName(hostname: hostname)
                case .uri(let uri): UpstreamTLS.SubjectAltName(uri: uri)
                }
            }
            tls = merged
        }
        if let checked = tls, !checked.insecureSkipVerify, checked.caCertificate == nil {
            outcome.problem = "CACertificate must be specified when InsecureSkipVerify is false"
            return outcome
        }
        outcome.tls = tls
        return outcome
    }

    struct Problem: Error {
        /// The policy's `ResolvedRefs` reason: `InvalidKind` when no ref is of a kind that holds
        /// CA certificates.
        var reason = "InvalidCACertificateRef"
        var message: String
    }

    /// The CA bundle of `refs` (ConfigMaps and Secrets in `namespace`), joined in order; the
    /// first ref that does not resolve is the problem, in Envoy Gateway's words.
    func caBundle(_ refs: [BackendTLSPolicy.CAReference], namespace: String) -> Result<String, Problem> {
        var bundle: [String] = []
        var supported = false
        for ref in refs {
            let key = "\(namespace)/\(ref.name)"
            let what: String
            let data: [String: String]
            switch ref.kind {
            case "ConfigMap":
                guard let values = configMaps[key] else {
                    return .failure(Problem(message: "configmap \(ref.name) not found in namespace \(namespace)"))
                }
                (what, data) = ("configmap", values)
            case "Secret":
                guard let secret = secrets[key] else {
                    return .failure(Problem(message: "secret \(ref.name) not found in namespace \(namespace)"))
                }
                (what, data) = ("secret", secret.data.mapValues { String(decoding: $0, as: UTF8.self) })
            case "ClusterTrustBundle":
                guard let pem = clusterTrustBundles[ref.name] else {
                    return .failure(Problem(message: "cluster trust bundle \(ref.name) not found"))
                }
                (what, data) = ("cluster trust bundle", ["ca.crt": pem])
            default:
                continue
            }
            supported = true
            // ca.crt, else tls.crt, else the only key there is (Envoy Gateway's order).
            guard let pem = data["ca.crt"] ?? data["tls.crt"] ?? (data.count == 1 ? data.values.first : nil) else {
                return .failure(Problem(message: "no ca found in \(what) \(ref.name)"))
            }
            // Envoy Gateway passes any text on, and Envoy then refuses the cluster; refuse it here.
            do throws(CertificateProblem) {
                _ = try TrustedCertificates.check(pem)
            } catch {
                return .failure(Problem(message: "\(what) \(ref.name): the CA bundle \(error.message)"))
            }
            bundle.append(pem)
        }
        guard supported else {
            return .failure(
                Problem(
                    reason: "InvalidKind",
                    message:
                        "Unsupported reference kind, supported kinds are ConfigMap, Secret, and ClusterTrustBundle in caCertificateRefs"
                ))
        }
        return .success(bundle.joined(separator: "\n"))
    }
}

/// Gateway API `PolicyStatus` of a BackendTLSPolicy. Its ancestors are the parentRefs of the
/// routes that use it, as those routes wrote them (Envoy Gateway's way); null when no route does.
public struct BackendTLSPolicyStatus: Sendable, Equatable, Encodable {
    public struct Ancestor: Sendable, Equatable, Encodable {
        public var ancestorRef: RouteStatus.ParentRef
        public var controllerName = GatewayTranslator.controllerName
        public var conditions: [Condition]
    }

    public var namespace: String
    public var name: String
    public var ancestors: [Ancestor]?
    var location: SourceLocation

    enum CodingKeys: String, CodingKey { case namespace, name, ancestors }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(namespace, forKey: .namespace)
        try container.encode(name, forKey: .name)
        try container.encode(ancestors, forKey: .ancestors)  // null, not absent
    }
}

extension GatewayTranslator {
    /// Each BackendTLSPolicy's status: resolved (or why its CA is not) on every route parent that
    /// uses it; a later policy repeating an earlier one's target is Conflicted and never applies.
    static func backendTLSPolicyStatus(
        _ index: BackendTLSIndex, routes: [(RouteSource, [ResolvedRule])], gateways: [Gateway]
    ) -> [BackendTLSPolicyStatus]? {
        guard !index.policies.isEmpty else { return nil }
        var parents: [String: [RouteStatus.ParentRef]] = [:]
        for (route, rules) in routes {
            let used = rules.reduce(into: Set<String>()) { $0.formUnion($1.tlsPolicies) }
            guard !used.isEmpty else { continue }
            for ref in route.parentRefs
            where ref.isGateway && gateways.contains(where: { $0.namespace == ref.namespace && $0.name == ref.name }) {
                let parent = RouteStatus.ParentRef(
                    group: ref.written.group, kind: ref.written.kind, namespace: ref.written.namespace, name: ref.name,
                    sectionName: ref.sectionName, port: ref.port, gatewayNamespace: ref.namespace)
                for policy in used where !(parents[policy]?.contains(parent) ?? false) {
                    parents[policy, default: []].append(parent)
                }
            }
        }
        var statuses: [BackendTLSPolicyStatus] = []
        var claimed: [String: Int] = [:]  // "<ns>/<group>/<kind>/<name>/<section>" → the policy holding it
        for policy in index.policies {
            let key = "\(policy.namespace)/\(policy.name)"
            let targets = policy.targetRefs.map {
                "\(policy.namespace)/\($0.group)/\($0.kind)/\($0.name)/\($0.sectionName ?? "")"
            }
            if let winner = targets.lazy.compactMap({ claimed[$0] }).first {
                let holder = statuses[winner]
                statuses.append(
                    BackendTLSPolicyStatus(
                        namespace: policy.namespace, name: policy.name,
                        ancestors: holder.ancestors?.map {
                            BackendTLSPolicyStatus.Ancestor(
                                ancestorRef: $0.ancestorRef,
                                conditions: [
                                    .conflicted(
                                        "Policy conflicts with BackendTLSPolicy \(holder.namespace)/\(holder.name).")
                                ])
                        }, location: policy.location))
                continue
            }
            for target in targets { claimed[target] = statuses.count }
            var conditions: [Condition] = [
                .resolvedRefs("Resolved all the Object references."), .accepted("Policy has been accepted."),
            ]
            if case .failure(let problem) = index.policyBundles[key] {
                let message = conditionMessage(problem.message)
                conditions = [
                    .notAccepted("NoValidCACertificate", message), .unresolvedRefs(problem.reason, message),
                ]
            }
            var ancestors = parents[key]?.map {
                BackendTLSPolicyStatus.Ancestor(ancestorRef: $0, conditions: conditions)
            }
            if let all = ancestors, all.count > PolicyAttachment.maxAncestors {
                // Envoy Gateway keeps the first 16 by namespace and name (as text), then marks the last.
                ancestors = Array(
                    all.sorted {
                        ($0.ancestorRef.gatewayNamespace, $0.ancestorRef.name)
                            < ($1.ancestorRef.gatewayNamespace, $1.ancestorRef.name)
                    }.prefix(PolicyAttachment.maxAncestors))
                ancestors![PolicyAttachment.maxAncestors - 1].conditions.append(
                    Condition(
                        .aggregated, true, reason: "Aggregated",
                        "Ancestors have been truncated because the number of policy ancestors exceeds 16."))
            }
            statuses.append(
                BackendTLSPolicyStatus(
                    namespace: policy.namespace, name: policy.name, ancestors: ancestors, location: policy.location))
        }
        return statuses.sorted { ($0.namespace, $0.name) < ($1.namespace, $1.name) }
    }
}
