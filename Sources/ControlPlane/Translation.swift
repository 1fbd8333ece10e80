import EnvoyAPI
import Foundation
import GatewayAPI
import GatewayIR
import GatewayTranslator
import SwiftProtobuf
import XDSCache
import XDSTranslator
import Yams

/// Files → snapshots, and snapshots → the text `switchboard translate` prints.
public enum Translation {
    /// What the operator's resources become: a snapshot per Gateway and everyone's status.
    public struct Result: Sendable {
        /// Keyed by node group (`<namespace>/<name>`).
        public var snapshots: [String: Snapshot]
        public var status: StatusReport
    }

    public static func translate(_ resources: ResourceSet, options: GatewayTranslator.Options = .init()) throws -> Result {
        let output = GatewayTranslator.translate(resources, options: options)
        var snapshots: [String: Snapshot] = [:]
        for config in output.configs {
            snapshots[config.key] = try SnapshotTranslator.snapshot(config)
        }
        return Result(snapshots: snapshots, status: output.status)
    }

    public enum Format: String, Sendable, CaseIterable {
        case yaml
        case json
    }

    /// The snapshot's resources in protobuf's canonical JSON, field order as Envoy's config_dump
    /// prints it, each list sorted by name: `clusters`, `endpoints`, `listeners`, `routes`; then
    /// the `status` of the Gateway and its routes when given.
    public static func render(_ snapshot: Snapshot, status: StatusReport? = nil, as format: Format) throws -> String {
        var json = "{" + (try resourcesJSON(snapshot))
        if let status { json += ",\"status\":" + (try statusJSON(status)) }
        return try text(json + "}", as: format)
    }

    /// Everything files become, in one document: the load's diagnostics, each Gateway's
    /// resources (by node group) and the whole status report. What golden tests compare.
    public static func renderAll(_ resources: ResourceSet, as format: Format = .yaml) throws -> String {
        let result = try translate(resources)
        let diagnostics = try JSONEncoder().encode(resources.diagnostics.map(\.description))
        var json = "{\"diagnostics\":" + String(decoding: diagnostics, as: UTF8.self) + ",\"gateways\":["
        json += try result.snapshots.keys.sorted().map { key in
            "{\"name\":\"\(key)\"," + (try resourcesJSON(result.snapshots[key]!)) + "}"
        }.joined(separator: ",")
        json += "],\"status\":" + (try statusJSON(result.status)) + "}"
        return try text(json, as: format)
    }

    private static func resourcesJSON(_ snapshot: Snapshot) throws -> String {
        registerEmbeddedTypes
        var options = JSONEncodingOptions()
        options.useDeterministicOrdering = true
        let sections: [(String, ResourceType, any SwiftProtobuf.Message.Type)] = [
            ("clusters", .cluster, Envoy_Config_Cluster_V3_Cluster.self),
            ("endpoints", .endpoint, Envoy_Config_Endpoint_V3_ClusterLoadAssignment.self),
            ("listeners", .listener, Envoy_Config_Listener_V3_Listener.self),
            ("routes", .route, Envoy_Config_Route_V3_RouteConfiguration.self),
        ]
        return try sections.map { key, type, messageType in
            let items = try snapshot[type].sorted.map { resource in
                try messageType.init(serializedBytes: resource.packed.value).jsonString(options: options)
            }
            return "\"\(key)\":[" + items.joined(separator: ",") + "]"
        }.joined(separator: ",")
    }

    private static func statusJSON(_ status: StatusReport) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(status), as: UTF8.self)
    }

    private static func text(_ json: String, as format: Format) throws -> String {
        switch format {
        case .json:
            let object = try JSONSerialization.jsonObject(with: Data(json.utf8))
            let pretty = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
            return String(decoding: pretty, as: UTF8.self) + "\n"
        case .yaml:
            guard let node = try Yams.compose(yaml: json) else { return "" }
            return try Yams.serialize(node: blockStyle(node), width: -1)
        }
    }

    /// JSON parsed as YAML keeps its flow style; block style reads like Envoy Gateway's YAML.
    private static func blockStyle(_ node: Node) -> Node {
        switch node {
        case .mapping(let mapping):
            return .mapping(Node.Mapping(mapping.map { (blockStyle($0.key), blockStyle($0.value)) }, mapping.tag, .block))
        case .sequence(let sequence):
            return .sequence(Node.Sequence(sequence.map(blockStyle), sequence.tag, .block))
        case .scalar(var scalar):
            // Plain where that reads back the same; a string that plain would read as a boolean,
            // number or null (Kubernetes' "True") stays quoted.
            let quoted = scalar.style == .doubleQuoted || scalar.style == .singleQuoted
            let plainTag = Resolver.default.resolveTag(of: .scalar(Node.Scalar(scalar.string)))
            scalar.style = quoted && plainTag != .str ? .doubleQuoted : .any
            return .scalar(scalar)
        case .alias:
            return node
        }
    }

    /// The types Switchboard embeds in `Any` fields, so their JSON shows the content, not bytes.
    private static let registerEmbeddedTypes: Void = {
        let types: [any SwiftProtobuf.Message.Type] = [
            Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager.self,
            Envoy_Extensions_Filters_Http_Router_V3_Router.self,
            Envoy_Extensions_LoadBalancingPolicies_LeastRequest_V3_LeastRequest.self,
            Envoy_Extensions_LoadBalancingPolicies_RoundRobin_V3_RoundRobin.self,
            Envoy_Extensions_LoadBalancingPolicies_Random_V3_Random.self,
            Envoy_Extensions_LoadBalancingPolicies_Maglev_V3_Maglev.self,
            Envoy_Extensions_Upstreams_Http_V3_HttpProtocolOptions.self,
            Envoy_Extensions_Clusters_Dns_V3_DnsCluster.self,
            Envoy_Extensions_Retry_Host_PreviousHosts_V3_PreviousHostsPredicate.self,
            Envoy_Extensions_Retry_Priority_PreviousPriorities_V3_PreviousPrioritiesConfig.self,
            Envoy_Extensions_Filters_Http_GrpcWeb_V3_GrpcWeb.self,
            Envoy_Extensions_Filters_Http_GrpcStats_V3_FilterConfig.self,
            Envoy_Extensions_Filters_Http_Fault_V3_HTTPFault.self,
            Envoy_Extensions_Filters_Http_LocalRatelimit_V3_LocalRateLimit.self,
            Envoy_Extensions_LoadBalancingPolicies_OverrideHost_V3_OverrideHost.self,
            Envoy_Extensions_TransportSockets_ProxyProtocol_V3_ProxyProtocolUpstreamTransport.self,
            Envoy_Extensions_TransportSockets_RawBuffer_V3_RawBuffer.self,
        ]
        for type in types { _ = Google_Protobuf_Any.register(messageType: type) }
    }()
}
