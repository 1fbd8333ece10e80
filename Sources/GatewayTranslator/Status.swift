import GatewayAPI

/// A Gateway API status condition, as a Kubernetes controller would write it (without the
/// timestamps and generations that have no meaning for files).
public struct Condition: Sendable, Equatable, Encodable {
    public var type: String
    /// `"True"` or `"False"`, as Kubernetes spells them.
    public var status: String
    public var reason: String
    public var message: String

    public init(_ type: Kind, _ status: Bool, reason: String, _ message: String) {
        self.type = type.rawValue
        self.status = status ? "True" : "False"
        self.reason = reason
        self.message = message
    }

    public var isTrue: Bool { status == "True" }

    public func `is`(_ kind: Kind) -> Bool { type == kind.rawValue }

    /// The condition types Switchboard writes, as Gateway API and Envoy Gateway name them.
    public enum Kind: String, Sendable {
        case accepted = "Accepted"
        case resolvedRefs = "ResolvedRefs"
        case programmed = "Programmed"
        case merged = "Merged"
        case overridden = "Overridden"
        case conflicted = "Conflicted"
        case aggregated = "Aggregated"
        case partiallyInvalid = "PartiallyInvalid"
        case backendsAvailable = "BackendsAvailable"
        case routeRulesOverlap = "RouteRulesOverlap"
        case warning = "Warning"
        case overlappingTLSConfig = "OverlappingTLSConfig"
    }
}

/// The conditions as the translator writes them; reasons and messages are Envoy Gateway's
/// unless a comment at the call says otherwise.
extension Condition {
    /// Accepted=True, reason Accepted.
    static func accepted(_ message: String) -> Condition { Condition(.accepted, true, reason: "Accepted", message) }

    /// Accepted=False with `reason`.
    static func notAccepted(_ reason: String, _ message: String) -> Condition {
        Condition(.accepted, false, reason: reason, message)
    }

    /// Accepted=False/Invalid listing the values Envoy Gateway's translator would refuse.
    static func invalid(_ problems: [String]) -> Condition {
        notAccepted("Invalid", problems.map { $0 + "." }.joined(separator: "\n"))
    }

    /// Accepted=False/Conflicted: another resource holds what this one wants.
    static func conflicted(_ message: String) -> Condition { notAccepted("Conflicted", message) }

    static func resolvedRefs(_ message: String) -> Condition {
        Condition(.resolvedRefs, true, reason: "ResolvedRefs", message)
    }

    static func unresolvedRefs(_ reason: String, _ message: String) -> Condition {
        Condition(.resolvedRefs, false, reason: reason, message)
    }

    static func programmed(_ message: String) -> Condition {
        Condition(.programmed, true, reason: "Programmed", message)
    }

    /// Programmed=False/Invalid.
    static func notProgrammed(_ message: String) -> Condition {
        Condition(.programmed, false, reason: "Invalid", message)
    }

    static func merged(_ message: String) -> Condition { Condition(.merged, true, reason: "Merged", message) }

    static func overridden(_ message: String) -> Condition {
        Condition(.overridden, true, reason: "Overridden", message)
    }

    static func warning(_ reason: String, _ message: String) -> Condition {
        Condition(.warning, true, reason: reason, message)
    }
}

/// What the translator decided about each resource, in Gateway API's `status` shapes. Nothing
/// in the files is changed: `translate` and (later) `status` show it.
public struct StatusReport: Sendable, Equatable, Encodable {
    public var gateways: [GatewayStatus] = []
    public var httpRoutes: [RouteStatus] = []
    public var grpcRoutes: [RouteStatus] = []
    /// Nil when there are none, so configurations without them read as before.
    public var tlsRoutes: [RouteStatus]?
    public var tcpRoutes: [RouteStatus]?
    public var udpRoutes: [RouteStatus]?
    public var backendTrafficPolicies: [PolicyStatus] = []
    /// Nil when there are none.
    public var backendTLSPolicies: [BackendTLSPolicyStatus]?
    /// Every certificate a programmed listener presents, with its expiry; nil when none.
    public var certificates: [CertificateStatus]?

    public init() {}

    /// Only what concerns one Gateway: its own status and the route parents that name it.
    public func filtered(toGateway key: String) -> StatusReport {
        var report = StatusReport()
        report.gateways = gateways.filter { "\($0.namespace)/\($0.name)" == key }
        func keep(_ routes: [RouteStatus]) -> [RouteStatus] {
            routes.compactMap { route in
                var route = route
                route.parents = route.parents.filter { "\($0.parentRef.gatewayNamespace)/\($0.parentRef.name)" == key }
                return route.parents.isEmpty ? nil : route
            }
        }
        report.httpRoutes = keep(httpRoutes)
        report.grpcRoutes = keep(grpcRoutes)
        report.tlsRoutes = tlsRoutes.map(keep).flatMap { $0.isEmpty ? nil : $0 }
        report.tcpRoutes = tcpRoutes.map(keep).flatMap { $0.isEmpty ? nil : $0 }
        report.udpRoutes = udpRoutes.map(keep).flatMap { $0.isEmpty ? nil : $0 }
        let listeners = Set(report.gateways.map { "\($0.namespace)/\($0.name)/" })
        report.certificates = certificates?.filter { certificate in
            certificate.listeners.contains { name in listeners.contains { name.hasPrefix($0) } }
        }
        report.backendTrafficPolicies = backendTrafficPolicies.compactMap { policy in
            var policy = policy
            policy.ancestors = policy.ancestors?.filter { "\($0.ancestorRef.namespace)/\($0.ancestorRef.name)" == key }
            return policy.ancestors?.isEmpty == false ? policy : nil
        }
        report.backendTLSPolicies = backendTLSPolicies?.compactMap { policy in
            var policy = policy
            policy.ancestors = policy.ancestors?.filter {
                "\($0.ancestorRef.gatewayNamespace)/\($0.ancestorRef.name)" == key
            }
            return policy.ancestors?.isEmpty == false ? policy : nil
        }
        if report.backendTLSPolicies?.isEmpty == true { report.backendTLSPolicies = nil }
        return report
    }

    /// Every condition that is not as it should be, with where its resource is defined: what
    /// `validate` reports as warnings (dangling references are status, not load errors).
    public var problems: [(location: SourceLocation, message: String)] {
        var problems: [(SourceLocation, String)] = []
        for gateway in gateways {
            for condition in gateway.conditions where !condition.isTrue {
                problems.append(
                    (gateway.location, "Gateway \(gateway.namespace)/\(gateway.name): \(condition.summary)"))
            }
            for listener in gateway.listeners {
                for condition in listener.conditions where !condition.isTrue && condition.type != "Conflicted" {
                    problems.append(
                        (
                            gateway.location,
                            "Gateway \(gateway.namespace)/\(gateway.name) listener \(listener.name): \(condition.summary)"
                        ))
                }
            }
        }
        for certificate in certificates ?? [] where certificate.expiresSoon {
            problems.append(
                (
                    certificate.location,
                    "Secret \(certificate.secret): the certificate expires \(certificate.notAfter) (less than"
                        + " \(CertificateStatus.warningDays) days from now); renew it"
                ))
        }
        for route in httpRoutes + grpcRoutes + (tlsRoutes ?? []) + (tcpRoutes ?? []) + (udpRoutes ?? []) {
            for parent in route.parents {
                // PartiallyInvalid and RouteRulesOverlap say something is wrong by being True.
                for condition in parent.conditions
                where !condition.isTrue || condition.is(.partiallyInvalid) || condition.is(.routeRulesOverlap) {
                    problems.append(
                        (
                            route.location,
                            "\(route.kind) \(route.namespace)/\(route.name) on Gateway \(parent.parentRef.gatewayNamespace)/\(parent.parentRef.name): \(condition.summary)"
                        ))
                }
            }
        }
        for policy in backendTrafficPolicies {
            guard let ancestors = policy.ancestors else {
                problems.append(
                    (
                        policy.location,
                        "BackendTrafficPolicy \(policy.namespace)/\(policy.name): no target found (targetRefs name no Gateway or route in namespace \(policy.namespace))"
                    ))
                continue
            }
            for ancestor in ancestors {
                for condition in ancestor.conditions where !condition.isTrue || condition.is(.warning) {
                    problems.append(
                        (
                            policy.location,
                            "BackendTrafficPolicy \(policy.namespace)/\(policy.name) on Gateway \(ancestor.ancestorRef.namespace)/\(ancestor.ancestorRef.name): \(condition.summary)"
                        ))
                }
            }
        }
        for policy in backendTLSPolicies ?? [] {
            for ancestor in policy.ancestors ?? [] {
                for condition in ancestor.conditions where !condition.isTrue {
                    problems.append(
                        (
                            policy.location,
                            "BackendTLSPolicy \(policy.namespace)/\(policy.name) on Gateway \(ancestor.ancestorRef.gatewayNamespace)/\(ancestor.ancestorRef.name): \(condition.summary)"
                        ))
                }
            }
        }
        return problems
    }
}

extension Condition {
    var summary: String { "\(type)=\(status) \(reason): \(message)" }
}

public struct GatewayStatus: Sendable, Equatable, Encodable {
    public var namespace: String
    public var name: String
    public var conditions: [Condition]
    public var listeners: [ListenerStatus]
    var location: SourceLocation

    enum CodingKeys: String, CodingKey {
        case namespace, name, conditions, listeners
    }
}

public struct ListenerStatus: Sendable, Equatable, Encodable {
    public var name: String
    public var attachedRoutes: Int
    public var supportedKinds: [RouteGroupKind]
    public var conditions: [Condition]
}

public struct RouteStatus: Sendable, Equatable, Encodable {
    /// The parentRef as the route wrote it; `gatewayNamespace` is the namespace it resolves to.
    public struct ParentRef: Sendable, Equatable, Encodable {
        public var group: String?
        public var kind: String?
        public var namespace: String?
        public var name: String
        public var sectionName: String?
        public var port: Int?
        public var gatewayNamespace: String

        enum CodingKeys: String, CodingKey {
            case group, kind, namespace, name, sectionName, port
        }
    }

    public struct Parent: Sendable, Equatable, Encodable {
        public var parentRef: ParentRef
        public var controllerName: String
        public var conditions: [Condition]
    }

    public var kind: String
    public var namespace: String
    public var name: String
    public var parents: [Parent]
    var location: SourceLocation

    enum CodingKeys: String, CodingKey {
        case namespace, name, parents
    }
}

/// A policy ancestor, as Gateway API's `PolicyAncestorStatus.ancestorRef` names it.
public struct AncestorRef: Sendable, Hashable, Encodable {
    public var group = "gateway.networking.k8s.io"
    public var kind = "Gateway"
    public var namespace: String
    public var name: String
    public var sectionName: String?

    init(namespace: String, name: String, sectionName: String?) {
        self.namespace = namespace
        self.name = name
        self.sectionName = sectionName
    }
}

public struct PolicyAncestorStatus: Sendable, Equatable, Encodable {
    public var ancestorRef: AncestorRef
    public var controllerName = GatewayTranslator.controllerName
    public var conditions: [Condition]

    init(ancestorRef: AncestorRef, conditions: [Condition]) {
        self.ancestorRef = ancestorRef
        self.conditions = conditions
    }
}

/// Gateway API `PolicyStatus`: `ancestors` is null when no target exists (Envoy Gateway's way).
public struct PolicyStatus: Sendable, Equatable, Encodable {
    public var namespace: String
    public var name: String
    public var ancestors: [PolicyAncestorStatus]?
    var location: SourceLocation

    enum CodingKeys: String, CodingKey {
        case namespace, name, ancestors
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(namespace, forKey: .namespace)
        try container.encode(name, forKey: .name)
        try container.encode(ancestors, forKey: .ancestors)  // null, not absent
    }
}

/// A certificate a listener presents: when it expires, and whether that is soon.
public struct CertificateStatus: Sendable, Equatable, Encodable {
    /// `<ns>/<name>`: the Secret, and the SDS secret Envoy knows it by.
    public var secret: String
    /// RFC 3339, UTC.
    public var notAfter: String
    /// Seconds since 1970: what the expiry metric reports.
    public var notAfterSeconds: Int64
    /// Fewer than `warningDays` days left (or expired since it was loaded) at translation time.
    public var expiresSoon: Bool
    /// `<gw-ns>/<gw>/<listener>` of each listener presenting it.
    public var listeners: [String]
    public var location: SourceLocation

    /// Let's Encrypt renews 30 days ahead; a certificate 14 days from expiry has missed that.
    public static let warningDays = 14

    enum CodingKeys: String, CodingKey { case secret, notAfter, expiresSoon, listeners }
}
