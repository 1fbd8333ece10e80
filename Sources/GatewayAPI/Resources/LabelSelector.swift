/// A Kubernetes label selector: `matchLabels` and `matchExpressions`, all of which must hold.
public struct LabelSelector: Sendable, Equatable {
    public struct Requirement: Sendable, Equatable {
        public var key: String
        /// `In`, `NotIn`, `Exists` or `DoesNotExist`.
        public var `operator`: String
        public var values: [String]
    }

    public var matchLabels: [String: String] = [:]
    public var matchExpressions: [Requirement] = []

    public init(matchLabels: [String: String] = [:], matchExpressions: [Requirement] = []) {
        self.matchLabels = matchLabels
        self.matchExpressions = matchExpressions
    }

    /// Reads `matchLabels` and `matchExpressions` of `reader` (other keys are the caller's).
    init(_ reader: ObjectReader) {
        matchLabels = reader.stringMap("matchLabels")
        matchExpressions = reader.objects("matchExpressions").compactMap { expression in
            expression.allowOnly(["key", "operator", "values"])
            guard let key = expression.string("key", required: true),
                let op = expression.oneOf("operator", ["In", "NotIn", "Exists", "DoesNotExist"], required: true)
            else { return nil }
            let values = expression.strings("values")
            if (op == "In" || op == "NotIn") && values.isEmpty {
                expression.report("values", .missingField, "is required (non-empty) with operator \(op)")
            }
            return Requirement(key: key, operator: op, values: values)
        }
    }

    public func matches(_ labels: [String: String]) -> Bool {
        matchLabels.allSatisfy { labels[$0.key] == $0.value }
            && matchExpressions.allSatisfy { requirement in
                switch requirement.operator {
                case "In": labels[requirement.key].map(requirement.values.contains) ?? false
                case "NotIn": labels[requirement.key].map { !requirement.values.contains($0) } ?? true
                case "Exists": labels[requirement.key] != nil
                default: labels[requirement.key] == nil
                }
            }
    }
}

/// `v1` Namespace: only its labels matter here (namespace selectors of listeners and policies).
/// Kubernetes labels every namespace `kubernetes.io/metadata.name: <name>`; so does Switchboard,
/// also for namespaces no file declares.
public struct Namespace: Sendable, Equatable {
    public var name: String
    public var labels: [String: String]

    init(_ object: ManifestObject) {
        object.fields.allowOnly(["apiVersion", "kind", "metadata", "spec", "status"])
        name = object.name
        labels = object.labels
    }
}

extension ResourceSet {
    /// A namespace's labels, with the one Kubernetes sets on every namespace.
    public func labels(ofNamespace name: String) -> [String: String] {
        var labels = namespaces.first { $0.name == name }?.labels ?? [:]
        labels["kubernetes.io/metadata.name"] = name
        return labels
    }
}
