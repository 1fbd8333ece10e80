import FoundationEssentials
import Metrics
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Tells when anything under the watched paths may have changed, one signal per burst: after
/// the first event it waits until `debounce` passes without another (or `maxWait` since the
/// first), as Istio debounces. Covers editors' patterns: atomic rename, truncate-then-write,
/// new subdirectories, deletions, and ConfigMap-style `..data` symlink swaps (a rename in the
/// watched directory).
///
/// A watched path that disappears and comes back (`rm -rf` and recreate, a swapped symlink, a
/// new mount) is watched again, and a change is signalled; until then `health` says what is not
/// watched. In inotify mode a file still open for writing holds the signal back (up to
/// `maxWriteWait`), so a slow in-place write is not applied half-written.
public struct FileWatcher: Sendable {
    public enum Mode: String, Sendable, CaseIterable {
        /// Linux inotify on every directory, recursively.
        case inotify
        /// Rescans names, sizes and modification times (for filesystems without inotify).
        case poll
    }

    public var paths: [String]
    public var mode: Mode
    public var debounce: Duration
    public var maxWait: Duration
    /// The longest a signal waits for files still open for writing (inotify mode).
    public var maxWriteWait: Duration
    /// How often `poll` mode rescans, and how often inotify mode checks that its paths are
    /// still the ones it watches.
    public var pollInterval: Duration
    /// What is not being watched right now; shared with every copy of this watcher.
    public let health: WatchHealth
    /// Files outside `paths` to watch as well (certificates that Secrets name), set after each
    /// load; shared with every copy of this watcher.
    public let files = WatchedFiles()
    /// The paths seen to change since the reloader last took them; shared with every copy.
    public let changed = ChangedPaths()

    public init(
        paths: [String], mode: Mode = .inotify, debounce: Duration = .milliseconds(100),
        maxWait: Duration = .seconds(1),
        maxWriteWait: Duration = .seconds(10), pollInterval: Duration = .milliseconds(100)
    ) {
        self.paths = paths
        self.mode = mode
        self.debounce = debounce
        self.maxWait = maxWait
        self.maxWriteWait = maxWriteWait
        self.pollInterval = pollInterval
        self.health = WatchHealth(paths: paths)
    }

    /// Debounced change signals until the stream is dropped; each carries when the burst's
    /// first event was seen (where convergence time starts). The paths are being watched when
    /// this returns: a change made after it is signalled.
    public func changes() -> AsyncStream<ContinuousClock.Instant> {
        let (stream, continuation) = AsyncStream.makeStream(
            of: ContinuousClock.Instant.self, bufferingPolicy: .bufferingNewest(1))
        let stop = Stopper()
        continuation.onTermination = { _ in stop.stop() }
        let watcher = self
        #if canImport(Glibc)
        if mode == .inotify, let inotify = Inotify(paths: paths) {
            _ = inotify.rearmIfMoved(health: health)
            // What changed before the watches were set was never named: the first reload after
            // this reads every file (a load that ran before it may have missed an edit).
            changed.noteEverything()
            detachThread { watcher.runInotify(inotify, stop: stop) { continuation.yield($0) } }
            return stream
        }
        #endif
        let first = fingerprint()
        detachThread { watcher.runPolling(from: first, stop: stop) { continuation.yield($0) } }
        return stream
    }

    final class Stopper: Sendable {
        private let flag = Atomic(false)
        func stop() { flag.store(true, ordering: .relaxed) }
        var stopped: Bool { flag.load(ordering: .relaxed) }
    }

    /// Collapses a burst of events into one signal. Pure: every instant is given to it.
    struct Debouncer {
        let debounce: Duration
        let maxWait: Duration
        var maxWriteWait: Duration = .seconds(10)
        var first: ContinuousClock.Instant?
        var last: ContinuousClock.Instant?

        mutating func event(at now: ContinuousClock.Instant) {
            if first == nil { first = now }
            last = now
        }

        /// When the burst is over, or nil when nothing is pending. While files are open for
        /// writing it is over when they are closed, or at the latest `maxWriteWait` after the
        /// first event.
        func due(writing: Bool = false) -> ContinuousClock.Instant? {
            guard let first, let last else { return nil }
            if writing { return first + maxWriteWait }
            return min(last + debounce, first + maxWait)
        }

        /// The burst's first event when the burst is over, else nil.
        mutating func fireIfDue(at now: ContinuousClock.Instant, writing: Bool = false) -> ContinuousClock.Instant? {
            guard let due = due(writing: writing), now >= due, let started = first else { return nil }
            first = nil
            last = nil
            return started
        }
    }

    private func runPolling(from first: [String: String], stop: Stopper, signal: (ContinuousClock.Instant) -> Void) {
        var debouncer = Debouncer(debounce: debounce, maxWait: maxWait)
        var previous = first
        while !stop.stopped {
            let (seconds, attoseconds) = pollInterval.components
            var interval = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
            nanosleep(&interval, nil)
            let now = ContinuousClock.now
            let current = fingerprint()
            if current != previous {
                previous = current
                changed.noteEverything()
                debouncer.event(at: now)
            }
            for path in paths {
                health.set(
                    path, problem: FileManager.default.fileExists(atPath: path) ? nil : WatchHealth.missing(path))
            }
            if let started = debouncer.fireIfDue(at: now) { signal(started) }
        }
    }

    /// Names, sizes and modification times of everything under the paths (symlinks followed).
    private func fingerprint() -> [String: String] {
        var result: [String: String] = [:]
        let manager = FileManager.default
        for path in paths + files.current {
            var names = [path]
            PathText.walk(path, into: &names)
            for name in names {
                let resolved = PathText.resolvingSymlinks(name)
                let attributes = try? manager.attributesOfItem(atPath: resolved)
                let size = attributes?[.size].map { "\($0)" } ?? "-"
                let date = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
                result[name] = "\(resolved)|\(size)|\(date)"
            }
        }
        return result
    }

    #if canImport(Glibc)
    private func runInotify(_ inotify: Inotify, stop: Stopper, signal: (ContinuousClock.Instant) -> Void) {
        defer { inotify.close() }
        var debouncer = Debouncer(debounce: debounce, maxWait: maxWait, maxWriteWait: maxWriteWait)
        var nextCheck = ContinuousClock.now + pollInterval
        while !stop.stopped {
            var timeout = pollInterval
            if let due = debouncer.due(writing: inotify.writing) { timeout = min(timeout, due - .now) }
            if inotify.wait(
                timeoutMilliseconds: Int32(max(1, min(1000, timeout / .milliseconds(1)))), changed: changed)
            {
                debouncer.event(at: .now)
            }
            if ContinuousClock.now >= nextCheck {
                nextCheck = .now + pollInterval
                inotify.setRoots(paths + files.current)
                // A path that came back, or now names another directory, is watched anew: what
                // is in it now was never seen.
                if inotify.rearmIfMoved(health: health) {
                    changed.noteEverything()
                    debouncer.event(at: .now)
                }
            }
            if let started = debouncer.fireIfDue(at: .now, writing: inotify.writing) {
                // Past maxWriteWait a writer that never closes no longer holds later signals.
                inotify.forgetWrites()
                signal(started)
            }
        }
    }
    #endif
}

/// Which watched paths are not being watched right now, and why: shown in status, in the
/// `config_watch_healthy` gauge, and it makes `/readyz` fail, since edits to them go unseen.
public final class WatchHealth: Sendable {
    private let problems = Mutex<[String: String]>([:])
    private let paths: [String]

    init(paths: [String]) {
        self.paths = paths
    }

    func set(_ path: String, problem: String?) {
        // Certificate files report through the reload that reads them, not here.
        guard paths.contains(path) else { return }
        let healthy = problems.withLock { problems in
            problems[path] = problem
            return problems.isEmpty
        }
        WatchMetrics.healthy.record(healthy ? 1 : 0)
    }

    static func missing(_ path: String) -> String { "\(path) does not exist; watching for it to come back" }

    /// One line per path not being watched; empty when all are.
    public var unwatched: [String] {
        problems.withLock { problems in paths.compactMap { problems[$0] } }
    }
}

/// What changed since the reloader last asked: the paths inotify named, or everything (polling,
/// an event queue that overflowed, a directory or a watched root replaced). Noted as events
/// arrive and taken whole by the reload that follows, so a signal dropped while a reload runs
/// loses no path.
public final class ChangedPaths: Sendable {
    private let state = Mutex<(paths: Set<String>, everything: Bool)>(([], false))

    public init() {}

    func note(_ path: String) {
        state.withLock { state in
            if !state.everything { state.paths.insert(path) }
        }
    }

    func noteEverything() {
        state.withLock { $0 = ([], true) }
    }

    /// The paths noted since the last call, or nil when anything may have changed.
    public func take() -> Set<String>? {
        state.withLock { state in
            defer { state = ([], false) }
            return state.everything ? nil : state.paths
        }
    }
}

/// The files a watcher follows besides its paths; replaced whole after each load.
public final class WatchedFiles: Sendable {
    private let paths = Mutex<[String]>([])

    public func set(_ files: [String]) { paths.withLock { $0 = Array(Set(files)).sorted() } }

    public var current: [String] { paths.withLock { $0 } }
}

enum WatchMetrics {
    static let healthy = Gauge(label: "config_watch_healthy")
}

#if canImport(Glibc)
/// One inotify instance watching directories recursively; new subdirectories are added as they
/// appear, and a root that is replaced is watched again (`rearmIfMoved`).
final class Inotify: @unchecked Sendable {
    // Used only from the watcher's own thread after creation.
    private let descriptor: Int32
    private var watched: [Int32: String] = [:]
    /// Each root and the directory it resolved to when its watches were set (device, inode).
    private var roots: [(path: String, identity: [UInt]?)]
    /// Files written to and not yet closed (watch handle and name).
    private var openForWriting: Set<String> = []
    private static let mask: UInt32 = UInt32(
        IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB | IN_DELETE_SELF
            | IN_MOVE_SELF)

    init?(paths: [String]) {
        descriptor = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard descriptor >= 0 else { return nil }
        roots = paths.map { ($0, nil) }
    }

    /// Watches these roots from now on, if they differ (the next `rearmIfMoved` sets the watches).
    func setRoots(_ paths: [String]) {
        guard paths != roots.map(\.path) else { return }
        roots = paths.map { ($0, nil) }
    }

    /// Whether a write to a watched file is in progress (written and not closed yet).
    var writing: Bool { !openForWriting.isEmpty }

    func forgetWrites() { openForWriting = [] }

    /// The directory a root is watched through: itself, or a single file's directory (which
    /// sees renames onto the file).
    private static func directory(of path: String) -> String {
        var status = stat()
        if stat(path, &status) == 0, status.st_mode & S_IFMT != S_IFDIR {
            let parent = PathText.parent(path)
            return parent.isEmpty ? "." : parent
        }
        return path
    }

    private static func identity(of directory: String) -> [UInt]? {
        var status = stat()
        guard stat(directory, &status) == 0 else { return nil }
        return [UInt(status.st_dev), UInt(status.st_ino)]
    }

    /// Checks every root; when one is gone, came back or resolves to another directory, drops
    /// every watch and sets them again. Returns whether it did (what is there now is news).
    func rearmIfMoved(health: WatchHealth) -> Bool {
        let now = roots.map { Self.identity(of: Self.directory(of: $0.path)) }
        guard now != roots.map(\.identity) else { return false }
        for handle in watched.keys { inotify_rm_watch(descriptor, handle) }
        watched = [:]
        openForWriting = []
        for index in roots.indices {
            roots[index].identity = now[index]
            let path = roots[index].path
            guard now[index] != nil else {
                health.set(path, problem: WatchHealth.missing(path))
                continue
            }
            let failure = addRecursively(Self.directory(of: path))
            health.set(path, problem: failure.map { "cannot watch \(path): \($0)" })
        }
        return true
    }

    /// Watches `directory` and everything under it; the first failure, if any (e.g. the
    /// inotify watch limit).
    @discardableResult
    private func addRecursively(_ directory: String) -> String? {
        let handle = inotify_add_watch(descriptor, directory, Self.mask)
        guard handle >= 0 else {
            let reason = String(cString: strerror(errno))
            return errno == ENOSPC ? "\(reason) (raise fs.inotify.max_user_watches, or use --watch-mode poll)" : reason
        }
        watched[handle] = directory
        var failure: String?
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return nil }
        for name in names {
            let path = PathText.join(directory, name)
            var status = stat()
            if lstat(path, &status) == 0, status.st_mode & S_IFMT == S_IFDIR, !watched.values.contains(path) {
                failure = failure ?? addRecursively(path)
            }
        }
        return failure
    }

    /// Waits up to `timeoutMilliseconds` for events; true when any arrived. New directories
    /// are watched before returning. Each file an event names is noted in `changed`; anything
    /// that may change more than that file (a directory, the event queue overflowing, a watch
    /// lost) notes everything. (Certificate files are read by every reload.)
    func wait(timeoutMilliseconds: Int32, changed: ChangedPaths) -> Bool {
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, timeoutMilliseconds) > 0 else { return false }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var any = false
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            any = true
            var offset = 0
            while offset + MemoryLayout<inotify_event>.size <= count {
                let (handle, mask, length) = buffer.withUnsafeBytes { raw -> (Int32, UInt32, Int) in
                    let event = raw.loadUnaligned(fromByteOffset: offset, as: inotify_event.self)
                    return (event.wd, event.mask, Int(event.len))
                }
                let nameStart = offset + MemoryLayout<inotify_event>.size
                let name = String(decoding: buffer[nameStart..<(nameStart + length)].prefix { $0 != 0 }, as: UTF8.self)
                let path = watched[handle].map { (directory: String) in
                    PathText.join(directory, name)
                }
                if mask & UInt32(IN_ISDIR) != 0, mask & UInt32(IN_CREATE | IN_MOVED_TO) != 0, let path {
                    addRecursively(path)
                }
                if let path, !name.isEmpty, mask & UInt32(IN_ISDIR | IN_Q_OVERFLOW | IN_IGNORED) == 0 {
                    changed.note(path)
                } else {
                    changed.noteEverything()
                }
                let key = "\(handle)/\(name)"
                if mask & UInt32(IN_MODIFY) != 0 { openForWriting.insert(key) }
                if mask & UInt32(IN_CLOSE_WRITE | IN_DELETE | IN_MOVED_FROM) != 0 { openForWriting.remove(key) }
                if mask & UInt32(IN_IGNORED) != 0 {
                    watched.removeValue(forKey: handle)
                    openForWriting = openForWriting.filter { !$0.hasPrefix("\(handle)/") }
                }
                offset = nameStart + length
            }
        }
        return any
    }

    func close() {
        Glibc.close(descriptor)
    }
}
#endif

/// Runs `body` on a thread of its own: the watcher blocks (inotify's poll, the polling sleep),
/// which a task must not do to Swift's few cooperative threads.
private func detachThread(_ body: @escaping @Sendable () -> Void) {
    final class Work {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    var thread = pthread_t()
    let work = Unmanaged.passRetained(Work(body)).toOpaque()
    let created = pthread_create(
        &thread, nil,
        { work in
            Unmanaged<Work>.fromOpaque(work!).takeRetainedValue().body()
            return nil
        }, work)
    precondition(created == 0, "cannot start the file watcher's thread (pthread_create: \(created))")
    pthread_detach(thread)
}

/// Path arithmetic on strings, as the watcher names files.
enum PathText {
    /// `name` inside `directory`.
    static func join(_ directory: String, _ name: String) -> String {
        directory.isEmpty ? name : directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    /// Everything before the last `/` ("" for a bare name, "/" for a name under the root).
    static func parent(_ path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed.removeLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return "" }
        return slash == trimmed.startIndex ? "/" : String(trimmed[..<slash])
    }

    /// Appends every path under `directory`, depth first; a directory that cannot be read (or a
    /// file) adds nothing, the rest are still walked. Links to directories are not followed.
    static func walk(_ directory: String, into names: inout [String]) {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for entry in entries {
            let path = join(directory, entry)
            names.append(path)
            var status = stat()
            if lstat(path, &status) == 0, status.st_mode & S_IFMT == S_IFDIR { walk(path, into: &names) }
        }
    }

    /// The path with every symbolic link resolved, or the path itself when it does not exist.
    static func resolvingSymlinks(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
