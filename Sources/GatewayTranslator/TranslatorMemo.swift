import GatewayAPI
import GatewayIR

extension GatewayTranslator {
    /// What a translation made of each route, for the next translation to reuse wherever the
    /// inputs are the same: an edit of one file among ten thousand routes changes one route's
    /// part. Inputs are compared by equality, not hashed: an unchanged route shares its storage
    /// with the last translation's, so comparing it is mostly a check that two buffers are one.
    /// Only results are kept that depend on nothing but the inputs compared; what reaches across
    /// routes (virtual hosts, statuses) is worked out again every time; precedence and overlaps
    /// are kept per virtual host, whose routes are compared whole.
    public struct Memo: Sendable {
        /// What `BackendIndex` reads, as the last translation saw it, with the index it made.
        var backendInputs: BackendInputs?
        var backends: BackendIndex?
        /// By route: the route as written and as last translated, and its rules resolved.
        var rules: [RouteKey: RouteEntry] = [:]
        /// The policies as last translated, in attachment order: an attachment names them by index.
        var policies: [BackendTrafficPolicy] = []
        /// The Gateways and namespaces the last translation judged routes' statuses against.
        var statusInputs: StatusInputs?
        /// What each route made on each listener (`<gateway-ns>/<gateway>/<listener>`).
        var attachments: [String: [RouteKey: (attachment: Attachment, generation: UInt64)]] = [:]
        /// By Gateway and virtual host: its routes as last translated, and which of their sources
        /// overlap (`noteOverlaps`). Routes share their storage with the attachments they come
        /// from, so an unchanged host's routes compare by identity.
        var overlaps: [String: (routes: [Route], groups: [Set<String>])] = [:]
        /// By Gateway and virtual host: its routes as gathered from its attachments, and in
        /// precedence order (`RoutePrecedence`), with the translation that last had the host.
        var precedence: [String: [String: PrecedenceEntry]] = [:]
        /// By Gateway: what its pass made, to patch (`GatewayPatch`).
        var passes: [String: GatewayPass] = [:]
        /// The last translation's attachment of policies, and what it read besides the routes,
        /// Gateways and namespaces.
        var policyAttachment: PolicyAttachment?
        var policyInputs: PolicyInputs?
        /// The routes, in order, and the options the last translation's passes were made with.
        var passRoutes: [RouteSource] = []
        var passOptions: PassOptions?
        /// Counts translations: an entry written by this one has its number. Only the last
        /// translation's entries are reused; older ones (a route or listener gone) are forgotten.
        var generation: UInt64 = 0

        /// Routes and attachments reused by the last translation (tests read it to see the memo work).
        public internal(set) var reused = 0
        /// Gateway passes patched rather than made whole, since `init` (tests read it).
        public internal(set) var patchedPasses = 0

        public init() {}

        /// A route as written in the resources; boxed, so that copying an entry is one retain,
        /// not one for every field of an HTTPRoute.
        indirect enum Written: Equatable {
            case http(HTTPRoute)
            case grpc(GRPCRoute)

            /// `self == .http(route)`, without boxing `route` to ask.
            func holds(_ route: HTTPRoute) -> Bool {
                if case .http(let kept) = self { kept == route } else { false }
            }

            func holds(_ route: GRPCRoute) -> Bool {
                if case .grpc(let kept) = self { kept == route } else { false }
            }
        }

        struct RouteEntry {
            /// A route's status and the listeners it counts for, in one immutable box: an entry's
            /// status is kept and handed on in every translation, and copying it as a tuple went
            /// through the generic value witnesses field by field (6 % of an edit at 10000
            /// routes).
            final class Status: Sendable {
                let status: RouteStatus
                let attachedTo: [String]

                init(_ made: (status: RouteStatus, attachedTo: [String])) {
                    status = made.status
                    attachedTo = made.attachedTo
                }
            }
            var written: Written
            var route: RouteSource
            var rules: [ResolvedRule]
            /// Its status and the listeners it counts for, while `statusInputs` stay equal.
            var status: Status?
            var generation: UInt64
        }

        /// What a route's status is judged against besides the route and its rules.
        struct StatusInputs: Equatable {
            var gateways: [Gateway]
            var namespaces: [Namespace]
        }

        /// Drops the routes this translation did not write, when there are any: `written` is how
        /// many it wrote.
        mutating func forgetRoutes(keeping written: Int) {
            guard rules.count != written else { return }
            let generation = generation
            rules = rules.filter { $0.value.generation == generation }
        }

        /// Drops the attachments this translation did not write, when there are any.
        mutating func forgetAttachments(keeping written: Int) {
            guard attachments.values.reduce(0, { $0 + $1.count }) != written else { return }
            let generation = generation
            attachments = attachments.compactMapValues { routes in
                let kept = routes.filter { $0.value.generation == generation }
                return kept.isEmpty ? nil : kept
            }
        }
    }

    /// A virtual host's routes as gathered from its attachments, and in precedence order
    /// (`RoutePrecedence`), with the translation that last had the host.
    typealias PrecedenceEntry = (written: [Route], sorted: [Route], generation: UInt64)

    /// The parts of the resources that backendRefs resolve against.
    struct BackendInputs: Equatable {
        var backends: [Backend]
        var services: [Service]
        var endpointSlices: [EndpointSlice]
        var referenceGrants: [ReferenceGrant]
        var backendTLSPolicies: [BackendTLSPolicy]
        var secrets: [String: Secret]
        var configMapData: [String: [String: String]]
        var clusterTrustBundles: [String: String]

        init(_ resources: ResourceSet) {
            backends = resources.backends
            services = resources.services
            endpointSlices = resources.endpointSlices
            referenceGrants = resources.referenceGrants
            backendTLSPolicies = resources.backendTLSPolicies
            secrets = resources.secrets
            configMapData = resources.configMapData
            clusterTrustBundles = resources.clusterTrustBundles
        }
    }

    /// The cluster and route policies made by one translation, one box for each value: the
    /// routes under one Gateway-wide policy all have the same, and the memo keeps them.
    struct InternedPolicies {
        var clusters = Set<OutOfLine<ClusterPolicy>>()
        var routes = Set<OutOfLine<RoutePolicy>>()

        /// Adds the policy boxes of `attachment`'s routes and clusters.
        mutating func add(_ attachment: Attachment) {
            for host in attachment.hosts {
                for route in host.routes { routes.insert(route.sharedPolicy) }
                for cluster in host.clusters { clusters.insert(cluster.sharedPolicy) }
            }
        }
    }

    /// One route's part on one listener: for each hostname its routes, and its rules' clusters
    /// with the policy that hostname gives them.
    struct Attachment {
        /// Per rule, the policies that govern it (indices into the policies of the translation
        /// that made this), which decide its settings.
        var governing: [PolicyAttachment.Governing]
        var listenerHostname: String?
        var listenerPort: Int
        var hosts: [(hostname: String, underscored: String, routes: [Route], clusters: [BackendCluster])]
        /// Whether a route uses a global rate limit (its listener then needs the service).
        var usesGlobalRateLimit: Bool
    }
}

extension GatewayTranslator.Memo {
    /// What `PolicyAttachment` reads besides the HTTP and gRPC routes, Gateways and namespaces.
    /// Policies that select their targets by label read every object's labels too: with one of
    /// those, the attachment is made again every time.
    struct PolicyInputs: Equatable {
        var policies: [BackendTrafficPolicy]
        var configMapKeys: [String: Set<String>]
        var layer4: [RouteSource]
        var options: GatewayTranslator.PassOptions
        var selects: Bool

        init(_ resources: ResourceSet, layer4: [RouteSource], options: GatewayTranslator.PassOptions) {
            policies = resources.backendTrafficPolicies
            configMapKeys = resources.configMapKeys
            self.layer4 = layer4
            self.options = options
            selects = policies.contains { !$0.targetSelectors.isEmpty }
        }

        static func == (lhs: Self, rhs: Self) -> Bool {
            !lhs.selects && !rhs.selects && lhs.options == rhs.options && lhs.configMapKeys == rhs.configMapKeys
                && lhs.layer4 == rhs.layer4 && lhs.policies == rhs.policies
        }
    }

    /// Whether the routes are those of the last translation, in its order, as policies see
    /// them: each the same value, or of the same key, parents and rule names.
    func policyTargetsUnchanged(_ routes: [RouteSource]) -> Bool {
        guard routes.count == passRoutes.count else { return false }
        for (route, last) in zip(routes, passRoutes) where !route.isIdentical(to: last) {
            guard route.key == last.key, route.parentRefs == last.parentRefs,
                route.rules.map(\.name) == last.rules.map(\.name)
            else { return false }
        }
        return true
    }

    /// For each of this translation's policies, the index of the equal policy (as written, and
    /// in the problems the attachment found) among the last translation's, if there is one.
    /// Worked out once, so that checking an attachment compares indices.
    func samePolicies(as policies: [BackendTrafficPolicy]) -> [Int?] {
        let previous = self.policies
        // Most policies are where they were: those are compared in place, and names are
        // looked up only for the others (a dictionary of keys made for every policy was most
        // of this at a thousand policies).
        var previousIndex: [String: Int]?
        return policies.indices.map { index in
            if index < previous.count, previous[index].name == policies[index].name,
                previous[index].namespace == policies[index].namespace
            {
                return previous[index] == policies[index] ? index : nil
            }
            if previousIndex == nil {
                previousIndex = Dictionary(
                    previous.indices.map { ("\(previous[$0].namespace)/\(previous[$0].name)", $0) },
                    uniquingKeysWith: { _, last in last })
            }
            let policy = policies[index]
            return previousIndex?["\(policy.namespace)/\(policy.name)"].flatMap { previous[$0] == policy ? $0 : nil }
        }
    }

    /// Whether `attachment`, made by the last translation, still holds for a route whose rules
    /// were reused, governed now by `governing`. `same` is `samePolicies(as:)` of this translation.
    func holds(
        _ attachment: GatewayTranslator.Attachment, governing: [PolicyAttachment.Governing], same: [Int?],
        listener: Gateway.Listener
    ) -> Bool {
        guard attachment.listenerHostname == listener.hostname, attachment.listenerPort == listener.port,
            attachment.governing.count == governing.count
        else { return false }
        for (old, new) in zip(attachment.governing, governing) {
            guard Self.matches(old.route, new.route, same), Self.matches(old.parent, new.parent, same) else {
                return false
            }
        }
        return true
    }

    /// Whether an old and a new policy index name equal policies, or both none.
    private static func matches(_ old: Int?, _ new: Int?, _ same: [Int?]) -> Bool {
        switch (old, new) {
        case (nil, nil): true
        case (let old?, let new?): same[new] == old
        default: false
        }
    }
}
