import Foundation
import Testing
import XDSTesting

func writeConfig(_ files: [String: String]) throws -> URL {
    try SwitchboardCommand.configDirectory("switchboard", files: files)
}

func gatewayYAML(port: Int, upstreamPort: Int) -> String {
    TestManifests.gatewayWithBackend(listenerPort: port, upstreamPort: upstreamPort)
}

/// BackendTrafficPolicy `breaker` on HTTPRoute `backend` with `maxConnections: limit`.
func breakerPolicy(_ limit: Int) -> String {
    """
    ---
    apiVersion: gateway.envoyproxy.io/v1alpha1
    kind: BackendTrafficPolicy
    metadata: {name: breaker}
    spec:
      targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: backend}]
      circuitBreaker: {maxConnections: \(limit)}
    """
}

@Suite("switchboard validate, translate and bootstrap")
struct SwitchboardCLITests {
    @Test("validate: exit 0 on good files; exit 1 with one path:line:col: message per problem")
    func validate() throws {
        let good = try writeConfig(["gw.yaml": gatewayYAML(port: 8080, upstreamPort: 3000)])
        let ok = try SwitchboardCommand.run(["validate", good.path])
        #expect(ok.status == 0)
        #expect(ok.stdout.isEmpty)

        let bad = try writeConfig([
            "nested/route.yaml":
                "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r}\nspec:\n  rulez: []\n",
            "broken.yml": "kind: [\n",
        ])
        let failed = try SwitchboardCommand.run(["validate", bad.path])
        #expect(failed.status == 1)
        let lines = failed.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 2, "\(lines)")
        #expect(lines.contains { $0.hasPrefix(bad.path + "/broken.yml:2:") && $0.contains("YAML") })
        #expect(
            lines.contains(
                bad.path + #"/nested/route.yaml:5:3: spec.rulez: unknown field "rulez" (did you mean "rules"?)"#))
    }

    @Test("validate: a reference to nothing is a warning at the route, not a failure")
    func validateWarnings() throws {
        let yaml = gatewayYAML(port: 8080, upstreamPort: 3000).replacingOccurrences(
            of: "name: backend}]", with: "name: nowhere}]")
        let config = try writeConfig(["gw.yaml": yaml])
        let result = try SwitchboardCommand.run(["validate", config.path])
        #expect(result.status == 0)
        #expect(
            result.stdout.contains(
                config.path
                    + "/gw.yaml:8:1: warning: HTTPRoute default/backend on Gateway default/eg: ResolvedRefs=False BackendNotFound: "
                    + "Failed to process route rule 0 backendRef 0: Backend default/nowhere not found."),
            "\(result.stdout)")
    }

    @Test("validate warns at the Secret about a certificate close to expiry; translate redacts its key")
    func certificateExpiry() throws {
        let directory = try SwitchboardCommand.temporaryDirectory("expiry")
        defer { try? FileManager.default.removeItem(at: directory) }
        let soon = try TestCertificate.make(for: "soon.example.com", days: 5, in: directory)
        let later = try TestCertificate.make(for: "later.example.com", days: 60, in: directory)
        let gateway = """
            apiVersion: gateway.networking.k8s.io/v1
            kind: Gateway
            metadata: {name: eg, namespace: default}
            spec:
              gatewayClassName: eg
              listeners:
              - {name: soon, protocol: HTTPS, port: 443, hostname: soon.example.com, tls: {certificateRefs: [{name: soon}]}}
              - {name: later, protocol: HTTPS, port: 443, hostname: later.example.com, tls: {certificateRefs: [{name: later}]}}

            """
        let config = try writeConfig([
            "gw.yaml": gateway, "soon.yaml": soon.secret(name: "soon"), "later.yaml": later.secret(name: "later"),
        ])
        let result = try SwitchboardCommand.run(["validate", config.path])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let warnings = result.stdout.split(separator: "\n").filter { $0.contains("the certificate expires") }
        #expect(warnings.count == 1, "\(result.stdout)")
        #expect(warnings.first?.hasPrefix(config.path + "/soon.yaml:1:1: warning: Secret default/soon: ") == true)

        let translated = try SwitchboardCommand.run(["translate", "--config", config.path])
        #expect(translated.status == 0, "\(translated.stderr)")
        #expect(translated.stdout.contains("name: default/soon") && translated.stdout.contains("W3JlZGFjdGVkXQ=="))
        #expect(!translated.stdout.contains("PRIVATE KEY"))
        #expect(translated.stdout.contains("expiresSoon: true"))
    }

    @Test("translate prints the xDS resources; bootstrap prints what serve expects")
    func translateAndBootstrap() throws {
        let config = try writeConfig(["gw.yaml": gatewayYAML(port: 80, upstreamPort: 3000)])
        let yaml = try SwitchboardCommand.run(["translate", "--config", config.path])
        #expect(yaml.status == 0, "\(yaml.stderr)")
        #expect(yaml.stdout.contains("name: default/eg/http"))
        #expect(yaml.stdout.contains("portValue: 10080"), "port 80 becomes 10080")
        #expect(yaml.stdout.contains("name: httproute/default/backend/rule/0"))
        let json = try SwitchboardCommand.run(["translate", "--config", config.path, "--output", "json"])
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(object?.keys.sorted() == ["clusters", "endpoints", "listeners", "routes", "status"])
        let status = object?["status"] as? [String: Any]
        let route = (status?["httpRoutes"] as? [[String: Any]])?.first
        let parent = (route?["parents"] as? [[String: Any]])?.first
        let conditions = parent?["conditions"] as? [[String: String]]
        #expect(conditions?.map { "\($0["type"]!)=\($0["status"]!)" } == ["Accepted=True", "ResolvedRefs=True"])
        let missing = try SwitchboardCommand.run(["translate", "--config", config.path, "--gateway", "default/nope"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("default/eg"))

        let bootstrap = try SwitchboardCommand.run([
            "bootstrap", "--xds-address", "switchboard:18000", "--gateway", "default/eg", "--delta",
        ])
        #expect(bootstrap.stdout.contains("api_type: DELTA_GRPC"))
        #expect(bootstrap.stdout.contains(#"cluster: "default/eg""#))
        #expect(bootstrap.stdout.contains(#"address: "switchboard", port_value: 18000"#))
    }

    @Test("BackendTrafficPolicy can be switched off, for everyone or per namespace; the policy says why")
    func disablePolicies() throws {
        let policy = """
            ---
            apiVersion: gateway.envoyproxy.io/v1alpha1
            kind: BackendTrafficPolicy
            metadata: {name: slow-connect}
            spec:
              targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: backend}]
              timeout: {tcp: {connectTimeout: 3s}}
            """
        let config = try writeConfig(["gw.yaml": gatewayYAML(port: 8080, upstreamPort: 3000) + "\n" + policy])
        let applied = try SwitchboardCommand.run(["translate", "--config", config.path])
        #expect(applied.stdout.contains("connectTimeout: 3s"), "\(applied.stdout)")
        for flags in [["--disable-backend-traffic-policy"], ["--disable-backend-traffic-policy-in", "default"]] {
            let disabled = try SwitchboardCommand.run(["translate", "--config", config.path] + flags)
            #expect(disabled.status == 0)
            #expect(disabled.stdout.contains("connectTimeout: 10s"))
            #expect(disabled.stdout.contains("reason: Disabled"))
        }
        let elsewhere = try SwitchboardCommand.run([
            "translate", "--config", config.path, "--disable-backend-traffic-policy-in", "tenant-b",
        ])
        #expect(elsewhere.stdout.contains("connectTimeout: 3s"))
    }

    @Test(
        "global rate limits: translate and validate take the rate limit service's address; serve's flags say what they need"
    )
    func globalRateLimitFlags() throws {
        let policy = """
            ---
            apiVersion: gateway.envoyproxy.io/v1alpha1
            kind: BackendTrafficPolicy
            metadata: {name: limits}
            spec:
              targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: backend}]
              rateLimit:
                global:
                  rules:
                  - clientSelectors: [{headers: [{name: x-user, type: Distinct}]}]
                    limit: {requests: 7, unit: Minute}
            """
        let config = try writeConfig(["gw.yaml": gatewayYAML(port: 8080, upstreamPort: 3000) + "\n" + policy])
        let without = try SwitchboardCommand.run(["translate", "--config", config.path])
        #expect(without.status == 0)
        #expect(!without.stdout.contains("rateLimitConfigs:"))
        #expect(without.stdout.contains("--ratelimit-envoy-address HOST:PORT"), "\(without.stdout)")
        let with = try SwitchboardCommand.run([
            "translate", "--config", config.path, "--ratelimit-envoy-address", "ratelimit:8081",
        ])
        #expect(with.status == 0, "\(with.stderr)")
        #expect(with.stdout.contains("rateLimitConfigs:\n- name: default/eg/http\n  domain: default/eg/http"))
        #expect(with.stdout.contains("requestsPerUnit: 7"))
        #expect(with.stdout.contains("address: ratelimit") && with.stdout.contains("portValue: 8081"))

        let warned = try SwitchboardCommand.run(["validate", config.path])
        #expect(warned.stdout.contains("global rate limits need the rate limit service"), "\(warned.stdout)")
        let clean = try SwitchboardCommand.run(["validate", "--ratelimit-envoy-address", "ratelimit:8081", config.path])
        #expect(clean.status == 0 && clean.stdout.isEmpty, "\(clean.stdout)")

        // Redis counts for this process's own service; the timeout and failure mode are Envoy's.
        let redisAlone = try SwitchboardCommand.run(["serve", "--config", config.path, "--ratelimit-redis", "r:6379"])
        #expect(redisAlone.status != 0)
        #expect(redisAlone.stderr.contains("--ratelimit-redis needs --ratelimit-address HOST:PORT"))
        let timeoutAlone = try SwitchboardCommand.run(["serve", "--config", config.path, "--ratelimit-timeout", "1s"])
        #expect(timeoutAlone.status != 0)
        #expect(timeoutAlone.stderr.contains("needs --ratelimit-address HOST:PORT or --ratelimit-envoy-address"))
    }

    @Test("lint prints one line per finding and exits 1 at --fail-on or worse; validate --lint runs both")
    func lint() throws {
        let policy = """
            ---
            apiVersion: gateway.envoyproxy.io/v1alpha1
            kind: BackendTrafficPolicy
            metadata: {name: retries}
            spec:
              targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: backend}]
              retry:
                numRetries: 7
                perRetry: {timeout: 1s}
              circuitBreaker: {retryBudget: {percent: {numerator: 20}}}
              healthCheck: {passive: {}}
            """
        let config = try writeConfig(["gw.yaml": gatewayYAML(port: 8080, upstreamPort: 3000) + "\n" + policy])
        let linted = try SwitchboardCommand.run(["lint", config.path])
        #expect(linted.status == 1)
        // Sorted by place: retry (BTP003), then the passive check on a one-endpoint Backend (BTP009).
        let lines = linted.stdout.split(separator: "\n")
        #expect(lines.count == 2, "\(linted.stdout)")
        #expect(lines.first?.contains("gw.yaml:") == true)
        #expect(lines.first?.contains(": warning BTP003: spec.retry.numRetries: 7 retries") == true)
        #expect(lines.last?.contains(": warning BTP009: spec.healthCheck.passive: Backend default/backend") == true)
        let lenient = try SwitchboardCommand.run(["lint", "--fail-on", "error", config.path])
        #expect(lenient.status == 0 && lenient.stdout == linted.stdout)
        let validated = try SwitchboardCommand.run(["validate", "--lint", config.path])
        #expect(validated.status == 1 && validated.stdout.contains("BTP003"))
        let plain = try SwitchboardCommand.run(["validate", config.path])
        #expect(plain.status == 0 && !plain.stdout.contains("BTP003"))
    }

    @Test(
        "explain: a rule or a request, as text or JSON; the policy and line of each setting; exit 1 when nothing matches"
    )
    func explain() throws {
        let config = try writeConfig(["gw.yaml": gatewayYAML(port: 8080, upstreamPort: 3000) + "\n" + breakerPolicy(64)]
        )
        let text = try SwitchboardCommand.run(["explain", "--config", config.path, "httproute/default/backend/rule/0"])
        #expect(text.status == 0, "\(text.stderr)")
        let lines = text.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "HTTPRoute default/backend rule 0 on Gateway default/eg, listener http")
        #expect(lines.contains { $0.hasPrefix("  route  default/breaker  ") && $0.hasSuffix("  applies") })
        // The field, its value, the policy and level, and where it is written: in gw.yaml at the key (column 20).
        #expect(
            lines.contains {
                $0.range(
                    of: #"^  circuitBreaker\.maxConnections +64 +default/breaker \(route\) +\S*gw\.yaml:\d+:20$"#,
                    options: .regularExpression) != nil
            }, "\(text.stdout)")
        #expect(lines.contains { $0.contains("circuitBreaker.maxPendingRequests") && $0.hasSuffix("CRD default") })
        #expect(lines.contains("  cluster       httproute/default/backend/rule/0"))

        let json = try SwitchboardCommand.run([
            "explain", "--config", config.path, "--request", "GET http://example.com:8080/anything", "--output", "json",
        ])
        #expect(json.status == 0, "\(json.stderr)")
        let decoded = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
        let request = decoded?.first?["request"] as? [String: Any]
        #expect(request?["route"] as? String == "httproute/default/backend/rule/0/match/0/*")
        #expect(
            (decoded?.first?["envoy"] as? [String: Any])?["clusters"] as? [String] == [
                "httproute/default/backend/rule/0"
            ])

        let nowhere = try SwitchboardCommand.run([
            "explain", "--config", config.path, "--request", "https://example.com/",
        ])
        #expect(nowhere.status == 1)
        #expect(nowhere.stderr.contains("matches no route: no https listener on port 443"), "\(nowhere.stderr)")
        let unknown = try SwitchboardCommand.run(["explain", "--config", config.path, "httproute/default/nope"])
        #expect(unknown.status == 1 && unknown.stderr.contains("no httproute/default/nope in the files"))
        let both = try SwitchboardCommand.run([
            "explain", "--config", config.path, "--request", "http://x/", "httproute/default/backend",
        ])
        #expect(both.status != 0 && both.stderr.contains("not both"))
    }

    @Test("diff: field-level xDS changes in Envoy's names, status changes and new load problems; exit 0, 1 or 2")
    func diff() throws {
        let policy = breakerPolicy
        let old = try writeConfig(["gw.yaml": gatewayYAML(port: 8080, upstreamPort: 3000) + "\n" + policy(1024)])
        let new = try writeConfig(["gw.yaml": gatewayYAML(port: 8080, upstreamPort: 3000) + "\n" + policy(2048)])
        let same = try SwitchboardCommand.run(["diff", "--config", old.path, "--against", old.path])
        #expect(same.status == 0 && same.stdout.isEmpty, "\(same.stdout)")
        let changed = try SwitchboardCommand.run(["diff", "--config", new.path, "--against", old.path])
        #expect(changed.status == 1)
        #expect(
            changed.stdout == """
                gateway default/eg:
                  ~ cluster httproute/default/backend/rule/0: circuit_breakers.thresholds[0].max_connections: 1024 → 2048

                """, "\(changed.stdout)")

        // The policy loses its target: its status changes, and the cluster loses its limits.
        let retargeted = try writeConfig([
            "gw.yaml": gatewayYAML(port: 8080, upstreamPort: 3000) + "\n"
                + policy(2048).replacingOccurrences(of: "name: backend}", with: "name: gone}") + "\n---\nbad: [\n"
        ])
        let broken = try SwitchboardCommand.run(["diff", "--config", retargeted.path, "--against", old.path])
        #expect(broken.status == 1)
        #expect(broken.stdout.contains("\nstatus:\n  ~ backendTrafficPolicies[default/breaker].ancestors: "))
        #expect(broken.stdout.contains("\nload problems:\n  + "))
        let missing = try SwitchboardCommand.run(["diff", "--config", "/nonexistent", "--against", old.path])
        #expect(missing.status == 2 && missing.stderr.contains("/nonexistent"))
        // Usage errors are errors too (2), never "changed" (1) nor ArgumentParser's 64.
        let unfinished = try SwitchboardCommand.run(["diff", "--config", old.path])
        #expect(unfinished.status == 2 && unfinished.stderr.contains("--against"), "\(unfinished.stderr)")
        let mistyped = try SwitchboardCommand.run(["diff", "--config", old.path, "--againts", old.path])
        #expect(mistyped.status == 2, "\(mistyped.stderr)")

        // A route more: its cluster and its route entry are added; the other way, removed.
        let extra = try writeConfig([
            "gw.yaml": gatewayYAML(port: 8080, upstreamPort: 3000) + "\n" + policy(1024) + """

                ---
                apiVersion: gateway.networking.k8s.io/v1
                kind: HTTPRoute
                metadata: {name: extra}
                spec:
                  parentRefs: [{name: eg}]
                  rules:
                  - matches: [{path: {value: /extra}}]
                    backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: backend}]
                """
        ])
        let added = try SwitchboardCommand.run(["diff", "--config", extra.path, "--against", old.path])
        #expect(added.status == 1)
        #expect(added.stdout.contains("\n  + cluster httproute/default/extra/rule/0\n"), "\(added.stdout)")
        #expect(added.stdout.contains("httproute/default/extra/rule/0/match/0/"), "\(added.stdout)")
        let removed = try SwitchboardCommand.run(["diff", "--config", old.path, "--against", extra.path])
        #expect(removed.status == 1)
        #expect(removed.stdout.contains("\n  - cluster httproute/default/extra/rule/0\n"), "\(removed.stdout)")
    }

    @Test("diff --admin-address: the change against what a running server serves; once applied, nothing is left")
    func diffAgainstServer() async throws {
        let policy = breakerPolicy
        let running = try writeConfig(["gw.yaml": gatewayYAML(port: 8080, upstreamPort: 3000) + "\n" + policy(1024)])
        let proposed = try writeConfig(["gw.yaml": gatewayYAML(port: 8080, upstreamPort: 3000) + "\n" + policy(2048)])
        let adminPort = try freePort()
        let serve = try SwitchboardCommand.serve(config: running, xdsPort: try freePort(), adminPort: adminPort)
        defer { if serve.isRunning { serve.terminate() } }
        let ready = await eventually { try await HTTP.get("http://127.0.0.1:\(adminPort)/readyz").status == 200 }
        try #require(ready)
        let admin = ["--admin-address", "127.0.0.1:\(adminPort)"]
        let same = try SwitchboardCommand.run(["diff", "--config", running.path] + admin)
        #expect(same.status == 0 && same.stdout.isEmpty, "\(same.stdout)\(same.stderr)")
        let before = try SwitchboardCommand.run(["diff", "--config", proposed.path] + admin)
        #expect(before.status == 1)
        #expect(
            before.stdout.contains(
                "~ cluster httproute/default/backend/rule/0: circuit_breakers.thresholds[0].max_connections: 1024 → 2048"
            ),
            "\(before.stdout)")
        // Apply it: the server then serves exactly what diff predicted.
        try (gatewayYAML(port: 8080, upstreamPort: 3000) + "\n" + policy(2048)).write(
            to: running.appendingPathComponent("gw.yaml"), atomically: true, encoding: .utf8)
        let applied = await eventually {
            try SwitchboardCommand.run(["diff", "--config", proposed.path] + admin).status == 0
        }
        #expect(applied, "after the edit the server should serve what diff predicted")
        let nothing = try SwitchboardCommand.run(["diff", "--config", proposed.path] + admin)
        #expect(nothing.stdout.isEmpty, "\(nothing.stdout)")
        let unreachable = try SwitchboardCommand.run([
            "diff", "--config", proposed.path, "--admin-address", "127.0.0.1:\(try freePort())",
        ])
        #expect(unreachable.status == 2)
    }

    @Test("serve --log-format json writes one JSON object per line with the metadata as fields")
    func jsonLogs() async throws {
        let config = try writeConfig(["gw.yaml": gatewayYAML(port: 8080, upstreamPort: 3000)])
        let serve = Process()
        serve.executableURL = URL(fileURLWithPath: switchboardExecutable)
        serve.arguments = [
            "serve", "--config", config.path, "--xds-address", "127.0.0.1:\(try freePort())", "--admin-address",
            "127.0.0.1:\(try freePort())", "--log-format", "json", "--watch-mode", "off",
        ]
        let log = config.appendingPathComponent("serve.log")
        try ChildProcesses.launch {
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            serve.standardError = try FileHandle(forWritingTo: log)
            try serve.run()
        }
        try await Task.sleep(for: .seconds(1))
        serve.terminate()
        try #require(await ChildProcesses.exited(serve), "serve did not stop on SIGTERM")
        let lines = try String(contentsOf: log, encoding: .utf8).split(separator: "\n")
        let objects = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String] }
        #expect(!objects.isEmpty && objects.count == lines.count, "\(lines)")
        #expect(
            objects.contains {
                $0["message"] == "serving gateway" && $0["gateway"] == "default/eg" && $0["level"] == "info"
            })
        #expect(serve.terminationStatus == 0)
    }

    @Test("serve --watch-mode off loads once; SIGHUP reloads")
    func sighupReloads() async throws {
        let config = try writeConfig(["gw.yaml": gatewayYAML(port: 8080, upstreamPort: 3000)])
        let adminPort = try freePort()
        let serve = try SwitchboardCommand.serve(
            config: config, xdsPort: try freePort(), adminPort: adminPort, extra: ["--watch-mode", "off"])
        defer { if serve.isRunning { serve.terminate() } }
        let snapshot = "http://127.0.0.1:\(adminPort)/debug/snapshot?gateway=default/eg"
        let up = await eventually { try await HTTP.get(snapshot).body.contains("portValue: 3000") }
        try #require(up)
        try gatewayYAML(port: 8080, upstreamPort: 3001).write(
            to: config.appendingPathComponent("gw.yaml"), atomically: true, encoding: .utf8)
        try await Task.sleep(for: .milliseconds(500))
        #expect(try await HTTP.get(snapshot).body.contains("portValue: 3000"), "no watching with --watch-mode off")
        kill(serve.processIdentifier, SIGHUP)
        let reloaded = await eventually { try await HTTP.get(snapshot).body.contains("portValue: 3001") }
        #expect(reloaded, "SIGHUP did not reload")
    }

    @Test(
        "health: exit 0 when /healthz (or with --ready, /readyz) answers 200; exit 1 with a message when nothing answers"
    )
    func health() async throws {
        let config = try writeConfig(["gw.yaml": gatewayYAML(port: 8080, upstreamPort: 3000)])
        let adminPort = try freePort()
        let serve = try SwitchboardCommand.serve(config: config, xdsPort: try freePort(), adminPort: adminPort)
        defer { if serve.isRunning { serve.terminate() } }
        let address = "127.0.0.1:\(adminPort)"
        let healthy = await eventually {
            try SwitchboardCommand.run(["health", "--admin-address", address]).status == 0
        }
        #expect(healthy)
        let ready = try SwitchboardCommand.run(["health", "--ready", "--admin-address", address])
        #expect(ready.status == 0 && ready.stdout == "ok\n", "\(ready)")

        serve.terminate()
        try #require(await ChildProcesses.exited(serve), "serve did not stop on SIGTERM")
        let down = try SwitchboardCommand.run(["health", "--admin-address", address])
        #expect(down.status == 1)
        #expect(down.stderr.contains("http://\(address)/healthz did not answer"), "\(down.stderr)")
    }
}
