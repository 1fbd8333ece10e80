import EnvoyAPI
import GatewayIR
import SwiftProtobuf

/// Envoy Gateway's tag naming the resource an Envoy resource came from:
/// `metadata.filter_metadata["envoy-gateway"].resources: [{kind, name, namespace, sectionName}]`
/// on clusters, routes, virtual hosts and endpoint localities. Access-log formats
/// (`%METADATA(ROUTE:envoy-gateway:resources)%`), dashboards and Lua filters read it.
enum SourceMetadata: ClusterFeature, RouteFeature {
    static let filterName = "envoy-gateway"

    static func apply(_ backend: BackendCluster, to cluster: inout EnvoyCluster) {
        if let metadata = backend.metadata { cluster.metadata = envoy(metadata) }
    }

    static func apply(_ route: Route, to envoyRoute: inout EnvoyRoute) {
        if let metadata = route.metadata { envoyRoute.metadata = envoy(metadata) }
    }

    static func envoy(_ source: ResourceMetadata) -> Envoy_Config_Core_V3_Metadata {
        var fields: [String: Google_Protobuf_Value] = [
            "kind": Google_Protobuf_Value(stringValue: source.kind),
            "name": Google_Protobuf_Value(stringValue: source.name),
            "namespace": Google_Protobuf_Value(stringValue: source.namespace),
        ]
        if let section = source.sectionName { fields["sectionName"] = Google_Protobuf_Value(stringValue: section) }
        var resource = Google_Protobuf_Struct()
        resource.fields = fields
        var tag = Google_Protobuf_Struct()
        tag.fields["resources"] = Google_Protobuf_Value(
            listValue: Google_Protobuf_ListValue(values: [Google_Protobuf_Value(structValue: resource)]))
        var metadata = Envoy_Config_Core_V3_Metadata()
        metadata.filterMetadata[filterName] = tag
        return metadata
    }
}
