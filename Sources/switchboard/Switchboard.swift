import ArgumentParser
import ControlPlane
import FoundationEssentials
import Glibc
import Logging

@main
struct Switchboard: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchboard",
        abstract: "A file-driven Envoy control plane for Envoy Gateway's YAML.",
        subcommands: [
            Serve.self, Validate.self, LintCommand.self, Translate.self, Diff.self, ExplainCommand.self, Bootstrap.self,
            Status.self,
            Health.self,
        ])

    /// ArgumentParser's own main, except that `diff`'s usage errors exit 2: a CI gate reads 1 as
    /// "something changes", so a mistyped flag must not look like a change (as with diff(1)).
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var command = command as? AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            if let diff = Diff.configuration.commandName, CommandLine.arguments.dropFirst().first == diff,
                exitCode(for: error) == .validationFailure
            {
                printError(fullMessage(for: error))
                exit(withError: ExitCode(2))
            }
            exit(withError: error)
        }
    }
}

/// `HOST:PORT`, the last colon separating the port (so `[::]:18000` style hosts keep theirs).
struct Address: ExpressibleByArgument {
    var host: String
    var port: Int

    init?(argument: String) {
        guard let colon = argument.lastIndex(of: ":"), let port = Int(argument[argument.index(after: colon)...]),
            (0...65535).contains(port)
        else { return nil }
        host = String(argument[..<colon].drop { $0 == "[" }.reversed().drop { $0 == "]" }.reversed())
        self.port = port
        if host.isEmpty { return nil }
    }

    var defaultValueDescription: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

// Log levels are flags; ArgumentParser and swift-log know nothing of each other.
// swift-format-ignore: AvoidRetroactiveConformances
extension Logger.Level: @retroactive ExpressibleByArgument {}

extension ServerConfiguration.WatchMode: ExpressibleByArgument {}

/// A duration flag in Gateway API form (`100ms`, `1s`, `1m30s`).
struct DurationArgument: ExpressibleByArgument, CustomStringConvertible {
    var duration: Duration
    var description: String

    init?(argument: String) {
        guard let parsed = parseDuration(argument) else { return nil }
        duration = parsed
        description = argument
    }

    var defaultValueDescription: String { description }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load the configuration, translate it, and serve it to Envoys over ADS (SotW and delta).")

    @Option(name: .customLong("config"), help: "A file or directory of YAML/JSON (repeatable).")
    var configs: [String]

    @Option(help: "Where the ADS gRPC server listens.")
    var xdsAddress = Address(argument: "0.0.0.0:18000")!

    @Option(help: "Where the admin HTTP server listens: /healthz, /readyz, /metrics, /status, /debug/snapshot.")
    var adminAddress = Address(argument: "127.0.0.1:19000")!

    @Option(help: "The gateway (NAMESPACE/NAME) for Envoys whose node.cluster is empty.")
    var defaultGateway: String?

    @OptionGroup var policy: PolicyOptions

    @Option(help: "A file holding the admin server's bearer token; required beyond loopback (health probes need none).")
    var adminTokenFile: String?

    @Option(help: "Serve the admin server over HTTPS with this certificate chain (PEM file).")
    var adminTlsCert: String?

    @Option(help: "The private key of --admin-tls-cert (PEM file).")
    var adminTlsKey: String?

    @Flag(
        help:
            "Allow the admin server on a non-loopback address without --admin-token-file (anyone who reaches it sees the whole configuration)."
    )
    var adminInsecure = false

    @Option(help: "Serve ADS over TLS with this certificate chain (PEM file).")
    var tlsCert: String?

    @Option(help: "The private key of --tls-cert (PEM file).")
    var tlsKey: String?

    @Option(help: "Require client certificates signed by this CA (PEM file): mTLS.")
    var clientCa: String?

    @Flag(
        help: "With --client-ca: an Envoy gets only the gateway its one URI SAN names (spiffe://TD/ns/NS/gateway/NAME)")
    var authorizeNodes = false

    @Option(help: "Most ADS streams served at once; more are refused with RESOURCE_EXHAUSTED.")
    var maxStreams = 10000

    @Option(help: "Most connections to the ADS port at once; more are closed on arrival.")
    var maxConnections = 10000

    @Option(help: "Close a connection that has not completed its TLS and HTTP/2 handshake within this (e.g. 10s).")
    var handshakeTimeout = DurationArgument(argument: "10s")!

    @Option(help: "Ping an ADS connection after this long without hearing from it (e.g. 60s), to find dead peers.")
    var keepaliveInterval = DurationArgument(argument: "60s")!

    @Option(
        help:
            "Close an ADS connection whose answer to a ping has not come within this (e.g. 20s); also the longest a request message waits for --max-request-memory."
    )
    var keepaliveTimeout = DurationArgument(argument: "20s")!

    @Option(help: "Accept Envoy's keepalive pings this often (e.g. 15s); pings sent more often close the connection.")
    var minClientPingInterval = DurationArgument(argument: "15s")!

    @Option(help: "Most streams on one connection, advertised in HTTP/2 SETTINGS; more are refused one by one.")
    var maxStreamsPerConnection = 100

    @Option(help: "Most streams with a large response (64 KiB or more) unanswered at once; the rest wait. 0: no bound.")
    var pushConcurrency = 64

    @Option(
        help:
            "The ADS transport: nio (NIO's HTTP/2 directly: about 40 % less memory and CPU a stream), or grpc (grpc-swift's server)."
    )
    var adsTransport = "nio"

    @Option(help: "Largest ADS request message, in bytes; a larger one ends its stream with RESOURCE_EXHAUSTED.")
    var maxRequestSize = 16 << 20

    @Option(
        help:
            "Most bytes unfinished request messages may hold across all streams; a message beyond it waits its turn, up to --keepalive-timeout, then is refused."
    )
    var maxRequestMemory = 128 << 20

    @OptionGroup var files: FileOptions

    @Option(help: "Most xDS resources one Gateway may produce; a larger result is refused and Envoys keep theirs.")
    var maxResources = 500_000

    @Option(help: "text, or json (one object per line, for log pipelines).")
    var logFormat: LogFormat = .text

    enum LogFormat: String, ExpressibleByArgument {
        case text, json
    }

    @Option(help: "How to notice file changes: inotify (Linux), poll, or off (load once; SIGHUP reloads).")
    var watchMode: ServerConfiguration.WatchMode = .inotify

    @Option(help: "Quiet time after a file change before reloading (e.g. 100ms, 1s); bursts reload once.")
    var debounce = DurationArgument(argument: "100ms")!

    @Option(help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: Logger.Level = .info

    @OptionGroup(title: "Global rate limits") var rateLimit: RateLimitOptions

    func validate() throws {
        if configs.isEmpty { throw ValidationError("give at least one --config PATH") }
        try rateLimit.check()
        if (tlsCert == nil) != (tlsKey == nil) { throw ValidationError("give --tls-cert and --tls-key together") }
        if clientCa != nil && tlsCert == nil { throw ValidationError("--client-ca needs --tls-cert and --tls-key") }
        if authorizeNodes && clientCa == nil { throw ValidationError("--authorize-nodes needs --client-ca (mTLS)") }
        if (adminTlsCert == nil) != (adminTlsKey == nil) {
            throw ValidationError("give --admin-tls-cert and --admin-tls-key together")
        }
        if !AdminSecurity.isLoopback(adminAddress.host) && adminTokenFile == nil && !adminInsecure {
            throw ValidationError(
                "the admin server on \(adminAddress.defaultValueDescription) would show the whole configuration to anyone who reaches it: "
                    + "give --admin-token-file FILE (and --admin-tls-cert/--admin-tls-key), or --admin-insecure to allow it"
            )
        }
        if maxConnections < 1 { throw ValidationError("--max-connections must be at least 1") }
        if ADSServerConfiguration.Transport(rawValue: adsTransport) == nil {
            throw ValidationError("--ads-transport is grpc or nio")
        }
        if !(1...1_000_000).contains(maxStreamsPerConnection) {
            throw ValidationError("--max-streams-per-connection must be between 1 and 1000000")
        }
        if pushConcurrency < 0 { throw ValidationError("--push-concurrency must be 0 (no bound) or more") }
        if handshakeTimeout.duration <= .zero { throw ValidationError("--handshake-timeout must be longer than 0s") }
        if keepaliveInterval.duration <= .zero { throw ValidationError("--keepalive-interval must be longer than 0s") }
        if keepaliveTimeout.duration <= .zero { throw ValidationError("--keepalive-timeout must be longer than 0s") }
        if !(1...Int(UInt32.max)).contains(maxRequestSize) {
            throw ValidationError("--max-request-size must be between 1 and \(UInt32.max) bytes")
        }
        if maxRequestMemory < maxRequestSize {
            throw ValidationError(
                "--max-request-memory must be at least --max-request-size (\(maxRequestSize)), or no such message fits")
        }
    }

    func run() async throws {
        let level = logLevel
        let json = logFormat == .json
        LoggingSystem.bootstrap { label in
            if json {
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let metrics = PrometheusMetrics.bootstrap()
        var configuration = ServerConfiguration(
            configPaths: configs,
            xds: ADSServerConfiguration(
                host: xdsAddress.host, port: xdsAddress.port, maxRequestBytes: maxRequestSize,
                maxRequestMemory: maxRequestMemory, handshakeTimeout: handshakeTimeout.duration,
                maxConnections: maxConnections, maxStreamsPerConnection: maxStreamsPerConnection,
                defaultNodeGroup: defaultGateway, maxStreams: maxStreams,
                tls: tlsCert.map {
                    ADSServerConfiguration.TLS(
                        certificateChainPath: $0, privateKeyPath: tlsKey!, clientCAPath: clientCa,
                        authorizeNodes: authorizeNodes)
                },
                keepalive: ADSServerConfiguration.Keepalive(
                    interval: keepaliveInterval.duration, timeout: keepaliveTimeout.duration,
                    minClientPingInterval: minClientPingInterval.duration),
                pacing: pushConcurrency == 0 ? nil : PushPacing(permits: pushConcurrency)))
        configuration.xds.transport = ADSServerConfiguration.Transport(rawValue: adsTransport) ?? .nio
        configuration.adminHost = adminAddress.host
        configuration.adminPort = adminAddress.port
        configuration.adminTokenFile = adminTokenFile
        configuration.adminTLSCertificate = adminTlsCert
        configuration.adminTLSKey = adminTlsKey
        configuration.policy = policy.switches
        configuration.maxFileBytes = files.maxFileSize
        configuration.maxResources = maxResources
        configuration.watchMode = watchMode
        configuration.debounce = debounce.duration
        configuration.rateLimit = rateLimit.configuration
        try await ControlPlaneServer(configuration, metrics: metrics).run()
    }
}

/// `serve`'s rate limit service: off unless `--ratelimit-address` is given. With
/// `--ratelimit-envoy-address` alone, Envoy uses a rate limit service run elsewhere (a stock
/// envoyproxy/ratelimit), which fetches its limits from this server over ADS.
struct RateLimitOptions: ParsableArguments {
    @Option(
        name: .customLong("ratelimit-address"),
        help: "Also serve Envoy's rate limit API here (global rate limits); off when not given.")
    var address: Address?

    @Option(
        name: .customLong("ratelimit-envoy-address"),
        help: ArgumentHelp(
            "Where Envoy reaches the rate limit service, when not at --ratelimit-address (compose, Kubernetes); "
                + "alone, an envoyproxy/ratelimit there that fetches its limits over ADS as node envoy-ratelimit."))
    var envoyAddress: Address?

    @Option(
        name: .customLong("ratelimit-redis"),
        help: "Count in Redis at HOST:PORT, shared by every replica; without it, counts stay in this process.")
    var redis: Address?

    @Option(
        name: .customLong("ratelimit-timeout"),
        help: "How long Envoy waits for a decision (Envoy's default when not given: 20ms).")
    var timeout: DurationArgument?

    @Option(
        name: .customLong("ratelimit-redis-timeout"),
        help: "The longest a decision waits for Redis; then the call fails and Envoy applies its failure mode.")
    var redisTimeout = DurationArgument(argument: "500ms")!

    @Flag(
        name: .customLong("ratelimit-fail-closed"),
        help: "Envoy refuses requests (500) when the rate limit service fails, instead of letting them through.")
    var failClosed = false

    @Option(
        name: .customLong("ratelimit-max-keys"),
        help: "Most live windows kept in memory (one per value of a Distinct selector); beyond, new ones fail.")
    var maxKeys = 1_000_000

    func check() throws {
        if address == nil {
            // What only this process's service uses; the timeout and failure mode are Envoy's.
            if redis != nil { throw ValidationError("--ratelimit-redis needs --ratelimit-address HOST:PORT") }
            if envoyAddress == nil {
                let given = [timeout.map { _ in "--ratelimit-timeout" }, failClosed ? "--ratelimit-fail-closed" : nil]
                if let first = given.compactMap({ $0 }).first {
                    throw ValidationError(
                        "\(first) needs --ratelimit-address HOST:PORT or --ratelimit-envoy-address HOST:PORT")
                }
                return
            }
        }
        if let timeout, timeout.duration <= .zero {
            throw ValidationError("--ratelimit-timeout must be longer than 0s")
        }
        if redisTimeout.duration <= .zero { throw ValidationError("--ratelimit-redis-timeout must be longer than 0s") }
        if maxKeys < 1 { throw ValidationError("--ratelimit-max-keys must be at least 1") }
    }

    var configuration: RateLimitServerConfiguration? {
        guard let address = address ?? envoyAddress else { return nil }
        var configuration = RateLimitServerConfiguration(host: address.host, port: address.port)
        configuration.runsService = self.address != nil
        configuration.envoyHost = envoyAddress?.host
        configuration.envoyPort = envoyAddress?.port
        configuration.redisHost = redis?.host
        configuration.redisPort = redis?.port ?? 6379
        configuration.storeTimeout = redisTimeout.duration
        configuration.maxKeys = maxKeys
        configuration.timeout = timeout?.duration
        configuration.failClosed = failClosed
        return configuration
    }
}

/// How configuration files are read; `serve`, `validate` and `translate` share it, so a file
/// `validate` passes is one `serve` reads.
struct FileOptions: ParsableArguments {
    @Option(
        help:
            "Largest configuration file read, in bytes (a larger one is a problem; serve keeps its last good content).")
    var maxFileSize = ConfigFiles.defaultMaxFileBytes
}

/// Server switches for BackendTrafficPolicy, as KubeLB offers them (multi-tenant operators), and
/// for what every Envoy listener does by default.
struct PolicyOptions: ParsableArguments {
    @Flag(help: "Ignore every BackendTrafficPolicy (each gets a condition saying so).")
    var disableBackendTrafficPolicy = false

    @Option(
        name: .customLong("disable-backend-traffic-policy-in"),
        help: "Ignore BackendTrafficPolicies in this namespace (repeatable), e.g. for tenants.")
    var disabledNamespaces: [String] = []

    @Option(
        help: ArgumentHelp(
            "Where Envoy writes a JSON line per request, as Envoy Gateway's default does; 'off' for none.",
            valueName: "path|off"))
    var accessLog = PolicySwitches.defaultAccessLogPath

    var switches: PolicySwitches {
        PolicySwitches(
            disableBackendTrafficPolicy: disableBackendTrafficPolicy,
            backendTrafficPolicyDisabledNamespaces: Set(disabledNamespaces),
            accessLogPath: accessLog == "off" ? nil : accessLog)
    }
}

/// For `validate` and `translate`: the rate limit service `serve` would give Envoy, so that
/// global rate limits translate as they would be served.
struct RateLimitEnvoyAddress: ParsableArguments {
    @Option(
        name: .customLong("ratelimit-envoy-address"),
        help: "Translate global rate limits as serve does with a rate limit service Envoy reaches here.")
    var address: Address?

    var service: GlobalRateLimitService? { address.map { .init(host: $0.host, port: $0.port) } }
}

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check configuration files; print one path:line:col: message per problem; exit 1 if any.")

    @OptionGroup var policy: PolicyOptions

    @OptionGroup(title: "Global rate limits") var rateLimit: RateLimitEnvoyAddress

    @OptionGroup var files: FileOptions

    @Flag(help: "Also run switchboard lint's best-practice checks.")
    var lint = false

    @Option(help: "With --lint: the least severe finding that fails (error, warning or info).")
    var failOn: Finding.Severity = .warning

    @Argument(help: "Files or directories.")
    var paths: [String]

    func run() throws {
        var switches = policy.switches
        switches.rateLimitService = rateLimit.service
        let report = try Validation.check(paths, policy: switches, maxFileBytes: files.maxFileSize, lint: lint)
        for error in report.errors { print(error) }
        // Dangling references are status, not load errors (as in Envoy Gateway): shown, not fatal.
        for warning in report.warnings { print(warning) }
        for finding in report.findings { print(finding) }
        if !report.errors.isEmpty || report.findings.contains(where: { $0.severity <= failOn }) { throw ExitCode(1) }
    }
}

struct LintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lint",
        abstract:
            "Best-practice checks on BackendTrafficPolicies and routes: one path:line:col: severity ID: field: why; fix per finding. Exit 1 on a load problem or a finding at --fail-on or worse.",
        discussion: "Checks: "
            + Linter.catalog.map { "\($0.id) (\($0.severity.rawValue)) \($0.title)" }.joined(separator: "; ")
            + ". Silence checks on one object with the annotation \(Linter.ignoreAnnotation): \"BTP001, BTP003\" (or all); docs/lint.md explains each."
    )

    @OptionGroup var files: FileOptions

    @Option(help: "The least severe finding that fails (error, warning or info).")
    var failOn: Finding.Severity = .warning

    @Argument(help: "Files or directories.")
    var paths: [String]

    func run() throws {
        let resources = try ConfigFiles.load(paths, maxFileBytes: files.maxFileSize)
        for diagnostic in resources.diagnostics { print(diagnostic) }
        let findings = Linter.lint(resources)
        for finding in findings { print(finding) }
        if !resources.diagnostics.isEmpty || findings.contains(where: { $0.severity <= failOn }) { throw ExitCode(1) }
    }
}

extension Finding.Severity: ExpressibleByArgument {}

struct Translate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the xDS resources a gateway's Envoys would be served, as Envoy's config_dump prints them.")

    @Option(name: .customLong("config"), help: "A file or directory of YAML/JSON (repeatable).")
    var configs: [String]

    @Option(help: "The gateway (NAMESPACE/NAME); needed when the files hold more than one.")
    var gateway: String?

    @OptionGroup var policy: PolicyOptions

    @OptionGroup(title: "Global rate limits") var rateLimit: RateLimitEnvoyAddress

    @OptionGroup var files: FileOptions

    @Option(help: "yaml or json.")
    var output: Translation.Format = .yaml

    func run() throws {
        let resources = try ConfigFiles.load(configs, maxFileBytes: files.maxFileSize)
        for diagnostic in resources.diagnostics { printError("\(diagnostic)") }
        var switches = policy.switches
        switches.rateLimitService = rateLimit.service
        let result = try Translation.translate(resources, options: switches)
        let snapshots = result.snapshots
        let names = snapshots.keys.sorted()
        let chosen: String
        if let gateway {
            guard snapshots[gateway] != nil else {
                throw ValidationError("no Gateway \(gateway) in the files; they hold: \(names.joined(separator: ", "))")
            }
            chosen = gateway
        } else {
            guard names.count == 1 else {
                throw ValidationError(
                    names.isEmpty
                        ? "the files hold no Gateway" : "choose one with --gateway: \(names.joined(separator: ", "))")
            }
            chosen = names[0]
        }
        let status = result.status.filtered(toGateway: chosen)
        print(
            try Translation.render(
                snapshots[chosen]!, rateLimitConfigs: try result.rateLimitConfigs(of: chosen), status: status,
                as: output),
            terminator: "")
    }
}

struct Diff: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract:
            "What Envoy would receive if the new configuration replaced the old: xDS resources added, removed and changed field by field, statuses that change, new load problems. Exit 0 when nothing changes, 1 when something does, 2 on error."
    )

    @Option(name: .customLong("config"), help: "The new configuration: a file or directory (repeatable).")
    var configs: [String]

    @Option(help: "The configuration it would replace: a file or directory (repeatable).")
    var against: [String] = []

    @Option(help: "Or compare with what the switchboard serve at this admin address serves now.")
    var adminAddress: Address?

    @Option(help: "A file holding that admin server's bearer token (serve --admin-token-file).")
    var adminTokenFile: String?

    @Flag(help: "That admin server speaks HTTPS; its certificate must be trusted by the system.")
    var adminHttps = false

    @OptionGroup var policy: PolicyOptions

    @OptionGroup(title: "Global rate limits") var rateLimit: RateLimitEnvoyAddress

    @OptionGroup var files: FileOptions

    func validate() throws {
        if configs.isEmpty || against.isEmpty == (adminAddress == nil) {
            throw ValidationError("give --config NEW, and either --against OLD or --admin-address HOST:PORT")
        }
    }

    func run() async throws {
        let result: ConfigDiff.Result
        do {
            var switches = policy.switches
            switches.rateLimitService = rateLimit.service
            let new = try ConfigFiles.load(configs, maxFileBytes: files.maxFileSize)
            if let adminAddress {
                let token = try adminTokenFile.map(AdminSecurity.token(fromFile:))
                let (status, data) = try await adminAddress.get("/debug/served", token: token, https: adminHttps)
                guard status == 200 else {
                    throw ControlPlaneError(
                        .adminRequest,
                        "\(adminAddress.url(path: "/debug/served", https: adminHttps)) answered \(status)"
                            + (status == 401 ? ": give --admin-token-file FILE" : ""))
                }
                result = try ConfigDiff.diff(served: String(decoding: data, as: UTF8.self), new: new, options: switches)
            } else {
                result = try ConfigDiff.diff(
                    old: try ConfigFiles.load(against, maxFileBytes: files.maxFileSize), new: new, options: switches)
            }
        } catch {
            printError("switchboard diff: \(error)")
            throw ExitCode(2)
        }
        for line in result.lines { print(line) }
        if result.changed { throw ExitCode(1) }
    }
}

struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract:
            "What applies to a route rule, or to a request, and why: each BackendTrafficPolicy setting in effect with the policy, file:line and level it comes from (or the default), the policies merged or overridden, and the Envoy route and cluster names. Exit 1 when nothing matches.",
        discussion:
            "Name a route (httproute/NAMESPACE/NAME, or httproute/NAMESPACE/NAME/rule/INDEX; also grpcroute/…), or give --request 'GET https://host/path' with --header NAME=VALUE for headers it carries."
    )

    @Option(name: .customLong("config"), help: "A file or directory of YAML/JSON (repeatable).")
    var configs: [String]

    @Option(help: "Only this Gateway (NAMESPACE/NAME).")
    var gateway: String?

    @Option(help: "A request to follow instead of a route: '[METHOD] URL'.")
    var request: String?

    @Option(name: .customLong("header"), help: "A header the request carries: NAME=VALUE (repeatable).")
    var headers: [String] = []

    @Argument(help: "The route or rule: httproute/NAMESPACE/NAME[/rule/INDEX].")
    var route: String?

    @OptionGroup var policy: PolicyOptions

    @OptionGroup(title: "Global rate limits") var rateLimit: RateLimitEnvoyAddress

    @OptionGroup var files: FileOptions

    @Option(help: "text or json.")
    var output: ExplainFormat = .text

    enum ExplainFormat: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    func validate() throws {
        if (route == nil) == (request == nil) {
            throw ValidationError("name a route (httproute/NAMESPACE/NAME[/rule/INDEX]) or give --request, not both")
        }
        if !headers.isEmpty && request == nil { throw ValidationError("--header goes with --request") }
    }

    func run() throws {
        let resources = try ConfigFiles.load(configs, maxFileBytes: files.maxFileSize)
        for diagnostic in resources.diagnostics { printError("\(diagnostic)") }
        var switches = policy.switches
        switches.rateLimitService = rateLimit.service
        let explainer = Explainer(resources, options: switches.judgingCertificatesNow())
        let explanations: [Explanation]
        do {
            if let request {
                explanations = try explainer.explain(
                    ExplainRequest(parsing: request, headers: headers), gateway: gateway)
            } else {
                explanations = try explainer.explain(Explainer.RuleReference(parsing: route!), gateway: gateway)
            }
        } catch {
            printError("switchboard explain: \(error)")
            throw ExitCode(1)
        }
        switch output {
        case .text: print(explanations.map(\.text).joined(separator: "\n\n"))
        case .json: print(try Explanation.json(explanations))
        }
    }
}

extension Translation.Format: ExpressibleByArgument {}

struct Bootstrap: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print an Envoy bootstrap that fetches a gateway's configuration from `switchboard serve`.")

    @Option(
        help:
            "Where `switchboard serve` listens for ADS, as Envoy reaches it (repeatable: replicas Envoy may use in turn)."
    )
    var xdsAddress: [Address]

    @Option(help: "The gateway (NAMESPACE/NAME) this Envoy serves; becomes node.cluster.")
    var gateway: String

    @Option(help: "node.id (default: envoy-NAMESPACE-NAME).")
    var nodeId: String?

    @Flag(help: "Use incremental (delta) ADS, as Envoy Gateway does.")
    var delta = false

    @Option(help: "Envoy's admin listener (0.0.0.0:PORT to publish it from a container).")
    var adminAddress = Address(argument: "127.0.0.1:19901")!

    /// Before --admin-address: the port on 127.0.0.1. Kept so existing scripts still work.
    @Option(help: ArgumentHelp("Deprecated: --admin-address 127.0.0.1:PORT.", visibility: .hidden))
    var adminPort: Int?

    @Option(help: "Reach Switchboard over TLS, trusting this CA (PEM file).")
    var tlsCa: String?

    @Option(help: "With --tls-ca: Envoy's client certificate (PEM file), for mTLS.")
    var tlsCert: String?

    @Option(help: "With --tls-cert: its private key (PEM file).")
    var tlsKey: String?

    func validate() throws {
        if xdsAddress.isEmpty { throw ValidationError("give --xds-address") }
        if adminPort != nil && adminAddress.host != "127.0.0.1" {
            throw ValidationError("--admin-port is the port on 127.0.0.1; give --admin-address HOST:PORT alone")
        }
        if (tlsCert == nil) != (tlsKey == nil) { throw ValidationError("give --tls-cert and --tls-key together") }
        if tlsCert != nil && tlsCa == nil {
            throw ValidationError("--tls-cert needs --tls-ca (the CA that signed Switchboard's certificate)")
        }
    }

    func run() throws {
        var bootstrap = EnvoyBootstrap(
            xdsAddresses: xdsAddress.map { EnvoyBootstrap.XDSAddress(host: $0.host, port: $0.port) }, gateway: gateway,
            nodeID: nodeId, delta: delta, adminHost: adminAddress.host, adminPort: adminPort ?? adminAddress.port)
        if let tlsCa {
            bootstrap.tls = EnvoyBootstrap.TLS(caPath: tlsCa, certificatePath: tlsCert, privateKeyPath: tlsKey)
        }
        print(bootstrap.yaml(), terminator: "")
    }
}

func printError(_ message: String) {
    var line = message + "\n"
    line.withUTF8 { _ = write(STDERR_FILENO, $0.baseAddress, $0.count) }
}

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Show what a running `switchboard serve` serves: reload result, resource conditions, connected Envoys.")

    @Option(help: "The admin address of the running server.")
    var adminAddress = Address(argument: "127.0.0.1:19000")!

    @Option(help: "text or json.")
    var output: StatusFormat = .text

    @Option(help: "A file holding the admin server's bearer token (serve --admin-token-file).")
    var adminTokenFile: String?

    @Flag(
        help: "The admin server speaks HTTPS (serve --admin-tls-cert); its certificate must be trusted by the system.")
    var adminHttps = false

    enum StatusFormat: String, ExpressibleByArgument {
        case text, json
    }

    func run() async throws {
        let token: String?
        token = try adminTokenFile.map(AdminSecurity.token(fromFile:))
        let (status, data) = try await adminAddress.get("/status", token: token, https: adminHttps)
        if status == 401 {
            throw ControlPlaneError(
                .adminRequest, "the admin server wants a bearer token: give --admin-token-file FILE")
        }
        guard status == 200 else {
            throw ControlPlaneError(
                .adminRequest, "\(adminAddress.url(path: "/status", https: adminHttps)) answered \(status)")
        }
        if output == .json {
            print(String(decoding: data, as: UTF8.self))
            return
        }
        print(StatusText.render(try AdminStatus.decode(data)), terminator: "")
    }
}

/// The probe a container runtime runs (the runtime image has no curl): exit 0 when the admin
/// server answers `/healthz` (or `/readyz`) with 200.
struct Health: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Exit 0 when a running `switchboard serve` is healthy (or, with --ready, ready); for HEALTHCHECK and probes."
    )

    @Option(help: "The admin address of the running server.")
    var adminAddress = Address(argument: "127.0.0.1:19000")!

    @Flag(help: "Ask /readyz (configuration loaded) instead of /healthz (process alive).")
    var ready = false

    func run() async throws {
        let path = ready ? "/readyz" : "/healthz"
        let (status, _) = try await adminAddress.get(path, timeout: 2)
        guard status == 200 else {
            throw ControlPlaneError(.adminRequest, "\(adminAddress.url(path: path)) answered \(status)")
        }
        print("ok")
    }
}

extension Address {
    /// `http://HOST:PORT/path` (or https), brackets around an IPv6 host.
    func url(path: String, https: Bool = false) -> URL {
        URL(string: "\(https ? "https" : "http")://\(host.contains(":") ? "[\(host)]" : host):\(port)\(path)")!
    }

    /// GET `path` from a running server's admin address: its status and body.
    func get(_ path: String, timeout: TimeInterval = 60, token: String? = nil, https: Bool = false)
        async throws(ControlPlaneError) -> (
            status: Int, body: Data
        )
    {
        do {
            return try await AdminClient.get(
                url(path: path, https: https).absoluteString, timeout: timeout, token: token)
        } catch {
            throw ControlPlaneError(
                .adminRequest,
                "\(url(path: path, https: https)) did not answer: \(error) (is `switchboard serve` running with this --admin-address?)"
            )
        }
    }
}
