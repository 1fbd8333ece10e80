import EnvoyAPI
import Foundation
import SwiftProtobuf
import XDSCache

/// Small, valid Envoy resources for tests and benchmarks: an HTTP listener that loads its routes
/// over ADS, a route configuration sending a prefix to a cluster, EDS clusters and their endpoints.
public enum TestResources {
    public typealias Cluster = Envoy_Config_Cluster_V3_Cluster
    public typealias LoadAssignment = Envoy_Config_Endpoint_V3_ClusterLoadAssignment
    public typealias Listener = Envoy_Config_Listener_V3_Listener
    public typealias RouteConfiguration = Envoy_Config_Route_V3_RouteConfiguration

    static var adsConfigSource: Envoy_Config_Core_V3_ConfigSource {
        var source = Envoy_Config_Core_V3_ConfigSource()
        source.ads = Envoy_Config_Core_V3_AggregatedConfigSource()
        source.resourceApiVersion = .v3
        return source
    }

    /// A cluster whose endpoints come over ADS (EDS), named as its ClusterLoadAssignment.
    public static func edsCluster(_ name: String, connectTimeoutSeconds: Int64 = 1) -> Cluster {
        var cluster = Cluster()
        cluster.name = name
        cluster.type = .eds
        cluster.edsClusterConfig.edsConfig = adsConfigSource
        cluster.connectTimeout = Google_Protobuf_Duration(seconds: connectTimeoutSeconds)
        return cluster
    }

    public static func loadAssignment(_ clusterName: String, endpoints: [(host: String, port: Int)]) -> LoadAssignment {
        var assignment = LoadAssignment()
        assignment.clusterName = clusterName
        var locality = Envoy_Config_Endpoint_V3_LocalityLbEndpoints()
        locality.lbEndpoints = endpoints.map { host, port in
            var endpoint = Envoy_Config_Endpoint_V3_LbEndpoint()
            endpoint.endpoint.address = socketAddress(host, port)
            return endpoint
        }
        assignment.endpoints = [locality]
        return assignment
    }

    /// A listener with one HTTP connection manager that loads `routeConfigName` over ADS.
    public static func httpListener(_ name: String, port: Int, routeConfigName: String, host: String = "127.0.0.1")
        throws
        -> Listener
    {
        typealias HCM = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager
        var router = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpFilter()
        router.name = "envoy.filters.http.router"
        router.typedConfig = try .deterministic(Envoy_Extensions_Filters_Http_Router_V3_Router())

        var hcm = HCM()
        hcm.statPrefix = name
        hcm.rds.configSource = adsConfigSource
        hcm.rds.routeConfigName = routeConfigName
        hcm.httpFilters = [router]

        var filter = Envoy_Config_Listener_V3_Filter()
        filter.name = "envoy.filters.network.http_connection_manager"
        filter.typedConfig = try .deterministic(hcm)
        var chain = Envoy_Config_Listener_V3_FilterChain()
        chain.filters = [filter]

        var listener = Listener()
        listener.name = name
        listener.address = socketAddress(host, port)
        listener.filterChains = [chain]
        return listener
    }

    /// A route configuration with one virtual host matching every domain, routing `prefix` to `cluster`.
    public static func routeConfiguration(_ name: String, routes: [(prefix: String, cluster: String)])
        -> RouteConfiguration
    {
        var virtualHost = Envoy_Config_Route_V3_VirtualHost()
        virtualHost.name = name
        virtualHost.domains = ["*"]
        virtualHost.routes = routes.map { prefix, cluster in
            var route = Envoy_Config_Route_V3_Route()
            route.match.prefix = prefix
            route.route.cluster = cluster
            return route
        }
        var config = RouteConfiguration()
        config.name = name
        config.virtualHosts = [virtualHost]
        return config
    }

    /// A consistent snapshot: one listener on `port`, one route config, and each cluster with its endpoints.
    public static func snapshot(
        listenerPort port: Int, clusters: [(name: String, endpoints: [(host: String, port: Int)])],
        routePrefix: String = "/"
    ) throws -> Snapshot {
        var resources: [Resource] = []
        for cluster in clusters {
            resources.append(try Resource(edsCluster(cluster.name)))
            resources.append(try Resource(loadAssignment(cluster.name, endpoints: cluster.endpoints)))
        }
        resources.append(try Resource(httpListener("listener_\(port)", port: port, routeConfigName: "routes")))
        resources.append(
            try Resource(routeConfiguration("routes", routes: clusters.prefix(1).map { (routePrefix, $0.name) })))
        return try Snapshot(resources)
    }

    static func socketAddress(_ host: String, _ port: Int) -> Envoy_Config_Core_V3_Address {
        var address = Envoy_Config_Core_V3_Address()
        address.socketAddress.address = host
        address.socketAddress.portValue = UInt32(port)
        return address
    }
}
