/// The resource an Envoy resource came from, as Envoy Gateway tags clusters, virtual hosts,
/// routes and endpoint localities with it (`filter_metadata["envoy-gateway"].resources`):
/// dashboards, access-log formats and Lua or ext_proc filters read it to name the source.
public struct ResourceMetadata: Sendable, Hashable, Codable {
    public var kind: String
    public var name: String
    public var namespace: String
    /// A listener, a route rule's `name`, or a Service port.
    public var sectionName: String?

    public init(kind: String, name: String, namespace: String, sectionName: String? = nil) {
        self.kind = kind
        self.name = name
        self.namespace = namespace
        self.sectionName = sectionName
    }
}
