import ArgumentParser
import ControlPlane
import Foundation
import XDSCache
import XDSTesting

/// Measures the cost of turning files into snapshots: for N HTTPRoutes (each with two rules, a
/// header match and a Backend of its own) on one Gateway, written as one file per route, the time
/// to read and decode the files, and the time to translate them into the Gateway's snapshot
/// (GatewayIR, Envoy protobufs, serialization and content hashes included).
@main
struct TranslationBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "translate-bench", abstract: "Time to load and translate N HTTPRoutes with Backends.")

    @Option(name: .long, parsing: .upToNextOption, help: "Route counts to measure.")
    var routes: [Int] = [100, 1000, 10000]

    @Option(help: "Runs per count; the best is reported.")
    var runs = 3

    func run() throws {
        print("routes  files  load (read+parse+decode)  translate (IR+xDS+hash)  total     resources")
        for count in routes {
            let directory = try Self.writeFiles(routes: count)
            defer { try? FileManager.default.removeItem(at: directory) }
            var best: (load: Double, translate: Double, resources: Int)?
            for _ in 0..<runs {
                let start = ContinuousClock.now
                let resources = try ConfigFiles.load([directory.path])
                let loaded = ContinuousClock.now
                let result = try Translation.translate(resources)
                let translated = ContinuousClock.now
                guard resources.diagnostics.isEmpty, let snapshot = result.snapshots["default/eg"] else {
                    throw ValidationError("generated files did not translate: \(resources.diagnostics.prefix(3))")
                }
                let sample = (
                    load: (loaded - start) / .milliseconds(1), translate: (translated - loaded) / .milliseconds(1),
                    resources: ResourceType.allCases.reduce(0) { $0 + snapshot[$1].count }
                )
                if best == nil || sample.load + sample.translate < best!.load + best!.translate { best = sample }
            }
            let b = best!
            print(
                String(
                    format: "%6d  %5d  %20.1f ms  %19.1f ms  %7.1f ms  %9d", count, count + 1, b.load, b.translate,
                    b.load + b.translate, b.resources))
        }
    }

    static func writeFiles(routes count: Int) throws -> URL {
        let directory = try SwitchboardCommand.temporaryDirectory("translate-bench")
        let gateway = """
            apiVersion: gateway.networking.k8s.io/v1
            kind: Gateway
            metadata: {name: eg, namespace: default}
            spec:
              gatewayClassName: eg
              listeners: [{name: http, protocol: HTTP, port: 80, hostname: "*.example.com"}]
            """
        try gateway.write(to: directory.appendingPathComponent("gateway.yaml"), atomically: true, encoding: .utf8)
        for index in 0..<count {
            let route = """
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
                  - matches: [{path: {type: PathPrefix, value: /app-\(index)}}]
                    backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: app-\(index)}]
                """
            try route.write(
                to: directory.appendingPathComponent("route-\(index).yaml"), atomically: true, encoding: .utf8)
        }
        return directory
    }
}
