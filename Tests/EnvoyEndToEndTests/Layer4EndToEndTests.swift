import AdminAPI
import Foundation
import Testing
import XDSTesting

/// TLS passthrough by SNI, TCP and UDP through a real Envoy (SotW and delta): the client reaches
/// the TLS upstream through Envoy and sees the upstream's own certificate (it trusts only that);
/// a TCPRoute and a UDPRoute echo through `tcp_proxy` and `udp_proxy`; a BackendTrafficPolicy on
/// the TCPRoute reaches its cluster (PROXY protocol: the echo server sees the client's address).
/// An HTTPS listener shares the passthrough port: Envoy terminates its hostname's TLS itself.
@Suite(
    "TLS passthrough, TCP and UDP routes with a real Envoy",
    .enabled(if: envoyRequired, "no Envoy binary (set ENVOY_BIN or create .venv)"))
struct Layer4EndToEndTests {
    @Test("TLSRoute by SNI to a TLS upstream, TCPRoute and UDPRoute echoes", arguments: [false, true])
    func layer4(delta: Bool) async throws {
        let directory = try SwitchboardCommand.temporaryDirectory("layer4")
        defer { try? FileManager.default.removeItem(at: directory) }
        let certificate = try TestCertificate.make(for: "web.example.com", in: directory)
        let wwwCertificate = try TestCertificate.make(for: "www.example.com", in: directory)
        let (tlsUpstream, tcpUpstream, udpUpstream) = (try freePort(), try freePort(), try freePort())
        let (tlsPort, tcpPort, udpPort, xdsPort, adminPort) = (
            try freePort(), try freePort(), try freePort(), try freePort(), try freePort()
        )
        let servers = [
            try Layer4Peers.server(
                "tls", port: tlsUpstream, name: "web", certificate: certificate, in: directory),
            try Layer4Peers.server("tcp", port: tcpUpstream, name: "tcp-echo"),
            try Layer4Peers.server("udp", port: udpUpstream, name: "udp-echo"),
        ]
        defer { for server in servers where server.isRunning { kill(server.processIdentifier, SIGKILL) } }
        try """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: edge, namespace: default}
        spec:
          gatewayClassName: eg
          listeners:
          - {name: tls, protocol: TLS, port: \(tlsPort), tls: {mode: Passthrough}}
          - name: https
            protocol: HTTPS
            port: \(tlsPort)
            hostname: www.example.com
            tls: {certificateRefs: [{name: www}]}
          - {name: tcp, protocol: TCP, port: \(tcpPort)}
          - {name: udp, protocol: UDP, port: \(udpPort)}
        ---
        apiVersion: gateway.envoyproxy.io/v1alpha1
        kind: Backend
        metadata: {name: web, namespace: default}
        spec: {endpoints: [{ip: {address: 127.0.0.1, port: \(tlsUpstream)}}]}
        ---
        apiVersion: gateway.envoyproxy.io/v1alpha1
        kind: Backend
        metadata: {name: tcp-echo, namespace: default}
        spec: {endpoints: [{ip: {address: 127.0.0.1, port: \(tcpUpstream)}}]}
        ---
        apiVersion: gateway.envoyproxy.io/v1alpha1
        kind: Backend
        metadata: {name: udp-echo, namespace: default}
        spec: {endpoints: [{ip: {address: 127.0.0.1, port: \(udpUpstream)}}]}
        ---
        apiVersion: gateway.networking.k8s.io/v1alpha2
        kind: TLSRoute
        metadata: {name: web, namespace: default}
        spec:
          parentRefs: [{name: edge, sectionName: tls}]
          hostnames: [web.example.com]
          rules: [{backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: web}]}]
        ---
        apiVersion: gateway.networking.k8s.io/v1alpha2
        kind: TCPRoute
        metadata: {name: echo, namespace: default}
        spec:
          parentRefs: [{name: edge, sectionName: tcp}]
          rules: [{backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: tcp-echo}]}]
        ---
        apiVersion: gateway.networking.k8s.io/v1alpha2
        kind: UDPRoute
        metadata: {name: echo, namespace: default}
        spec:
          parentRefs: [{name: edge, sectionName: udp}]
          rules: [{backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: udp-echo}]}]
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: www, namespace: default}
        spec:
          parentRefs: [{name: edge, sectionName: https}]
          rules:
          - filters: [{type: RequestRedirect, requestRedirect: {hostname: moved.example.com, statusCode: 301}}]
        ---
        \(wwwCertificate.secret(name: "www"))---
        apiVersion: gateway.envoyproxy.io/v1alpha1
        kind: BackendTrafficPolicy
        metadata: {name: echo, namespace: default}
        spec:
          targetRefs: [{group: gateway.networking.k8s.io, kind: TCPRoute, name: echo}]
          proxyProtocol: {version: V1}

        """.write(to: directory.appendingPathComponent("gateway.yaml"), atomically: true, encoding: .utf8)
        try certificate.certificatePEM.write(
            to: directory.appendingPathComponent("upstream.pem"), atomically: true, encoding: .utf8)

        let serve = try SwitchboardCommand.serve(config: directory, xdsPort: xdsPort, adminPort: adminPort)
        defer { if serve.isRunning { serve.terminate() } }
        let envoy = try await EnvoyProcess.start(
            bootstrap: try SwitchboardCommand.bootstrap(xdsPort: xdsPort, gateway: "default/edge", delta: delta))
        defer { Task { await envoy.stop() } }

        // The client trusts only the upstream's certificate: Envoy passes TLS through untouched.
        let tls = await eventually(timeout: .seconds(60)) {
            try Layer4Peers.send(
                "tls", port: tlsPort, message: "hello", serverName: "web.example.com",
                trusting: certificate.certificateFile) == "web got hello"
        }
        #expect(tls, "Envoy log:\n\(envoy.log().suffix(2000))")
        let otherName = try Layer4Peers.send(
            "tls", port: tlsPort, message: "hello", serverName: "other.example.com",
            trusting: certificate.certificateFile)
        #expect(otherName.hasPrefix("error"), "no route takes other.example.com: \(otherName)")
        // The same port terminates www.example.com's TLS with its own certificate.
        let www = try HTTPSClient.get(
            host: "www.example.com", port: tlsPort, trusting: wwwCertificate.certificateFile, http2: false)
        #expect(www.status == 301, "HTTPS on the passthrough port: \(www.status) \(www.body)")
        // The policy's PROXY protocol header comes first, naming the client Envoy accepted.
        let tcp = await eventually(timeout: .seconds(60)) {
            let reply = try Layer4Peers.send("tcp", port: tcpPort, message: "ping")
            return reply.hasPrefix("tcp-echo got PROXY TCP4 127.0.0.1 127.0.0.1 ") && reply.hasSuffix("\r\nping")
        }
        #expect(tcp, "Envoy log:\n\(envoy.log().suffix(2000))")
        let udp = await eventually(timeout: .seconds(60)) {
            try Layer4Peers.send("udp", port: udpPort, message: "ping") == "udp-echo got ping"
        }
        #expect(udp)
        let status = try await switchboardStatus(adminPort: adminPort)
        for (type, state) in status.envoys.flatMap(\.types) {
            #expect(state.nackMessage == nil, "\(type) NACKed: \(state.nackMessage ?? "")")
        }
    }
}
