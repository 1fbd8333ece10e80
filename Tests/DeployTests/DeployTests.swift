import ControlPlane
import Foundation
import GatewayAPI
import Testing
import XDSTesting
import Yams

/// The repository, found from this file.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..")
    .standardizedFileURL

/// A validator from Debian or PyPI: on PATH, or in the repository's `.venv`.
func tool(_ name: String) -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    let candidates =
        [root.appendingPathComponent(".venv/bin/\(name)").path]
        + path.split(separator: ":").map { "\($0)/\(name)" }
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
}

/// On CI a missing validator fails the test instead of skipping it (.ci/run installs them).
let onCI = ProcessInfo.processInfo.environment["CI"] == "true"

func read(_ path: String) throws -> String {
    try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
}

/// The `switchboard` built beside this test bundle.
let switchboardBinary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    .appendingPathComponent("switchboard")

/// What a command printed on standard output.
func output(of command: String, _ arguments: [String]) throws -> String {
    try runProcess(command, arguments).stdout
}

/// What `switchboard bootstrap` prints for these arguments.
func bootstrap(_ arguments: [String]) throws -> String {
    let result = try SwitchboardCommand.run(["bootstrap"] + arguments)
    #expect(result.status == 0, "\(result.stderr)")
    return result.stdout
}

@Suite("deploy/: bootstraps, compose file, container image")
struct DeployFileTests {
    static let composeArguments = [
        "--xds-address", "switchboard:18000", "--gateway", "default/eg", "--admin-address", "0.0.0.0:19901",
    ]

    @Test("deploy/envoy bootstraps are exactly what `switchboard bootstrap` prints for them")
    func envoyBootstraps() throws {
        #expect(try read("deploy/envoy/bootstrap-ads.yaml") == bootstrap(Self.composeArguments))
        #expect(try read("deploy/envoy/bootstrap-delta-ads.yaml") == bootstrap(Self.composeArguments + ["--delta"]))
    }

    @Test(
        "docker-compose accepts the compose file and refuses a broken one; every mounted file exists",
        .enabled(if: tool("docker-compose") != nil || onCI, "no docker-compose (apt install docker-compose)"))
    func compose() throws {
        let compose = try #require(tool("docker-compose"), "docker-compose is missing: apt install docker-compose")
        let file = root.appendingPathComponent("deploy/compose/docker-compose.yaml")
        let validated = try runProcess(compose, ["-f", file.path, "config", "-q"], in: root)
        #expect(validated.status == 0, "\(validated.stderr)")
        let checked = try runProcess(compose, ["-f", file.path, "config"], in: root)

        // What docker-compose resolved: bind mounts exist, Envoy reads a bootstrap from deploy/envoy.
        let resolved = try #require(try Yams.load(yaml: checked.stdout) as? [String: Any])
        let services = try #require(resolved["services"] as? [String: [String: Any]])
        #expect(Set(services.keys) == ["switchboard", "envoy", "blue", "green"])
        expectMountsExist(services, everyServiceMounts: true)
        let envoyCommand = try #require(services["envoy"]?["command"] as? [String])
        let bootstrapPath = try #require(envoyCommand.firstIndex(of: "-c").map { envoyCommand[$0 + 1] })
        #expect(bootstrapPath.hasPrefix("/etc/envoy/"))
        #expect(
            FileManager.default.fileExists(
                atPath: root.appendingPathComponent("deploy/envoy/" + bootstrapPath.dropFirst("/etc/envoy/".count)).path
            ))
        #expect(
            services["blue"]?["network_mode"] as? String == "service:envoy",
            "the quickstart's Backends expect upstreams on Envoy's 127.0.0.1")

        // The validator can fail: an unknown key is refused.
        let broken = try SwitchboardCommand.temporaryDirectory("compose").appendingPathComponent("docker-compose.yaml")
        try read("deploy/compose/docker-compose.yaml").replacingOccurrences(
            of: "    ports:", with: "    portz:", options: [], range: nil
        )
        .write(to: broken, atomically: true, encoding: .utf8)
        #expect(try runProcess(compose, ["-f", broken.path, "config", "-q"]).status != 0)
    }

    @Test("the switchboard service's command is one `switchboard serve` accepts")
    func composeCommandParses() throws {
        let compose = try #require(try Yams.load(yaml: read("deploy/compose/docker-compose.yaml")) as? [String: Any])
        let services = try #require(compose["services"] as? [String: [String: Any]])
        let command = try #require(services["switchboard"]?["command"] as? [String])
        #expect(
            command == Self.dockerfileCMD(try read("deploy/docker/Dockerfile")),
            "compose repeats the image's default command")
        try expectServeAccepts(command)
    }

    @Test(
        "the Dockerfile: a build stage and a slim runtime stage, a non-root user, serve as entrypoint, a health check")
    func dockerfile() throws {
        let text = try read("deploy/docker/Dockerfile")
        let instructions = text.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.hasPrefix(" ") }
        let from = instructions.filter { $0.hasPrefix("FROM ") }
        #expect(from.count == 2)
        #expect(from.first?.contains(" AS build") == true)
        #expect(from.last?.contains("slim") == true)
        #expect(instructions.contains { $0.hasPrefix("COPY --from=build ") })
        let user = try #require(instructions.last { $0.hasPrefix("USER ") })
        #expect(
            !user.contains("root")
                && user.dropFirst(5).split(separator: ":").allSatisfy { Int($0).map { $0 > 0 } ?? false })
        #expect(instructions.contains("ENTRYPOINT [\"switchboard\", \"serve\"]"))
        #expect(
            text.contains("CMD [\"switchboard\", \"health\""),
            "the HEALTHCHECK asks /healthz through `switchboard health`")
        try expectServeAccepts(Self.dockerfileCMD(text))
        // Every COPY source exists in the build context.
        for copy in instructions where copy.hasPrefix("COPY ") && !copy.contains("--from") {
            let source = String(copy.split(separator: " ")[1])
            #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent(source).path), "COPY \(source)")
        }
        #expect(try read(".dockerignore").contains(".build"))
        // The binary links RE2 and libyaml dynamically: headers to build, the libraries to run.
        let stages = text.components(separatedBy: "\nFROM ").dropFirst()  // the comments before the first
        #expect(stages.count == 2 && stages.first!.contains("libre2-dev") && stages.last!.contains("libre2-"))
        #expect(stages.first!.contains("libyaml-dev") && stages.last!.contains("libyaml-0-2"))
    }

    static func dockerfileCMD(_ text: String) -> [String] {
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("CMD ") }),
            let array = try? JSONDecoder().decode([String].self, from: Data(line.dropFirst(4).utf8))
        else { return [] }
        return array
    }
}

/// `switchboard serve ARGS` gets past argument parsing: with the configuration swapped for one
/// that does not exist it stops at loading it, so nothing is served.
/// Every bind mount of the services docker-compose resolved names a file or directory that exists.
func expectMountsExist(_ services: [String: [String: Any]], everyServiceMounts: Bool) {
    for (name, service) in services {
        // Short form `SOURCE:TARGET[:MODE]` (Compose v1) or long form `{source: …}` (v2).
        let volumes = service["volumes"] as? [Any] ?? []
        if everyServiceMounts { #expect(!volumes.isEmpty, "\(name) mounts nothing") }
        for volume in volumes {
            let source =
                (volume as? String).map { String($0.prefix { $0 != ":" }) } ?? (volume as? [String: Any])?["source"]
                as? String
            #expect(
                source.map { FileManager.default.fileExists(atPath: $0) } == true,
                "\(name) mounts \(volume), which does not exist")
        }
    }
}

func expectServeAccepts(_ arguments: [String]) throws {
    var checked = arguments
    let config = try #require(checked.firstIndex(of: "--config"), "\(arguments) names no --config")
    checked[config + 1] = "/nonexistent/switchboard"
    let parsed = try SwitchboardCommand.run(["serve"] + checked)
    #expect(
        parsed.stderr.contains("cannot load the configuration: /nonexistent/switchboard"),
        "switchboard serve \(arguments): \(parsed.stderr)")
}

@Suite("examples/global-rate-limit: two replicas, two Envoys, one Redis in compose")
struct GlobalRateLimitComposeTests {
    static let file = "examples/global-rate-limit/docker-compose.yaml"

    static func services() throws -> [String: [String: Any]] {
        let compose = try #require(try Yams.load(yaml: read(file)) as? [String: Any])
        return try #require(compose["services"] as? [String: [String: Any]])
    }

    @Test("each Envoy's bootstrap is what `switchboard bootstrap` prints for its replica")
    func bootstraps() throws {
        for replica in ["a", "b"] {
            let arguments = [
                "--xds-address", "switchboard-\(replica):18000", "--gateway", "default/eg", "--node-id",
                "envoy-\(replica)", "--admin-address", "0.0.0.0:19901", "--delta",
            ]
            #expect(try read("examples/global-rate-limit/envoy/envoy-\(replica).yaml") == bootstrap(arguments))
        }
    }

    @Test("each replica's command is one serve accepts, counting in the compose Redis and naming itself to its Envoy")
    func replicas() throws {
        let services = try Self.services()
        for replica in ["a", "b"] {
            let command = try #require(services["switchboard-\(replica)"]?["command"] as? [String])
            func value(_ flag: String) -> String? { command.firstIndex(of: flag).map { command[$0 + 1] } }
            #expect(value("--ratelimit-redis") == "redis:6379")
            #expect(value("--ratelimit-envoy-address") == "switchboard-\(replica):18081")
            #expect(value("--ratelimit-address") == "0.0.0.0:18081")
            try expectServeAccepts(command)
            let envoy = try #require(services["envoy-\(replica)"]?["command"] as? [String])
            #expect(envoy.contains("/etc/envoy/envoy-\(replica).yaml"))
        }
        #expect(services["redis"] != nil)
    }

    @Test(
        "docker-compose accepts the file and every mounted file exists",
        .enabled(if: tool("docker-compose") != nil || onCI, "no docker-compose (apt install docker-compose)"))
    func compose() throws {
        let compose = try #require(tool("docker-compose"), "docker-compose is missing: apt install docker-compose")
        let path = root.appendingPathComponent(Self.file).path
        let checked = try runProcess(compose, ["-f", path, "config"], in: root)
        #expect(checked.status == 0, "\(checked.stderr)")
        let resolved = try #require(try Yams.load(yaml: checked.stdout) as? [String: Any])
        let services = try #require(resolved["services"] as? [String: [String: Any]])
        #expect(
            Set(services.keys) == ["redis", "switchboard-a", "switchboard-b", "envoy-a", "envoy-b", "api-a", "api-b"])
        expectMountsExist(services, everyServiceMounts: false)
    }
}

@Suite("deploy/kubernetes")
struct KubernetesTests {
    static var manifests: [String] {
        let directory = root.appendingPathComponent("deploy/kubernetes")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".yaml") }.sorted().map { directory.appendingPathComponent($0).path }
    }

    /// Every object in the manifests, by `Kind/name`.
    static func objects() throws -> [String: [String: Any]] {
        var objects: [String: [String: Any]] = [:]
        for path in manifests {
            for case let object as [String: Any] in try Yams.load_all(
                yaml: String(contentsOfFile: path, encoding: .utf8))
            {
                let name = (object["metadata"] as? [String: Any])?["name"] as? String ?? "?"
                objects["\(object["kind"] as? String ?? "?")/\(name)"] = object
            }
        }
        return objects
    }

    @Test(
        "kubernetes-validate --strict accepts every manifest and refuses a broken one",
        .enabled(
            if: tool("kubernetes-validate") != nil || onCI, "no kubernetes-validate (pip install kubernetes-validate)"))
    func validate() throws {
        let validator = try #require(
            tool("kubernetes-validate"), "kubernetes-validate is missing: pip install kubernetes-validate==1.37.0")
        try #require(Self.manifests.count >= 3)
        let checked = try runProcess(validator, ["--strict"] + Self.manifests)
        #expect(checked.status == 0, "\(checked.stdout)\(checked.stderr)")

        let broken = try SwitchboardCommand.temporaryDirectory("kubernetes").appendingPathComponent("broken.yaml")
        let deployment = try #require(Self.manifests.first { $0.hasSuffix("switchboard.yaml") })
        try String(contentsOfFile: deployment, encoding: .utf8).replacingOccurrences(
            of: "replicas: 2", with: "replicas: two"
        )
        .write(to: broken, atomically: true, encoding: .utf8)
        #expect(try runProcess(validator, ["--strict", broken.path]).status != 0)
    }

    @Test(
        "ConfigMaps carry examples/quickstart, the demo upstream and the bootstrap `switchboard bootstrap` prints, unchanged"
    )
    func configMapsMatchTheirSources() throws {
        let objects = try Self.objects()
        let config = try #require(objects["ConfigMap/switchboard-config"]?["data"] as? [String: String])
        let quickstart = try FileManager.default.contentsOfDirectory(
            atPath: root.appendingPathComponent("examples/quickstart").path
        )
        .filter { $0.hasSuffix(".yaml") }
        #expect(Set(config.keys) == Set(quickstart))
        for file in quickstart {
            #expect(
                config[file] == (try read("examples/quickstart/\(file)")), "\(file) differs from examples/quickstart")
        }

        let demo = try #require(objects["ConfigMap/demo-upstream"]?["data"] as? [String: String])
        #expect(demo["demo-upstream.py"] == (try read("scripts/demo-upstream.py")))

        let envoy = try #require(objects["ConfigMap/envoy-bootstrap"]?["data"] as? [String: String])
        #expect(
            envoy["bootstrap.yaml"]
                == (try bootstrap([
                    "--xds-address", "switchboard.switchboard.svc.cluster.local:18000", "--gateway", "default/eg",
                    "--admin-address", "0.0.0.0:19901", "--delta",
                ])))
    }

    @Test(
        "Switchboard runs as 2 non-root replicas on a read-only root, probed on /readyz and /healthz, with arguments serve accepts"
    )
    func switchboardDeployment() throws {
        let objects = try Self.objects()
        let deployment = try #require(objects["Deployment/switchboard"])
        let spec = try #require(deployment["spec"] as? [String: Any])
        #expect(spec["replicas"] as? Int == 2)
        let pod = try #require((spec["template"] as? [String: Any])?["spec"] as? [String: Any])
        let container = try #require((pod["containers"] as? [[String: Any]])?.first)
        func path(_ probe: String) -> String? {
            ((container[probe] as? [String: Any])?["httpGet"] as? [String: Any])?["path"] as? String
        }
        #expect(path("readinessProbe") == "/readyz")
        #expect(path("livenessProbe") == "/healthz")
        #expect(((container["resources"] as? [String: Any])?["requests"] as? [String: Any])?.isEmpty == false)
        let security = try #require(container["securityContext"] as? [String: Any])
        #expect(security["readOnlyRootFilesystem"] as? Bool == true)
        #expect(
            security["runAsNonRoot"] as? Bool == true
                || (pod["securityContext"] as? [String: Any])?["runAsNonRoot"] as? Bool == true)
        #expect(container["command"] == nil, "the image's entrypoint is `switchboard serve`")
        try expectServeAccepts(try #require(container["args"] as? [String]))

        let service = try #require(objects["Service/switchboard"]?["spec"] as? [String: Any])
        let ports = (service["ports"] as? [[String: Any]] ?? []).compactMap { $0["port"] as? Int }
        #expect(Set(ports) == [18000, 19000])
    }
}

@Suite("examples/")
struct ExampleTests {
    static let examples: [String] = {
        let directory = root.appendingPathComponent("examples")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { name in
            var isDirectory: ObjCBool = false
            return !name.hasPrefix(".")
                && FileManager.default.fileExists(
                    atPath: directory.appendingPathComponent(name).path, isDirectory: &isDirectory)
                && isDirectory.boolValue
        }.sorted()
    }()

    @Test("the examples the README promises are there")
    func present() {
        #expect(
            Set(Self.examples).isSuperset(of: [
                "quickstart", "circuit-breaker", "retries-and-timeouts", "health-checks", "consistent-hash",
                "rate-limit", "https", "tcp-udp", "global-rate-limit",
            ]))
    }

    @Test(
        "every example loads and translates with no problem: no diagnostics, no false or warning condition",
        arguments: examples)
    func loads(example: String) throws {
        let top = root.appendingPathComponent("examples/\(example)")
        #expect(
            FileManager.default.fileExists(atPath: top.appendingPathComponent("README.md").path),
            "\(example) has no README.md")
        // An example that also ships a compose file keeps its configuration in config/.
        let hasConfigDirectory = FileManager.default.fileExists(atPath: top.appendingPathComponent("config").path)
        let directory = hasConfigDirectory ? top.appendingPathComponent("config") : top
        let prefix = "examples/\(example)" + (hasConfigDirectory ? "/config" : "")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".yaml") }
            .sorted()
        #expect(!names.isEmpty)
        let files = try names.map {
            (
                path: "\(prefix)/\($0)",
                contents: try String(contentsOf: directory.appendingPathComponent($0), encoding: .utf8)
            )
        }
        var resources = ResourceSet.load(files)
        #expect(resources.diagnostics.isEmpty, "\(resources.diagnostics)")
        if resources.secrets.values.contains(where: { $0.files != nil }) {
            // Certificates kept as files: made by the script the example's README runs, in a copy.
            let copy = try SwitchboardCommand.temporaryDirectory("example-\(example)")
            defer { try? FileManager.default.removeItem(at: copy) }
            for name in names {
                try FileManager.default.copyItem(
                    at: directory.appendingPathComponent(name), to: copy.appendingPathComponent(name))
            }
            let hosts = Set(
                resources.secrets.values.compactMap { $0.files?.certificate.split(separator: "/").dropLast().last })
            let made = try runProcess(
                root.appendingPathComponent("scripts/make-certificate").path,
                ["--out", copy.appendingPathComponent("certs").path] + hosts.sorted().map(String.init))
            #expect(made.status == 0, "\(made.stderr)")
            resources = try ConfigFiles.load([copy.path])
            #expect(resources.diagnostics.isEmpty, "\(resources.diagnostics)")
        }
        // As serve runs them with a rate limit service (global rate limits need one).
        var options = PolicySwitches()
        options.rateLimitService = GlobalRateLimitService(host: "127.0.0.1", port: 18081)
        let status = try Translation.translate(resources, options: options).status
        #expect(!status.gateways.isEmpty)
        #expect(status.problems.isEmpty, "\(status.problems.map { "\($0.location): \($0.message)" })")
        for policy in status.backendTrafficPolicies {
            let accepted =
                policy.ancestors?.allSatisfy { $0.conditions.contains { $0.type == "Accepted" && $0.isTrue } } ?? false
            #expect(accepted, "BackendTrafficPolicy \(policy.name) is not accepted")
        }
    }
}
