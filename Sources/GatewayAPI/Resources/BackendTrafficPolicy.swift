/// Envoy Gateway `gateway.envoyproxy.io/v1alpha1` BackendTrafficPolicy: how Envoy talks to the
/// backends of the Gateways and routes it targets. Decoded with the CRD's defaults (docs/envoy-gateway-mapping.md
/// §1) and its schema and CEL rules checked at load time, as Envoy Gateway's file loader does.
public struct BackendTrafficPolicy: Sendable, Equatable {
    public struct TargetReference: Sendable, Equatable {
        public var kind: String
        public var name: String
        public var sectionName: String?
    }

    public struct TargetSelector: Sendable, Equatable {
        public var kind: String
        /// Which namespaces' objects may be selected.
        public var namespaces: NamespaceSelection
        public var selector: LabelSelector

        /// Whether an object with these labels is selected (namespaces are checked by the caller).
        public func matches(labels: [String: String]) -> Bool { selector.matches(labels) }
    }

    public enum MergeType: String, Sendable, Equatable {
        case strategicMerge = "StrategicMerge"
        case jsonMerge = "JSONMerge"
    }

    public var name: String
    public var namespace: String
    public var creationTimestamp: String
    public var targetRefs: [TargetReference]
    /// The policy used the deprecated singular `targetRef` (Envoy Gateway warns).
    public var usesDeprecatedTargetRef: Bool
    public var targetSelectors: [TargetSelector]
    public var mergeType: MergeType?
    @Shared public var settings: TrafficSettings
    /// Fields accepted but not translated yet (`compressor`, `responseOverride`, …), in the order
    /// written: a Warning condition names them.
    public var untranslated: [String]
    /// The spec as written: `mergeType` merges work on documents.
    @Shared public var spec: Document
    public var location: SourceLocation
    /// Where each field of the object is written (`spec.retry.numRetries`).
    @Shared public var fields = FieldLocations()
    public var annotations: [String: String] = [:]

    static let targetKinds = ["Gateway", "HTTPRoute", "GRPCRoute", "ListenerSet", "TCPRoute", "UDPRoute", "TLSRoute"]
    static let untranslatedFields = [
        "compressor", "compression", "responseOverride", "httpUpgrade", "requestBuffer", "admissionControl",
        "bandwidthLimit",
        "telemetry", "routingType",
    ]

    init?(_ object: ManifestObject) {
        let specFields =
            [
                "targetRef", "targetRefs", "targetSelectors", "mergeType", "rateLimit", "faultInjection",
                "useClientProtocol",
            ]
            + TrafficSettings.clusterFields + Self.untranslatedFields
        guard let specReader = object.fields.object("spec", required: true) else { return nil }
        specReader.allowOnly(
            specFields,
            aliases: [
                "outlierDetection": "healthCheck.passive", "circuitBreakers": "circuitBreaker",
                "lbPolicy": "loadBalancer",
                "retryPolicy": "retry", "timeouts": "timeout", "targetReference": "targetRefs",
            ])
        object.fields.allowOnly(["apiVersion", "kind", "metadata", "spec", "status"])
        let spec = specReader

        var refs: [TargetReference] = []
        usesDeprecatedTargetRef = spec.has("targetRef")
        if let single = spec.object("targetRef") {
            // Envoy Gateway: when both are given, the deprecated targetRef wins.
            if let ref = Self.targetRef(single) { refs = [ref] }
        } else {
            refs = spec.objects("targetRefs").compactMap(Self.targetRef)
        }
        targetRefs = refs
        targetSelectors = spec.objects("targetSelectors").compactMap(Self.targetSelector)
        if !spec.has("targetRef") && !spec.has("targetRefs") && targetSelectors.isEmpty {
            spec.report(
                nil, .missingField, "needs targetRefs or targetSelectors: the Gateways or routes this policy applies to"
            )
        }
        mergeType = spec.oneOf("mergeType", ["StrategicMerge", "JSONMerge"]).flatMap(MergeType.init(rawValue:))
        if mergeType != nil,
            refs.contains(where: { $0.kind == "Gateway" || $0.kind == "ListenerSet" })
                || targetSelectors.contains(where: { $0.kind == "Gateway" || $0.kind == "ListenerSet" })
        {
            spec.report(
                "mergeType", .notAllowed,
                "mergeType is allowed only on policies that target routes (HTTPRoute, GRPCRoute, TCPRoute, UDPRoute, TLSRoute)"
            )
        }
        if spec.has("compression") && spec.has("compressor") {
            spec.report("compression", .notAllowed, "use compressor or the deprecated compression, not both")
        }
        if spec.has("requestBuffer") && !spec.list("httpUpgrade").isEmpty {
            spec.report("requestBuffer", .notAllowed, "requestBuffer cannot be combined with httpUpgrade")
        }
        var settings = TrafficSettings(spec)
        settings.rateLimit?.nameGlobalRules(policy: "\(object.namespace)/\(object.name)")
        self.settings = settings
        untranslated = Self.untranslatedFields.filter { spec.has($0) }
        self.spec = Document(spec.node)
        name = object.name
        namespace = object.namespace
        creationTimestamp = object.creationTimestamp
        location = object.location
        fields = FieldLocations(object.fields)
        annotations = object.annotations
    }

    static func targetRef(_ reader: ObjectReader) -> TargetReference? {
        reader.allowOnly(["group", "kind", "name", "sectionName"])
        if let group = reader.string("group", required: true), group != "gateway.networking.k8s.io" {
            reader.report(
                "group", .notAllowed, "\"\(group)\" is not allowed: targets are in group gateway.networking.k8s.io")
        }
        guard let kind = reader.oneOf("kind", targetKinds, required: true),
            let name = reader.string("name", required: true)
        else {
            return nil
        }
        return TargetReference(kind: kind, name: name, sectionName: reader.string("sectionName"))
    }

    static func targetSelector(_ reader: ObjectReader) -> TargetSelector? {
        reader.allowOnly(["group", "kind", "namespaces", "matchLabels", "matchExpressions"])
        if let group = reader.string("group"), group != "gateway.networking.k8s.io" {
            reader.report(
                "group", .notAllowed, "\"\(group)\" is not allowed: targets are in group gateway.networking.k8s.io")
        }
        let kind = reader.oneOf("kind", targetKinds, required: true)
        var namespaces = NamespaceSelection.same
        if let object = reader.object("namespaces") {
            namespaces = NamespaceSelection(object, order: ["Same", "All", "Selector"])
            if namespaces.selectorMissing { return nil }
        }
        let selector = LabelSelector(reader)
        guard let kind else { return nil }
        return TargetSelector(kind: kind, namespaces: namespaces, selector: selector)
    }
}

extension BackendTrafficPolicy {
    /// The first `responseOverride` body that names a ConfigMap missing from `configMapKeys`
    /// (or one without the `response.body` key), as Envoy Gateway reports it.
    public func responseOverrideProblem(configMapKeys: [String: Set<String>]) -> String? {
        guard case .sequence(let overrides)? = spec["responseOverride"] else { return nil }
        for override in overrides {
            guard let reference = override[["response", "body", "valueRef"][...]],
                reference["kind"]?.text == "ConfigMap", let name = reference["name"]?.text
            else { continue }
            let key = "\(namespace)/\(name)"
            guard let keys = configMapKeys[key] else {
                return "ResponseOverride: can't find the referenced configmap \(key)"
            }
            if !keys.contains("response.body") {
                return "ResponseOverride: can't find the key response.body in the referenced configmap \(key)"
            }
        }
        return nil
    }

    /// This route-level policy merged over `parent` (its `mergeType`: the parent is the
    /// document, this policy the patch), decoded; and why the result is invalid, if it is.
    public func merged(over parent: BackendTrafficPolicy) -> (settings: TrafficSettings, problems: [String]) {
        let document = mergedDocument(over: parent).document
        let context = DecodeContext(file: "merge of \(parent.namespace)/\(parent.name) and \(namespace)/\(name)")
        guard let reader = ObjectReader(document.node, path: "spec", context: context) else {
            return (settings, ["merge failed"])
        }
        var merged = TrafficSettings(reader)
        // Global rules keep their own policy's names, as Envoy Gateway merges them after
        // translating each policy: a strategic merge keeps the route's rules, then the parent's; a
        // JSON merge replaces the list.
        let own = settings.rateLimit?.global
        let inherited = parent.settings.rateLimit?.global
        if own != nil || inherited != nil {
            merged.rateLimit?.global =
                mergeType == .strategicMerge ? (own ?? []) + (inherited ?? []) : (own ?? inherited)
        }
        return (merged, context.diagnostics.map { "\($0.field): \($0.message)" } + merged.problems)
    }

    /// Items of a merged list that keep both policies' items: this policy's come first.
    public struct InheritedItems: Sendable, Equatable {
        /// How many of the merged list's items are this policy's own.
        public var own: Int
        /// The parent's items that follow them, by their index in the parent's list.
        public var parentIndices: [Int]
    }

    /// This route-level policy's spec merged over `parent`'s as the translation applies it, for
    /// showing: `merged(over:)`'s document, with the global rate limit rules that it keeps from
    /// both policies (after translating each) in the list too. `inherited` tells, for each list
    /// that keeps items of both (`rateLimit.local.rules`, `rateLimit.global.rules`), whose they are.
    public func mergedSpec(over parent: BackendTrafficPolicy) -> (
        document: Document, inherited: [String: InheritedItems]
    ) {
        var (document, inherited) = mergedDocument(over: parent)
        let rules = ["rateLimit", "global", "rules"][...]
        if mergeType == .strategicMerge, case .sequence(let own)? = spec[rules],
            case .sequence(let parentRules)? = parent.spec[rules]
        {
            document = document.setting(rules, to: .sequence(own + parentRules))
            inherited[rules.joined(separator: ".")] = InheritedItems(
                own: own.count, parentIndices: Array(parentRules.indices))
        }
        return (document, inherited)
    }

    /// The spec documents merged, the parent's the document and this policy's the patch.
    private func mergedDocument(over parent: BackendTrafficPolicy) -> (
        document: Document, inherited: [String: InheritedItems]
    ) {
        var document =
            mergeType == .jsonMerge ? parent.spec.jsonMerged(with: spec) : parent.spec.strategicMerged(with: spec)
        var inherited: [String: InheritedItems] = [:]
        // Envoy Gateway merges local rate limits after translating them, where each rule is keyed
        // by its policy and index: every rule of both survives (the route's first), except the
        // parent's rule without clientSelectors, whose place as the default limit the route's takes.
        let rules = ["rateLimit", "local", "rules"][...]
        if mergeType == .strategicMerge, case .sequence(let own)? = spec[rules],
            case .sequence(let parentRules)? = parent.spec[rules]
        {
            let selective = parentRules.indices.filter {
                if case .sequence(let selectors)? = parentRules[$0]["clientSelectors"] {
                    !selectors.isEmpty
                } else {
                    false
                }
            }
            document = document.setting(rules, to: .sequence(own + selective.map { parentRules[$0] }))
            inherited[rules.joined(separator: ".")] = InheritedItems(own: own.count, parentIndices: selective)
        }
        return (document, inherited)
    }
}
