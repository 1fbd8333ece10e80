import Foundation

/// The configuration the benchmarks load: one Gateway and N HTTPRoutes, each route in a file of
/// its own with its own Backend (two endpoints), two rules and a header match, as operators split
/// them. With `policies`, a Gateway-wide BackendTrafficPolicy (whose edit changes every cluster)
/// and, for every tenth route, a route BackendTrafficPolicy in the route's file (whose edit
/// changes that route's cluster).
public struct BenchmarkConfiguration: Sendable {
    public let directory: URL
    public let routes: Int
    public let policies: Bool

    /// Writes the files into a new directory under `parent`.
    public init(routes: Int, policies: Bool, in parent: URL) throws {
        directory = parent.appendingPathComponent("config-\(routes)")
        try? FileManager.default.removeItem(at: directory)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        self.routes = routes
        self.policies = policies
        try Self.write(Self.gateway, to: directory.appendingPathComponent("gateway.yaml"))
        if policies { try setGatewayPolicy(connectTimeoutMilliseconds: 1000) }
        for index in 0..<routes { try setRoute(index, edit: 0) }
    }

    public var files: Int { routes + 1 + (policies ? 1 : 0) }

    static let gateway = """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: eg, namespace: default}
        spec:
          gatewayClassName: eg
          listeners: [{name: http, protocol: HTTP, port: 80, hostname: "*.example.com"}]
        """

    /// The Gateway's snapshot key.
    public static let gatewayKey = "default/eg"

    /// Rewrites the Gateway-wide policy: every cluster changes.
    public func setGatewayPolicy(connectTimeoutMilliseconds: Int) throws {
        try Self.write(
            """
            apiVersion: gateway.envoyproxy.io/v1alpha1
            kind: BackendTrafficPolicy
            metadata: {name: gateway-defaults, namespace: default}
            spec:
              targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: eg}]
              timeout: {tcp: {connectTimeout: \(connectTimeoutMilliseconds)ms}}
              circuitBreaker: {maxConnections: 2048, maxPendingRequests: 512}
              loadBalancer: {type: LeastRequest}
            """, to: directory.appendingPathComponent("policy-gateway.yaml"))
    }

    /// Whether route `index` has a policy of its own.
    public func hasRoutePolicy(_ index: Int) -> Bool { policies && index % 10 == 0 }

    /// Rewrites route `index`'s file; `edit` changes its policy's connect timeout (one cluster
    /// changes) when it has one, else its second rule's path prefix (one route changes).
    /// Returns the path of the file written.
    @discardableResult
    public func setRoute(_ index: Int, edit: Int) throws -> String {
        var text = """
            apiVersion: gateway.envoyproxy.io/v1alpha1
            kind: Backend
            metadata: {name: app-\(index), namespace: default}
            spec:
              endpoints:
              - ip: {address: 10.\(index / 65536 % 256).\(index / 256 % 256).\(index % 256), port: 8080}
              - ip: {address: 10.\(index / 65536 % 256 + 100).\(index / 256 % 256).\(index % 256), port: 8080}
            ---
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: app-\(index), namespace: default}
            spec:
              parentRefs: [{name: eg}]
              hostnames: [app-\(index % 100).example.com]
              rules:
              - matches:
                - path: {type: PathPrefix, value: /app-\(index)}
                  headers: [{name: x-version, value: canary}]
                backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: app-\(index), weight: 10}]
              - matches: [{path: {type: PathPrefix, value: /app-\(index)\(hasRoutePolicy(index) || edit == 0 ? "" : "/v\(edit)")}}]
                backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: app-\(index)}]
            """
        if hasRoutePolicy(index) {
            text += """

                ---
                apiVersion: gateway.envoyproxy.io/v1alpha1
                kind: BackendTrafficPolicy
                metadata: {name: app-\(index), namespace: default}
                spec:
                  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: app-\(index)}]
                  timeout: {tcp: {connectTimeout: \(2000 + edit)ms}}
                  retry:
                    numRetries: 3
                    retryOn: {triggers: [connect-failure, retriable-status-codes], httpStatusCodes: [503]}
                  healthCheck:
                    passive: {consecutive5XxErrors: 5, interval: 10s, baseEjectionTime: 30s}
                """
        }
        let file = directory.appendingPathComponent("route-\(index).yaml")
        try Self.write(text, to: file)
        return file.path
    }

    /// Writes as an editor's "save" does: a new file renamed over the old, so a reader never sees
    /// half a file.
    static func write(_ text: String, to url: URL) throws {
        try text.write(to: url, atomically: true, encoding: .utf8)
    }
}
