import Testing

@testable import GatewayAPI

@Suite("Loading Gateway API resources")
struct ResourceSetTests {
    static let gateway = """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata:
          name: eg
          namespace: infra
        spec:
          gatewayClassName: envoy
          listeners:
          - name: http
            port: 80
            protocol: HTTP
            allowedRoutes:
              namespaces: {from: All}
        """

    static let route = """
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: backend}
        spec:
          parentRefs:
          - name: eg
            namespace: infra
            sectionName: http
          hostnames: ["www.example.com"]
          rules:
          - backendRefs:
            - {name: backend, port: 3000}
          - matches:
            - path: {value: /api}
              headers: [{name: x-tenant, value: a}]
              method: POST
            backendRefs:
            - {name: api, port: 8080, weight: 3}
        """

    @Test("a Gateway and an HTTPRoute load with the CRD defaults applied")
    func loadsWithDefaults() throws {
        let set = ResourceSet.load([("gw.yaml", Self.gateway), ("route.yaml", Self.route)])
        #expect(set.diagnostics.isEmpty, "\(set.diagnostics)")
        let gateway = try #require(set.gateways.first)
        #expect(gateway.namespace == "infra")
        #expect(gateway.listeners.map(\.port) == [80])
        #expect(gateway.listeners.first?.allowedNamespaces == "All")

        let route = try #require(set.httpRoutes.first)
        #expect(route.namespace == "default")
        #expect(
            route.parentRefs == [
                .init(
                    namespace: "infra", name: "eg", sectionName: "http", port: nil, written: .init(namespace: "infra"))
            ])
        #expect(route.rules.count == 2)
        #expect(route.rules[0].matches == [HTTPRoute.defaultMatch], "a rule with no matches matches PathPrefix /")
        #expect(route.rules[0].backendRefs.first?.weight == 1)
        #expect(route.rules[0].backendRefs.first?.kind == "Service")
        #expect(route.rules[0].backendRefs.first?.namespace == "default")
        #expect(route.rules[1].matches.first?.path == .init(kind: .pathPrefix, value: "/api"))
        #expect(route.rules[1].matches.first?.headers == [.init(kind: .exact, name: "x-tenant", value: "a")])
        #expect(route.rules[1].matches.first?.method == "POST")
        #expect(route.rules[1].backendRefs.first?.weight == 3)
    }

    @Test("bad fields are reported with file, line, field path and a fix; valid resources still load")
    func reportsAndKeepsGoodOnes() throws {
        let broken = """
            apiVersion: gateway.networking.k8s.io/v1
            kind: Gateway
            metadata: {name: broken}
            spec:
              gatewayClassName: envoy
              listeners:
              - name: http
                port: 80
                protocol: HTTPs
                hostnme: example.com
            """
        let set = ResourceSet.load([("broken.yaml", broken), ("route.yaml", Self.route)])
        #expect(set.httpRoutes.count == 1, "a bad Gateway must not take the route down")
        #expect(set.gateways.first?.listeners.isEmpty == true)
        #expect(
            set.diagnostics.map(\.description) == [
                #"broken.yaml:9:15: spec.listeners[0].protocol: "HTTPs" is not allowed: must be one of HTTP, HTTPS, TLS, TCP, UDP (did you mean "HTTPS"?)"#,
                #"broken.yaml:10:5: spec.listeners[0].hostnme: unknown field "hostnme" (did you mean "hostname"?)"#,
            ])
    }

    @Test("unknown kinds, wrong API groups and duplicate names are reported")
    func identityErrors() {
        let files = [
            ("a.yaml", Self.route),
            ("b.yaml", Self.route),
            ("c.yaml", "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoutes\nmetadata: {name: x}\n"),
            ("d.yaml", "apiVersion: gateway.networking.k8s.io/v1\nkind: BackendTrafficPolicy\nmetadata: {name: p}\n"),
        ]
        let set = ResourceSet.load(files)
        #expect(set.httpRoutes.count == 1)
        #expect(set.diagnostics.map(\.code) == [.duplicateName, .unknownKind, .notAllowed])
        #expect(set.diagnostics[0].message == "HTTPRoute default/backend is already defined at a.yaml:1:1")
        #expect(set.diagnostics[1].message == #"unknown kind "HTTPRoutes" (did you mean "HTTPRoute"?)"#)
        #expect(set.diagnostics[2].message.contains("gateway.envoyproxy.io"))
    }

    @Test("every later copy of a name, in its own file or the first's, names where the first is")
    func duplicatesNameTheFirst() {
        func route(_ name: String) -> String {
            """
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: \(name), namespace: default}
            spec: {parentRefs: [{name: eg}], rules: [{backendRefs: [{name: app, port: 80}]}]}

            """
        }
        let files = [
            ("a.yaml", route("one") + "---\n" + route("two")),
            ("b.yaml", route("three") + "---\n" + route("one")),
            ("c.yaml", route("three") + "---\n" + route("two") + "---\n" + route("two")),
        ]
        let set = ResourceSet.load(files)
        #expect(set.httpRoutes.map(\.name) == ["one", "two", "three"])
        #expect(
            set.diagnostics.map { "\($0.location): \($0.message)" } == [
                "b.yaml:6:1: HTTPRoute default/one is already defined at a.yaml:1:1",
                "c.yaml:1:1: HTTPRoute default/three is already defined at b.yaml:1:1",
                "c.yaml:6:1: HTTPRoute default/two is already defined at a.yaml:6:1",
                "c.yaml:11:1: HTTPRoute default/two is already defined at a.yaml:6:1",
            ])
    }

    @Test("a path value must start with a slash; ports and weights have ranges")
    func valueChecks() {
        let route = """
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: r}
            spec:
              rules:
              - matches: [{path: {type: Exact, value: api}}]
                backendRefs: [{name: b, port: 0, weight: -1}]
            """
        let set = ResourceSet.load([("r.yaml", route)])
        #expect(
            set.diagnostics.map(\.field) == [
                "spec.rules[0].matches[0].path.value", "spec.rules[0].backendRefs[0].port",
                "spec.rules[0].backendRefs[0].weight",
            ])
    }
}

@Suite("Loading backends")
struct BackendLoadingTests {
    @Test("Backend endpoints, and a Service with its EndpointSlice")
    func backends() throws {
        let yaml = """
            apiVersion: gateway.envoyproxy.io/v1alpha1
            kind: Backend
            metadata: {name: direct}
            spec:
              endpoints:
              - ip: {address: 10.0.0.7, port: 8080}
              - fqdn: {hostname: api.example.com, port: 443}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: web, namespace: apps}
            spec:
              ports:
              - {name: http, port: 80, targetPort: 8080}
              - {name: admin, port: 9000, targetPort: admin}
            ---
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata:
              name: web-abc
              namespace: apps
              labels: {kubernetes.io/service-name: web}
            addressType: IPv4
            endpoints:
            - addresses: [10.1.0.1]
              conditions: {ready: true}
            - addresses: [10.1.0.2]
              conditions: {ready: false, terminating: true}
            ports:
            - {name: http, port: 8080}
            """
        let set = ResourceSet.load([("backends.yaml", yaml)])
        #expect(set.diagnostics.isEmpty, "\(set.diagnostics)")
        #expect(
            set.backends.first?.endpoints == [
                .ip(address: "10.0.0.7", port: 8080), .fqdn(hostname: "api.example.com", port: 443),
            ])
        let service = try #require(set.services.first)
        #expect(service.ports.map(\.targetPort) == [8080, nil])
        let slice = try #require(set.endpointSlices.first)
        #expect(slice.serviceName == "web")
        #expect(slice.endpoints.map(\.ready) == [true, false])
        #expect(slice.ports == [.init(name: "http", port: 8080)])
    }

    @Test("an EndpointSlice without its service-name label, and a Backend endpoint without an address kind")
    func backendErrors() {
        let yaml = """
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata: {name: orphan}
            addressType: IPv4
            ---
            apiVersion: gateway.envoyproxy.io/v1alpha1
            kind: Backend
            metadata: {name: b}
            spec:
              endpoints:
              - unix: {path: /var/run/app.sock}
            """
        let set = ResourceSet.load([("bad.yaml", yaml)])
        #expect(set.diagnostics.map(\.field) == ["metadata.labels[kubernetes.io/service-name]", "spec.endpoints[0]"])
        #expect(set.diagnostics.last?.message.contains("not supported yet") == true)
    }
}

@Suite("HTTPRoute filters, timeouts and retry")
struct HTTPRouteFilterTests {
    @Test("the four standard filters, rule timeouts and retry load; unsupported ones are reported")
    func filters() throws {
        let yaml = """
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: r}
            spec:
              rules:
              - filters:
                - type: RequestHeaderModifier
                  requestHeaderModifier:
                    set: [{name: x-a, value: "1"}]
                    add: [{name: x-b, value: "2"}]
                    remove: [x-c]
                - type: ResponseHeaderModifier
                  responseHeaderModifier: {remove: [server]}
                - type: URLRewrite
                  urlRewrite:
                    hostname: internal.example.com
                    path: {type: ReplacePrefixMatch, replacePrefixMatch: /v2}
                - type: RequestMirror
                  requestMirror: {backendRef: {name: shadow, port: 80}}
                timeouts: {request: 10s, backendRequest: 2500ms}
                retry: {codes: [500, 503], attempts: 3, backoff: 100ms}
              - filters:
                - type: RequestRedirect
                  requestRedirect: {scheme: https, statusCode: 301}
            """
        let set = ResourceSet.load([("r.yaml", yaml)])
        #expect(set.diagnostics.map(\.field) == ["spec.rules[0].filters[3].type"])
        #expect(set.diagnostics.first?.message.contains("RequestMirror filters are not supported yet") == true)
        let rules = try #require(set.httpRoutes.first).rules
        #expect(
            rules[0].filters == [
                .requestHeaderModifier(
                    .init(set: [.init(name: "x-a", value: "1")], add: [.init(name: "x-b", value: "2")], remove: ["x-c"])
                ),
                .responseHeaderModifier(.init(remove: ["server"])),
                .urlRewrite(.init(hostname: "internal.example.com", path: .replacePrefixMatch("/v2"))),
            ])
        #expect(
            rules[0].timeouts == .init(request: .init(milliseconds: 10_000), backendRequest: .init(milliseconds: 2500)))
        #expect(rules[0].retry == .init(codes: [500, 503], attempts: 3, backoff: .init(milliseconds: 100)))
        #expect(rules[1].filters == [.requestRedirect(.init(scheme: "https", statusCode: 301))])
    }

    @Test("bad durations, status codes and retry codes are reported")
    func badValues() {
        let yaml = """
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: r}
            spec:
              rules:
              - timeouts: {request: 10 seconds}
                retry: {codes: [200]}
                filters:
                - type: RequestRedirect
                  requestRedirect: {statusCode: 304}
            """
        let set = ResourceSet.load([("r.yaml", yaml)])
        #expect(
            set.diagnostics.map(\.field).sorted() == [
                "spec.rules[0].filters[0].requestRedirect.statusCode", "spec.rules[0].retry.codes[0]",
                "spec.rules[0].timeouts.request",
            ])
    }
}

@Suite("GRPCRoute and GatewayClass")
struct GRPCRouteTests {
    @Test("service and method matches, header matches, backends; a class with its controller")
    func grpcRoute() throws {
        let yaml = """
            apiVersion: gateway.networking.k8s.io/v1
            kind: GatewayClass
            metadata: {name: envoy}
            spec: {controllerName: gateway.envoyproxy.io/gatewayclass-controller}
            ---
            apiVersion: gateway.networking.k8s.io/v1
            kind: GRPCRoute
            metadata: {name: echo, namespace: apps}
            spec:
              parentRefs: [{name: eg, namespace: infra}]
              hostnames: [grpc.example.com]
              rules:
              - matches:
                - method: {service: echo.Echo, method: Ping}
                  headers: [{name: x-tenant, value: a}]
                - method: {type: RegularExpression, service: "echo\\\\..*"}
                backendRefs: [{name: echo, port: 9000}]
              - matches:
                - method: {}
                filters:
                - type: RequestRedirect
                  requestRedirect: {scheme: https}
            """
        let set = ResourceSet.load([("grpc.yaml", yaml)])
        #expect(set.gatewayClasses.map(\.controllerName) == ["gateway.envoyproxy.io/gatewayclass-controller"])
        let route = try #require(set.grpcRoutes.first)
        #expect(
            route.parentRefs == [
                .init(namespace: "infra", name: "eg", sectionName: nil, port: nil, written: .init(namespace: "infra"))
            ])
        #expect(
            route.rules[0].matches.map(\.method) == [
                .init(kind: .exact, service: "echo.Echo", method: "Ping"),
                .init(kind: .regularExpression, service: #"echo\..*"#, method: nil),
            ])
        #expect(route.rules[0].matches[0].headers.map(\.name) == ["x-tenant"])
        #expect(route.rules[0].backendRefs.map(\.namespace) == ["apps"])
        #expect(set.diagnostics.map(\.field) == ["spec.rules[1].filters", "spec.rules[1].matches[0].method"])
    }

    @Test(
        "many files decode in parallel into what decoding them one by one gives: order, duplicates across files and every problem"
    )
    func parallelDecodeMatchesSequential() {
        let files = (0..<300).map { index -> (path: String, contents: String) in
            // Every 7th file repeats an earlier route's name; every 11th has a field error; every
            // 13th is broken YAML.
            let name = index % 7 == 6 ? "r-\(index - 3)" : "r-\(index)"
            var text = """
                apiVersion: gateway.networking.k8s.io/v1
                kind: HTTPRoute
                metadata: {name: \(name)}
                spec:
                  parentRefs: [{name: eg}]
                  rules: [{matches: [{path: {value: /p\(index)}}]}]
                """
            if index % 11 == 0 { text = text.replacingOccurrences(of: "rules:", with: "rulez:") }
            if index % 13 == 0 { text += "\n  oops: [" }
            return ("f-\(index).yaml", text)
        }
        let parallel = ResourceSet.load(files)
        let sequential = ResourceSet.assemble(files.map { DecodedFile(path: $0.path, contents: $0.contents) })
        #expect(parallel.httpRoutes == sequential.httpRoutes)
        #expect(parallel.diagnostics == sequential.diagnostics)
        #expect(parallel.httpRoutes.first?.name == "r-1")
        #expect(parallel.diagnostics.contains { $0.code == .duplicateName && $0.location.file == "f-6.yaml" })
        #expect(parallel.diagnostics.contains { $0.code == .syntax && $0.location.file == "f-13.yaml" })
        #expect(parallel.diagnostics.contains { $0.code == .unknownField && $0.location.file == "f-11.yaml" })
        // A duplicate's own field errors are not reported: it is dropped whole, as before.
        #expect(!parallel.diagnostics.contains { $0.location.file == "f-132.yaml" && $0.code == .unknownField })
    }
}
