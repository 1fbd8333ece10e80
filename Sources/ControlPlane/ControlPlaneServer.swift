import FoundationEssentials
import GatewayAPI
import GatewayIR
import GatewayTranslator
import Logging
import Metrics
import Prometheus
import RateLimitService
import ServiceLifecycle
import XDSCache
import XDSServer

/// Everything `switchboard serve` is told, as values: the command line fills it in, tests build
/// it directly.
public struct ServerConfiguration: Sendable {
    public enum WatchMode: String, Sendable, CaseIterable {
        case inotify, poll, off
    }

    /// Files and directories of YAML/JSON.
    public var configPaths: [String]
    public var xds: ADSServerConfiguration
    public var adminHost = "127.0.0.1"
    public var adminPort = 19000
    /// A file holding the admin server's bearer token.
    public var adminTokenFile: String?
    public var adminTLSCertificate: String?
    public var adminTLSKey: String?
    public var policy = PolicySwitches()
    public var maxFileBytes = ConfigFiles.defaultMaxFileBytes
    /// Most xDS resources one Gateway may produce.
    public var maxResources = 500_000
    public var watchMode = WatchMode.inotify
    /// Quiet time after a file change before reloading.
    public var debounce = Duration.milliseconds(100)
    /// The rate limit service for global rate limits; nil: not run, and global rules are refused.
    public var rateLimit: RateLimitServerConfiguration?

    public init(configPaths: [String], xds: ADSServerConfiguration = ADSServerConfiguration()) {
        self.configPaths = configPaths
        self.xds = xds
    }
}

/// `switchboard serve --ratelimit-address`: Envoy's rate limit API on a port of its own, counting
/// in this process or in Redis, and where the translated configuration tells Envoy to find it.
public struct RateLimitServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// False when the service is another process (envoyproxy/ratelimit fed over xDS): Envoy is
    /// pointed at `host:port` and nothing is served there.
    public var runsService = true
    /// Where Envoy reaches the service when not at the bind address (compose, Kubernetes); a
    /// wildcard bind address (`0.0.0.0`, `::`) is reached at loopback.
    public var envoyHost: String?
    public var envoyPort: Int?
    /// Counters shared through Redis; nil keeps them in this process (one replica).
    public var redisHost: String?
    public var redisPort = 6379
    /// The longest a decision waits for Redis before the call fails.
    public var storeTimeout = Duration.milliseconds(500)
    /// Most live windows the in-memory counters keep.
    public var maxKeys = 1_000_000
    /// How long Envoy waits for a decision; nil leaves Envoy's default (20 ms).
    public var timeout: Duration?
    /// Envoy refuses requests (500) when the service fails, instead of letting them through.
    public var failClosed = false

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// What the translator writes into `ratelimit_cluster` and the filters.
    var envoySide: GlobalRateLimitService {
        let wildcard = ["0.0.0.0", "::", "[::]"].contains(host)
        return GlobalRateLimitService(
            host: envoyHost ?? (wildcard ? "127.0.0.1" : host), port: envoyPort ?? port, timeout: timeout,
            failClosed: failClosed)
    }
}

/// Server-wide switches for policies (BackendTrafficPolicy off, or off in some namespaces), as
/// the translator takes them; named here so that the command line needs only ControlPlane.
public typealias PolicySwitches = GatewayTranslator.Options

/// A Gateway API duration (`100ms`, `1s`, `1m30s`), as flags take them; nil when it is not one.
public func parseDuration(_ text: String) -> Duration? { GatewayAPIDuration(text)?.duration }

/// The running control plane: the snapshot cache and stream registry, the reloader that keeps
/// the cache in step with the files, the ADS server, the admin server and the heap trimmer, in
/// one ServiceGroup that stops on SIGTERM or SIGINT.
public struct ControlPlaneServer: Sendable {
    public let cache: SnapshotCache
    public let registry: StreamRegistry
    public let reloader: ConfigReloader
    /// The rate limit service, when configured.
    public let rateLimitServer: RateLimitServer?
    private let services: [any ServiceLifecycle.Service]
    private let logger: Logger

    /// Builds every part and loads the configuration once; a first load that fails throws
    /// (`initialLoad`), so a server never starts with nothing to serve. `metrics` is what
    /// `/metrics` answers (see `PrometheusMetrics`).
    public init(
        _ configuration: ServerConfiguration, metrics: @escaping @Sendable () -> String = { "" },
        logger: Logger = Logger(label: "switchboard")
    ) throws(ControlPlaneError) {
        self.logger = logger
        registry = StreamRegistry()
        cache = SnapshotCache()
        let paths = configuration.configPaths
        let watcher: FileWatcher? =
            switch configuration.watchMode {
            case .off: nil
            case .inotify: FileWatcher(paths: paths, mode: .inotify, debounce: configuration.debounce)
            case .poll: FileWatcher(paths: paths, mode: .poll, debounce: configuration.debounce)
            }
        var options = configuration.policy
        var rateLimitServer: RateLimitServer?
        if let rateLimit = configuration.rateLimit {
            options.rateLimitService = rateLimit.envoySide
        }
        if let rateLimit = configuration.rateLimit, rateLimit.runsService {
            let now: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }
            let store: any CounterStore =
                if let redisHost = rateLimit.redisHost {
                    RedisCounterStore(host: redisHost, port: rateLimit.redisPort, timeout: rateLimit.storeTimeout)
                } else {
                    MemoryCounterStore(maxKeys: rateLimit.maxKeys, now: now)
                }
            let service = RateLimitGRPCService(limiter: FixedWindowLimiter(store: store, now: now))
            rateLimitServer = RateLimitServer(host: rateLimit.host, port: rateLimit.port, service: service)
        }
        self.rateLimitServer = rateLimitServer
        var updateLimits: (@Sendable (RateLimitTable) -> Void)?
        if let limits = rateLimitServer?.service {
            updateLimits = { table in limits.update(table) }
        }
        reloader = ConfigReloader(
            paths: paths, cache: cache, watcher: watcher, options: options,
            convergence: ConvergenceTracker(registry: registry), maxFileBytes: configuration.maxFileBytes,
            maxResources: configuration.maxResources, logger: Logger(label: "switchboard.config"),
            rateLimits: updateLimits)
        let first = reloader.reload()
        if first.outcome == .failed {
            throw ControlPlaneError(
                .initialLoad,
                "cannot load the configuration: \(first.error?.message ?? "") (check --config; `switchboard validate` lists problems)",
                underlying: first.error)
        }
        for gateway in cache.nodeGroups {
            guard let snapshot = cache.snapshot(for: gateway) else { continue }
            logger.info(
                "serving gateway",
                metadata: [
                    "gateway": "\(gateway)", "clusters": "\(snapshot[.cluster].count)",
                    "listeners": "\(snapshot[.listener].count)",
                ])
        }
        let server: any ServiceLifecycle.Service =
            switch configuration.xds.transport {
            case .grpc:
                ADSServer(
                    configuration: configuration.xds, watcher: cache, registry: registry,
                    logger: Logger(label: "switchboard.xds"))
            case .nio:
                NIOADSServer(
                    configuration: configuration.xds, watcher: cache, registry: registry,
                    logger: Logger(label: "switchboard.xds"))
            }
        let security: AdminSecurity
        do {
            security = AdminSecurity(
                token: try configuration.adminTokenFile.map(AdminSecurity.token(fromFile:)),
                certificateChainPath: configuration.adminTLSCertificate, privateKeyPath: configuration.adminTLSKey)
        } catch {
            throw .wrapping(error, as: .adminCredentials, "the admin server's credentials cannot be used")
        }
        let admin: any ServiceLifecycle.Service
        do {
            admin = try AdminServer.application(
                host: configuration.adminHost, port: configuration.adminPort, security: security, reloader: reloader,
                cache: cache, registry: registry,
                metrics: {
                    ProcessMemory.record()
                    return metrics()
                }, logger: Logger(label: "switchboard.admin"))
        } catch {
            throw .wrapping(error, as: .adminCredentials, "the admin server cannot start with its TLS files")
        }
        let (registry, reloader) = (registry, reloader)
        services =
            [
                server, reloader, admin,
                HeapTrimmer(counters: { [registry.ended, reloader.reloads] }),
            ] + (rateLimitServer.map { [$0] } ?? [])
        if let rateLimit = configuration.rateLimit, !rateLimit.runsService {
            logger.info(
                "rate limit service elsewhere: its configuration is served to node envoy-ratelimit",
                metadata: ["address": "\(rateLimit.host):\(rateLimit.port)"])
        }
        if let rateLimit = configuration.rateLimit, rateLimit.runsService {
            logger.info(
                "rate limit service listening",
                metadata: [
                    "address": "\(rateLimit.host):\(rateLimit.port)",
                    "counters": "\(rateLimit.redisHost.map { "redis \($0):\(rateLimit.redisPort)" } ?? "memory")",
                ])
        }
        logger.info("ADS listening", metadata: ["address": "\(configuration.xds.host):\(configuration.xds.port)"])
        logger.info("admin listening", metadata: ["address": "\(configuration.adminHost):\(configuration.adminPort)"])
    }

    /// Serves until SIGTERM or SIGINT, then shuts every part down gracefully.
    public func run() async throws {
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services.map { .init(service: $0) }, gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
    }
}

/// The process's metrics in Prometheus' text format, for `/metrics`.
public enum PrometheusMetrics {
    /// Makes Prometheus the process's metrics backend (once per process) and returns what
    /// `/metrics` answers.
    public static func bootstrap() -> @Sendable () -> String {
        let prometheus = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: prometheus)
        factory.durationHistogramBuckets["proxy_convergence_seconds"] = ConvergenceTracker.buckets.map {
            Duration.milliseconds(Int64($0 * 1000))
        }
        MetricsSystem.bootstrap(factory)
        return {
            var buffer: [UInt8] = []
            prometheus.emit(into: &buffer)
            return String(decoding: buffer, as: UTF8.self)
        }
    }
}
