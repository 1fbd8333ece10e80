import Foundation

/// Operator-side YAML for tests: what a user would write for Envoy Gateway.
public enum TestManifests {
    /// Gateway `default/eg` with one HTTP listener on `listenerPort`, and an HTTPRoute sending
    /// everything to a Backend at 127.0.0.1:`upstreamPort`.
    public static func gatewayWithBackend(listenerPort: Int, upstreamPort: Int) -> String {
        """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: eg}
        spec:
          gatewayClassName: envoy
          listeners: [{name: http, port: \(listenerPort), protocol: HTTP}]
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: backend}
        spec:
          parentRefs: [{name: eg}]
          rules:
          - backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: backend}]
        ---
        apiVersion: gateway.envoyproxy.io/v1alpha1
        kind: Backend
        metadata: {name: backend}
        spec: {endpoints: [{ip: {address: 127.0.0.1, port: \(upstreamPort)}}]}
        """
    }
}

/// The `switchboard` executable that `swift build --build-tests` puts beside the test bundle.
public let switchboardExecutable = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0])
    .deletingLastPathComponent().appendingPathComponent("switchboard").path
