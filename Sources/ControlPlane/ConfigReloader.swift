import Explain
import FoundationEssentials
import GatewayAPI
import GatewayTranslator
import Logging
import Metrics
import RateLimitService
import ServiceLifecycle
import Synchronization
import UnixSignals
import XDSCache
import XDSTranslator

/// Keeps the snapshot cache in step with the files: loads them, translates, and sets every
/// Gateway's snapshot, again after each burst of file changes (and on SIGHUP). A reload is
/// atomic per Gateway (one snapshot replaces the other); unchanged results push nothing; files
/// with problems keep their last good content (ConfigStore).
public final class ConfigReloader: ServiceLifecycle.Service, Sendable {
    /// The outcome of the last reload, for logs and status.
    public struct Result: Sendable {
        public enum Outcome: String, Sendable {
            /// New snapshots were set.
            case applied
            /// Nothing Envoy sees changed.
            case unchanged
            /// The files could not be read or translated; the previous snapshots stay.
            case failed
        }

        public var outcome: Outcome
        public var at: Date
        public var diagnostics: [Diagnostic]
        public var heldBack: [String]
        public var status: StatusReport
        public var error: ControlPlaneError?
        /// How many files were read, and whether the directories were listed (false when the
        /// watcher's names were enough).
        public var filesRead = 0
        public var listed = true
    }

    private let cache: SnapshotCache
    private let watcher: FileWatcher?
    private let options: GatewayTranslator.Options
    private let logger: Logger
    private let store: Mutex<ConfigStore>
    /// What the last translation made, per Gateway, for the next to reuse.
    private let memo = Mutex(Translation.Memo())
    private let convergence: ConvergenceTracker?
    private let maxResources: Int
    private let last: Mutex<Result?> = Mutex(nil)
    /// Told the global rate limits of each translation that is served (the rate limit service).
    private let rateLimits: (@Sendable (RateLimitTable) -> Void)?
    private let reloadCount = Atomic(0)
    /// The resources the last successful reload translated: what `explain` on the admin server
    /// (the dashboard) reasons about.
    private let served = Mutex<ResourceSet?>(nil)

    /// `watcher` nil: load once (and on SIGHUP), never watch.
    /// `convergence`: records how long Envoys take to ACK what a file change produced.
    public init(
        paths: [String], cache: SnapshotCache, watcher: FileWatcher?, options: GatewayTranslator.Options = .init(),
        convergence: ConvergenceTracker? = nil, maxFileBytes: Int = ConfigFiles.defaultMaxFileBytes,
        maxResources: Int = 500_000, logger: Logger, rateLimits: (@Sendable (RateLimitTable) -> Void)? = nil
    ) {
        self.rateLimits = rateLimits
        self.convergence = convergence
        self.maxResources = maxResources
        self.cache = cache
        self.watcher = watcher
        self.options = options
        self.logger = logger
        store = Mutex(ConfigStore(paths: paths, maxFileBytes: maxFileBytes))
    }

    public var lastResult: Result? { last.withLock { $0 } }

    /// Explains rules and requests over what the last successful reload served, with this
    /// server's options; nil before one has.
    public func explainer() -> Explainer? {
        served.withLock { $0 }.map { Explainer($0, options: options.judgingCertificatesNow()) }
    }

    /// How many reloads have run, whatever their outcome.
    public var reloads: Int { reloadCount.load(ordering: .relaxed) }

    /// Watched paths that are not being watched right now (edits to them go unseen), one line
    /// each; empty when all are, or when not watching.
    public var unwatched: [String] { watcher?.health.unwatched ?? [] }

    /// Reads the files and sets the snapshots. Never throws: a failure keeps what Envoy runs.
    /// `rereadingAll` reads every file, not only those whose stamps changed (SIGHUP).
    /// `named`: only the paths the watcher saw change need reading (where they are known files).
    @discardableResult
    public func reload(
        changeSeenAt: ContinuousClock.Instant? = nil, rereadingAll: Bool = false, named: Bool = false
    ) -> Result {
        let started = ContinuousClock.now
        let result: Result
        do {
            // Taken whatever this reload reads: a full one covers what was noted.
            let seen = watcher?.changed.take()
            let refresh = try store.withLock {
                try $0.refresh(rereadingAll: rereadingAll, changed: named ? seen : nil)
            }
            watcher?.files.set(refresh.certificateFiles)
            let translationStarted = ContinuousClock.now
            let translated = try memo.withLock {
                try Translation.translate(refresh.resources, options: options, memo: &$0)
            }
            ReloadMetrics.translation.recordSeconds((ContinuousClock.now - translationStarted) / .seconds(1))
            for certificate in translated.status.certificates ?? [] {
                Gauge(label: ReloadMetrics.certificateExpiry, dimensions: [("secret", certificate.secret)])
                    .record(certificate.notAfterSeconds)
            }
            for (gateway, snapshot) in translated.snapshots {
                let count = ResourceType.allCases.reduce(0) { $0 + snapshot[$1].count }
                if count > maxResources {
                    throw ControlPlaneError(
                        .resourceLimit,
                        "Gateway \(gateway) would have \(count) xDS resources; the limit is \(maxResources) (--max-resources): "
                            + "split the Gateway or raise the limit")
                }
            }
            var changed = false
            for (gateway, snapshot) in translated.snapshots.sorted(by: { $0.key < $1.key }) {
                if try cache.setSnapshot(snapshot, for: gateway) {
                    changed = true
                    ReloadMetrics.snapshotUpdates.increment()
                    if let changeSeenAt {
                        convergence?.started(gateway: gateway, snapshot: snapshot, since: changeSeenAt)
                    }
                }
            }
            // With the snapshots: the limits of the routes Envoy is being given, never of a failed load.
            rateLimits?(translated.rateLimits)
            let rateLimitGroup = ResourceType.rateLimitServiceNode
            if let snapshot = translated.rateLimitSnapshot, try cache.setSnapshot(snapshot, for: rateLimitGroup) {
                changed = true
                ReloadMetrics.snapshotUpdates.increment()
            }
            for gateway in cache.nodeGroups where gateway != rateLimitGroup && translated.snapshots[gateway] == nil {
                // The Gateway is gone from the files: new Envoys of it get nothing; connected ones keep theirs.
                cache.clearSnapshot(for: gateway)
                changed = true
            }
            served.withLock { $0 = refresh.resources }
            result = Result(
                outcome: changed ? .applied : .unchanged, at: Date(), diagnostics: refresh.diagnostics,
                heldBack: refresh.heldBack, status: translated.status, error: nil, filesRead: refresh.readFiles,
                listed: refresh.listed)
        } catch {
            let previous = lastResult
            result = Result(
                outcome: .failed, at: Date(), diagnostics: previous?.diagnostics ?? [],
                heldBack: previous?.heldBack ?? [],
                status: previous?.status ?? StatusReport(),
                error: .wrapping(
                    error, as: .snapshot, "the translated configuration could not be served (a bug: please report it)"))
        }
        last.withLock { $0 = result }
        reloadCount.add(1, ordering: .relaxed)
        let took = ContinuousClock.now - started
        Counter(label: ReloadMetrics.reloads, dimensions: [("result", result.outcome.rawValue)]).increment()
        ReloadMetrics.reloadTime.recordSeconds(took / .seconds(1))
        log(result, took: took)
        return result
    }

    private func log(_ result: Result, took: Duration) {
        var metadata: Logger.Metadata = [
            "outcome": "\(result.outcome.rawValue)", "took": "\(took)", "files_read": "\(result.filesRead)",
            "listed": "\(result.listed)",
        ]
        if !result.heldBack.isEmpty { metadata["last_known_good"] = "\(result.heldBack.joined(separator: ","))" }
        switch result.outcome {
        case .failed:
            logger.error(
                "reload failed; Envoys keep their configuration",
                metadata: metadata.merging(["error": "\(result.error.map(\.message) ?? "")"]) { $1 })
        case .applied: logger.info("configuration applied", metadata: metadata)
        case .unchanged: logger.debug("configuration unchanged", metadata: metadata)
        }
        for diagnostic in result.diagnostics { logger.warning("\(diagnostic)") }
    }

    public func run() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            if let watcher {
                group.addTask {
                    for await seen in watcher.changes().cancelOnGracefulShutdown() {
                        self.reload(changeSeenAt: seen, named: true)
                    }
                }
            }
            if let convergence {
                group.addTask { await cancelWhenGracefulShutdown { await convergence.run() } }
            }
            group.addTask {
                for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
                    self.logger.info("SIGHUP: reloading, every file read again")
                    self.reload(changeSeenAt: .now, rereadingAll: true)
                }
            }
            try await group.waitForAll()
        }
    }
}

/// The reload pipeline's metrics, named as Istio's and Envoy Gateway's dashboards expect.
enum ReloadMetrics {
    static let reloads = "config_reload_total"
    static let reloadTime = Metrics.Timer(label: "config_reload_seconds", preferredDisplayUnit: .seconds)
    static let translation = Metrics.Timer(label: "translation_seconds", preferredDisplayUnit: .seconds)
    static let snapshotUpdates = Counter(label: "xds_snapshot_update_total")
    /// When each certificate a listener presents expires (Unix seconds), by secret `<ns>/<name>`:
    /// alert on `tls_certificate_expiry_timestamp_seconds - time() < 14 * 86400`.
    static let certificateExpiry = "tls_certificate_expiry_timestamp_seconds"
}
