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
    static func encoded(_ source: ResourceMetadata) -> [UInt8] {
        var fields: [(String, String)] = [
            ("kind", source.kind), ("name", source.name), ("namespace", source.namespace),
        ]
        if let section = source.sectionName { fields.append(("sectionName", section)) }
        // Struct{fields: {key: Value{string_value}}}, keys sorted.
        var resource: [UInt8] = []
        for (key, value) in fields.sorted(by: { $0.0 < $1.0 }) {
            Wire.field(1, Wire.string(1, key) + Wire.field(2, Wire.string(3, value)), into: &resource)
        }
        // Value{list_value: ListValue{values: [Value{struct_value: resource}]}}
        let resources = Wire.field(6, Wire.field(1, Wire.field(5, resource)))
        // Struct{fields: {"resources": …}}, then Metadata{filter_metadata: {"envoy-gateway": …}}
        let tag = Wire.field(1, Wire.string(1, "resources") + Wire.field(2, resources))
        return Wire.field(1, Wire.string(1, filterName) + Wire.field(2, tag))
    }

    /// Length-delimited protobuf fields: all the tag needs.
    enum Wire {
        static func varint(_ value: Int, into bytes: inout [UInt8]) {
            var value = UInt64(value)
            while value >= 0x80 {
                bytes.append(UInt8(value & 0x7F) | 0x80)
                value >>= 7
            }
            bytes.append(UInt8(value))
        }

        static func field(_ number: Int, _ content: some Collection<UInt8>, into bytes: inout [UInt8]) {
            varint(number << 3 | 2, into: &bytes)
            varint(content.count, into: &bytes)
            bytes += content
        }

        static func field(_ number: Int, _ content: [UInt8]) -> [UInt8] {
            var bytes: [UInt8] = []
            field(number, content, into: &bytes)
            return bytes
        }

        static func string(_ number: Int, _ text: String) -> [UInt8] { field(number, Array(text.utf8)) }
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
