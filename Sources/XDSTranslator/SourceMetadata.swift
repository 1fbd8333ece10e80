import EnvoyAPI
import GatewayIR
import SwiftProtobuf

/// Envoy Gateway's tag naming the resource an Envoy resource came from:
/// `metadata.filter_metadata["envoy-gateway"].resources: [{kind, name, namespace, sectionName}]`
/// on clusters, routes, virtual hosts and endpoint localities. Access-log formats
/// (`%METADATA(ROUTE:envoy-gateway:resources)%`), dashboards and Lua filters read it.
enum SourceMetadata: ClusterFeature, RouteFeature {
    static let filterName = "envoy-gateway"

    static func apply(_ backend: BackendCluster, to cluster: inout EnvoyCluster) throws {
        if let metadata = backend.metadata { try attach(metadata, to: &cluster, key: clusterKey) }
    }

    static func apply(_ route: Route, to envoyRoute: inout EnvoyRoute) throws {
        if let metadata = route.metadata { try attach(metadata, to: &envoyRoute, key: routeKey) }
    }

    /// The key (field number and wire type) that opens `metadata` in each message carrying the
    /// tag, read once from SwiftProtobuf's encoding rather than written down.
    static let clusterKey = key(of: \EnvoyCluster.metadata)
    static let routeKey = key(of: \EnvoyRoute.metadata)
    static let virtualHostKey = key(of: \Envoy_Config_Route_V3_VirtualHost.metadata)
    static let localityKey = key(of: \Envoy_Config_Endpoint_V3_LocalityLbEndpoints.metadata)

    /// A message with only `field` set, empty, encodes as the field's key and a length of 0.
    static func key<M: SwiftProtobuf.Message>(of field: WritableKeyPath<M, Envoy_Config_Core_V3_Metadata>) -> [UInt8] {
        var only = M()
        only[keyPath: field] = Envoy_Config_Core_V3_Metadata()
        // Proto3 messages have no required fields: encoding cannot fail.
        let bytes: [UInt8] = (try? only.serializedBytes()) ?? []
        return Array(bytes.dropLast())
    }

    /// Sets `message[keyPath: field]` to the tag, already encoded. The tag is a
    /// `google.protobuf.Struct` six messages deep, and SwiftProtobuf builds and sizes every
    /// nested message again at each level it writes: on 10,000 routes that more than doubled
    /// translation time. So the bytes are written here, once, in the one fixed shape the tag
    /// has (`SourceMetadataTests` checks them against SwiftProtobuf's own encoding of `envoy`),
    /// and travel as a field the message writes verbatim (protobuf's unknown-field storage).
    /// Envoy, and whatever decodes the resource (`translate`, `/debug/snapshot`), reads an
    /// ordinary `metadata` field.
    static func attach<M: SwiftProtobuf.Message>(
        _ source: ResourceMetadata, to message: inout M, key: [UInt8]
    ) throws {
        var bytes = key
        let metadata = encoded(source)
        Wire.varint(metadata.count, into: &bytes)
        bytes += metadata
        message.unknownFields = try Google_Protobuf_Empty(serializedBytes: bytes).unknownFields
    }

    /// `envoy(source)` in protobuf's binary form, map keys in order (deterministic encoding).
    /// Each nested message's length comes first in its parent, so the lengths are worked out
    /// from the inside, then everything is written front to back into one array: building each
    /// level as an array of its own was a sixth of encoding a cluster.
    static func encoded(_ source: ResourceMetadata) -> [UInt8] {
        // Struct{fields: {key: Value{string_value}}}: "kind" < "name" < "namespace" <
        // "sectionName", the sorted order deterministic encoding gives map keys.
        var entries: [(key: StaticString, value: String, valueSize: Int, size: Int)] = []
        entries.reserveCapacity(4)
        func add(_ key: StaticString, _ value: String) {
            let valueSize = Wire.stringSize(3, value.utf8.count)
            entries.append(
                (key, value, valueSize, Wire.stringSize(1, key.utf8CodeUnitCount) + Wire.lengthSize(2, valueSize)))
        }
        add("kind", source.kind)
        add("name", source.name)
        add("namespace", source.namespace)
        if let section = source.sectionName { add("sectionName", section) }
        let resource = entries.reduce(0) { $0 + Wire.lengthSize(1, $1.size) }
        // Value{list_value: ListValue{values: [Value{struct_value: resource}]}}
        let structValue = Wire.lengthSize(5, resource)
        let list = Wire.lengthSize(1, structValue)
        let resources = Wire.lengthSize(6, list)
        // Struct{fields: {"resources": …}}, then Metadata{filter_metadata: {"envoy-gateway": …}}
        let resourcesKey: StaticString = "resources"
        let tagEntry = Wire.stringSize(1, resourcesKey.utf8CodeUnitCount) + Wire.lengthSize(2, resources)
        let tag = Wire.lengthSize(1, tagEntry)
        let filterEntry = Wire.stringSize(1, filterName.utf8.count) + Wire.lengthSize(2, tag)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Wire.lengthSize(1, filterEntry))
        Wire.header(1, filterEntry, into: &bytes)
        Wire.string(1, filterName, into: &bytes)
        Wire.header(2, tag, into: &bytes)
        Wire.header(1, tagEntry, into: &bytes)
        Wire.string(1, resourcesKey, into: &bytes)
        Wire.header(2, resources, into: &bytes)
        Wire.header(6, list, into: &bytes)
        Wire.header(1, structValue, into: &bytes)
        Wire.header(5, resource, into: &bytes)
        for entry in entries {
            Wire.header(1, entry.size, into: &bytes)
            Wire.string(1, entry.key, into: &bytes)
            Wire.header(2, entry.valueSize, into: &bytes)
            Wire.string(3, entry.value, into: &bytes)
        }
        return bytes
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
