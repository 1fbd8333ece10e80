import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Tells when anything under the watched paths may have changed, one signal per burst: after
/// the first event it waits until `debounce` passes without another (or `maxWait` since the
/// first), as Istio debounces. Covers editors' patterns: atomic rename, truncate-then-write,
/// new subdirectories, deletions, and ConfigMap-style `..data` symlink swaps (a rename in the
/// watched directory).
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
    /// How often `poll` mode rescans.
    public var pollInterval: Duration

    public init(
        paths: [String], mode: Mode = .inotify, debounce: Duration = .milliseconds(100), maxWait: Duration = .seconds(1),
        pollInterval: Duration = .milliseconds(100)
    ) {
        self.paths = paths
        self.mode = mode
        self.debounce = debounce
        self.maxWait = maxWait
        self.pollInterval = pollInterval
    }

    /// Debounced change signals until the stream is dropped; each carries when the burst's
    /// first event was seen (where convergence time starts).
    public func changes() -> AsyncStream<ContinuousClock.Instant> {
        let (stream, continuation) = AsyncStream.makeStream(of: ContinuousClock.Instant.self, bufferingPolicy: .bufferingNewest(1))
        let stop = Stopper()
        continuation.onTermination = { _ in stop.stop() }
        let watcher = self
        #if canImport(Glibc)
        if mode == .inotify, let inotify = Inotify(paths: paths) {
            Thread.detachNewThread { watcher.runInotify(inotify, stop: stop) { continuation.yield($0) } }
            return stream
        }
        #endif
        Thread.detachNewThread { watcher.runPolling(stop: stop) { continuation.yield($0) } }
        return stream
    }

    final class Stopper: Sendable {
        private let flag = Atomic(false)
        func stop() { flag.store(true, ordering: .relaxed) }
        var stopped: Bool { flag.load(ordering: .relaxed) }
    }

    /// Collapses a burst of events into one signal.
    struct Debouncer {
        let debounce: Duration
        let maxWait: Duration
        var first: ContinuousClock.Instant?
        var last: ContinuousClock.Instant?

        mutating func event(at now: ContinuousClock.Instant) {
            if first == nil { first = now }
            last = now
        }

        /// When the burst is over, or nil when nothing is pending.
        var due: ContinuousClock.Instant? {
            guard let first, let last else { return nil }
            return min(last + debounce, first + maxWait)
        }

        /// The burst's first event when the burst is over, else nil.
        mutating func fireIfDue(at now: ContinuousClock.Instant) -> ContinuousClock.Instant? {
            guard let due, now >= due, let started = first else { return nil }
            first = nil
            last = nil
            return started
        }
    }

    private func runPolling(stop: Stopper, signal: (ContinuousClock.Instant) -> Void) {
        var debouncer = Debouncer(debounce: debounce, maxWait: maxWait)
        var previous = fingerprint()
        while !stop.stopped {
            Thread.sleep(forTimeInterval: Double(pollInterval.components.seconds) + Double(pollInterval.components.attoseconds) / 1e18)
            let now = ContinuousClock.now
            let current = fingerprint()
            if current != previous {
                previous = current
                debouncer.event(at: now)
            }
            if let started = debouncer.fireIfDue(at: now) { signal(started) }
        }
    }

    /// Names, sizes and modification times of everything under the paths (symlinks followed).
    private func fingerprint() -> [String: String] {
        var result: [String: String] = [:]
        let manager = FileManager.default
        for path in paths {
            var names = [path]
            if let walker = manager.enumerator(atPath: path) {
                for case let relative as String in walker { names.append((path as NSString).appendingPathComponent(relative)) }
            }
            for name in names {
                let resolved = (name as NSString).resolvingSymlinksInPath
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
        var debouncer = Debouncer(debounce: debounce, maxWait: maxWait)
        while !stop.stopped {
            var timeout: Int32 = 200
            if let due = debouncer.due {
                let remaining = due - ContinuousClock.now
                timeout = Int32(max(1, min(200, remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000)))
            }
            if inotify.wait(timeoutMilliseconds: timeout) { debouncer.event(at: .now) }
            if let started = debouncer.fireIfDue(at: .now) { signal(started) }
        }
    }
    #endif
}

#if canImport(Glibc)
/// One inotify instance watching directories recursively; new subdirectories are added as they appear.
final class Inotify: @unchecked Sendable {
    // Used only from the watcher's own thread after creation.
    private let descriptor: Int32
    private var watched: [Int32: String] = [:]
    private static let mask: UInt32 = UInt32(
        IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF)

    init?(paths: [String]) {
        descriptor = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard descriptor >= 0 else { return nil }
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
            // A single file is watched through its directory, which sees renames onto it.
            addRecursively(isDirectory.boolValue ? path : (path as NSString).deletingLastPathComponent)
        }
        if watched.isEmpty {
            Glibc.close(descriptor)
            return nil
        }
    }

    private func addRecursively(_ directory: String) {
        let target = directory.isEmpty ? "." : directory
        let handle = inotify_add_watch(descriptor, target, Self.mask)
        if handle >= 0 { watched[handle] = target }
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: target) else { return }
        for name in names {
            let path = (target as NSString).appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue,
                !watched.values.contains(path)
            {
                addRecursively(path)
            }
        }
    }

    /// Waits up to `timeoutMilliseconds` for events; true when any arrived. New directories
    /// are watched before returning.
    func wait(timeoutMilliseconds: Int32) -> Bool {
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
                if mask & UInt32(IN_ISDIR) != 0, mask & UInt32(IN_CREATE | IN_MOVED_TO) != 0, let parent = watched[handle] {
                    let nameBytes = buffer[nameStart..<(nameStart + length)].prefix { $0 != 0 }
                    addRecursively((parent as NSString).appendingPathComponent(String(decoding: nameBytes, as: UTF8.self)))
                }
                if mask & UInt32(IN_IGNORED) != 0 { watched.removeValue(forKey: handle) }
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
