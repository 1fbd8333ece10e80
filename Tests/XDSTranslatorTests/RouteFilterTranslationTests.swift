import EnvoyAPI
import GatewayAPI
import GatewayIR
import GatewayTranslator
import Testing
import XDSTranslator

@Suite("HTTPRoute filters in the xDS routes")
struct RouteFilterTranslationTests {
    static let yaml = """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: eg}
        spec:
          gatewayClassName: envoy
          listeners: [{name: http, port: 8080, protocol: HTTP}]
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: r}
        spec:
          parentRefs: [{name: eg}]
          rules:
          - matches: [{path: {type: PathPrefix, value: /app}}]
            filters:
            - type: RequestHeaderModifier
              requestHeaderModifier: {set: [{name: x-env, value: prod}], add: [{name: x-trace, value: "1"}], remove: [cookie]}
            - type: ResponseHeaderModifier
              responseHeaderModifier: {set: [{name: x-served-by, value: switchboard}], remove: [server]}
            backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: b}]
          - matches: [{path: {type: PathPrefix, value: /old}}]
            filters:
            - type: RequestRedirect
              requestRedirect: {scheme: https, hostname: new.example.com, statusCode: 301, path: {type: ReplacePrefixMatch, replacePrefixMatch: /new}}
        ---
        apiVersion: gateway.envoyproxy.io/v1alpha1
        kind: Backend
        metadata: {name: b}
        spec: {endpoints: [{ip: {address: 10.0.0.1, port: 80}}]}
        """

    func routes() throws -> [Envoy_Config_Route_V3_Route] {
        let resources = ResourceSet.load([("r.yaml", Self.yaml)])
        try #require(resources.diagnostics.isEmpty, "\(resources.diagnostics)")
        let listener = try #require(GatewayTranslator.translate(resources).configs.first?.listeners.first)
        return try RouteTranslator.routeConfiguration(listener).virtualHosts.flatMap(\.routes)
    }

    @Test("header modifiers: set overwrites, add appends, remove removes, on requests and responses")
    func headers() throws {
        let route = try #require(try routes().first { $0.name.contains("rule/0") })
        #expect(route.requestHeadersToAdd.map(\.header.key) == ["x-env", "x-trace"])
        #expect(route.requestHeadersToAdd.map(\.appendAction) == [.overwriteIfExistsOrAdd, .appendIfExistsOrAdd])
        #expect(route.requestHeadersToRemove == ["cookie"])
        #expect(route.responseHeadersToAdd.map(\.header.value) == ["switchboard"])
        #expect(route.responseHeadersToRemove == ["server"])
        #expect(route.route.cluster == "httproute/default/r/rule/0")
    }

    @Test("a redirect answers instead of forwarding, with the scheme, host, prefix and status asked for")
    func redirect() throws {
        let route = try #require(try routes().first { $0.name.contains("rule/1") })
        guard case .redirect(let redirect) = route.action else {
            Issue.record("expected a redirect action, got \(String(describing: route.action))")
            return
        }
        #expect(redirect.schemeRedirect == "https")
        #expect(redirect.hostRedirect == "new.example.com")
        #expect(redirect.prefixRewrite == "/new")
        #expect(redirect.responseCode == .movedPermanently)
    }
}
