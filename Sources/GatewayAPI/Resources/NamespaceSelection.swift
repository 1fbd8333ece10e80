/// Gateway API's `namespaces: {from, selector}`: which namespaces a listener takes routes from,
/// or a policy's targetSelector selects objects in. `from` is `Same` (the default), `All` or
/// `Selector`.
public struct NamespaceSelection: Sendable, Equatable {
    public var from: String
    /// With `Selector`: the namespaces admitted, by their labels.
    public var selector: LabelSelector?

    public static let same = NamespaceSelection(from: "Same", selector: nil)

    /// Reads `{from, selector}`, with `from` values listed in `order` (the CRD's order, which
    /// error messages repeat). A `Selector` without a selector is reported as required.
    init(_ reader: ObjectReader, order: [String]) {
        reader.allowOnly(["from", "selector"])
        from = reader.oneOf("from", order) ?? "Same"
        if from == "Selector", let object = reader.object("selector", required: true) {
            object.allowOnly(["matchLabels", "matchExpressions"])
            selector = LabelSelector(object)
        }
    }

    init(from: String, selector: LabelSelector?) {
        self.from = from
        self.selector = selector
    }

    /// `from: Selector` named no selector (already reported).
    var selectorMissing: Bool { from == "Selector" && selector == nil }

    /// Whether `namespace` is admitted, for an object in `home`; `labels` gives a namespace's labels.
    public func admits(_ namespace: String, home: String, labels: (String) -> [String: String]) -> Bool {
        switch from {
        case "All": true
        case "Same": namespace == home
        default: selector?.matches(labels(namespace)) ?? false
        }
    }
}
