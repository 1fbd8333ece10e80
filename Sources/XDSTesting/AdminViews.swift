import Foundation

/// The parts of Envoy's `/config_dump?include_eds` that tests look at: what Envoy actually runs.
public struct ConfigDump: Sendable {
    /// Active dynamic clusters: name → `version_info` of the response that brought them.
    public var clusters: [String: String] = [:]
    public var warmingClusters: [String: String] = [:]
    /// Active dynamic listeners: name → `version_info`.
    public var listeners: [String: String] = [:]
    /// Route configurations: name → `version_info`.
    public var routes: [String: String] = [:]
    /// For each route configuration, the clusters its routes send to, in order.
    public var routeClusters: [String: [String]] = [:]
    /// ClusterLoadAssignments: cluster name → endpoint addresses `host:port`.
    public var endpoints: [String: [String]] = [:]
    /// The JSON as Envoy printed it.
    public var raw: String
    /// Each active cluster and route configuration as JSON text (keys sorted, no spaces).
    public var clusterConfigs: [String: String] = [:]
    public var routeConfigs: [String: String] = [:]
    public var listenerConfigs: [String: String] = [:]

    static func text(_ object: [String: Any]) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return "" }
        return String(decoding: data, as: UTF8.self)
    }

    public init(json: String) throws {
        raw = json
        guard let root = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
            let configs = root["configs"] as? [[String: Any]]
        else { throw EnvoyProcess.Failure(description: "config_dump is not the JSON Envoy prints") }
        for config in configs {
            switch (config["@type"] as? String)?.split(separator: ".").last {
            case "ClustersConfigDump":
                for entry in config.list("dynamic_active_clusters") {
                    clusters[entry.dict("cluster").string("name")] = entry.string("version_info")
                    clusterConfigs[entry.dict("cluster").string("name")] = Self.text(entry.dict("cluster"))
                }
                for entry in config.list("dynamic_warming_clusters") {
                    warmingClusters[entry.dict("cluster").string("name")] = entry.string("version_info")
                }
            case "ListenersConfigDump":
                for entry in config.list("dynamic_listeners") where entry["active_state"] != nil {
                    listeners[entry.string("name")] = entry.dict("active_state").string("version_info")
                    listenerConfigs[entry.string("name")] = Self.text(entry.dict("active_state").dict("listener"))
                }
            case "RoutesConfigDump":
                for entry in config.list("dynamic_route_configs") {
                    let routeConfig = entry.dict("route_config")
                    let name = routeConfig.string("name")
                    routes[name] = entry.string("version_info")
                    routeConfigs[name] = Self.text(routeConfig)
                    routeClusters[name] = routeConfig.list("virtual_hosts").flatMap { $0.list("routes") }
                        .map { $0.dict("route").string("cluster") }
                }
            case "EndpointsConfigDump":
                for entry in config.list("dynamic_endpoint_configs") {
                    let assignment = entry.dict("endpoint_config")
                    endpoints[assignment.string("cluster_name")] = assignment.list("endpoints")
                        .flatMap { $0.list("lb_endpoints") }
                        .map { endpoint in
                            let socket = endpoint.dict("endpoint").dict("address").dict("socket_address")
                            return "\(socket.string("address")):\(socket["port_value"].map { "\($0)" } ?? "")"
                        }
                }
            default:
                continue
            }
        }
    }
}

/// The parts of Envoy's `/clusters?format=json` that tests look at.
public struct ClusterStatus: Sendable {
    /// Cluster name → its hosts as `host:port`.
    public var hosts: [String: [String]] = [:]

    public init(json: String) throws {
        guard let root = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
            throw EnvoyProcess.Failure(description: "/clusters is not the JSON Envoy prints")
        }
        for cluster in root.list("cluster_statuses") {
            hosts[cluster.string("name")] = cluster.list("host_statuses").map { host in
                let socket = host.dict("address").dict("socket_address")
                return "\(socket.string("address")):\(socket["port_value"].map { "\($0)" } ?? "")"
            }
        }
    }
}

extension Dictionary where Key == String, Value == Any {
    fileprivate func list(_ key: String) -> [[String: Any]] { self[key] as? [[String: Any]] ?? [] }
    fileprivate func dict(_ key: String) -> [String: Any] { self[key] as? [String: Any] ?? [:] }
    fileprivate func string(_ key: String) -> String { self[key] as? String ?? "" }
}
