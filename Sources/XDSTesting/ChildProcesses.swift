import Foundation
import Synchronization

/// How the tests start child processes and wait for them, and the servers a test run starts
/// (Envoy, `switchboard serve`, Redis, the browser's driver, layer-4 peers), killed when the test
/// process exits, and the run's scratch directory, removed then. A test stops its own servers, but
/// a stop left to a `Task` in a `defer` never runs when that test was the run's last, and a
/// process exiting runs no `deinit`: the children outlived the run.
public enum ChildProcesses {
    private static let running = Mutex<Set<pid_t>>([])

    /// Held while a child is started. Foundation on Linux closes, in a new child, the descriptors
    /// open when it looks, up to the highest then; one that another thread opens before the child
    /// starts is inherited. A child that lives on (an Envoy) then holds another child's pipe or
    /// exit-watch socket open, and whoever reads that pipe or waits for that exit waits as long:
    /// a test run hung so, the blocked waits holding every thread of the concurrency pool and the
    /// Envoy waiting for a test to stop it.
    private static let launching = NSLock()

    /// Runs `body`, which makes a child's pipes or files and starts it, while no other child is
    /// being started. Every `Process.run()` of the tests goes through here.
    public static func launch<Result>(_ body: () throws -> Result) rethrows -> Result {
        launching.lock()
        defer { launching.unlock() }
        return try body()
    }

    /// Waits until `process` has exited, for `timeout` at most; whether it has. Blocks the calling
    /// thread: for callers that cannot suspend (use `exited(_:within:)` where they can).
    public static func waitForExit(_ process: Process, timeout: Duration = .seconds(60)) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else { return false }
            usleep(10_000)
        }
        return true
    }

    /// Waits until `process` has exited, for `timeout` at most; whether it has.
    public static func exited(_ process: Process, within timeout: Duration = .seconds(60)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else { return false }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return true
    }
    private static let hook: Void = {
        atexit {
            for pid in ChildProcesses.running.withLock({ $0 }) where isOurs(pid) { kill(pid, SIGKILL) }
            if TestScratch.made.withLock({ $0 }) { try? FileManager.default.removeItem(at: TestScratch.root) }
        }
    }()

    /// Kills `pid` when this process exits, unless `ended` says it is gone first.
    public static func register(_ pid: pid_t) {
        _ = hook
        running.withLock { _ = $0.insert(pid) }
    }

    public static func ended(_ pid: pid_t) {
        running.withLock { _ = $0.remove(pid) }
    }

    /// Whether `pid` is still a child of this process: one stopped without `ended` may have been
    /// reaped and its number given to a stranger.
    private static func isOurs(_ pid: pid_t) -> Bool {
        #if os(Linux)
        // The parent is the second field after the command name, which may hold spaces.
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 1 && pid_t(fields[1]) == getpid()
        #else
        return true
        #endif
    }

    /// Arms the exit hook without a process to kill (the scratch directory needs it too).
    static func armExitHook() { _ = hook }
}

/// One directory per test process for every file a test writes (config files, Envoy's bootstrap
/// and log, the browser's profile), removed when the process exits: a run of the suite left
/// about a hundred directories in /tmp, and CI machines run it again and again.
public enum TestScratch {
    public static let root = FileManager.default.temporaryDirectory.appendingPathComponent(
        "switchboard-tests-\(getpid())")
    static let made = Mutex(false)

    /// A fresh directory under the run's scratch directory.
    public static func directory(_ prefix: String) throws -> URL {
        ChildProcesses.armExitHook()
        made.withLock { $0 = true }
        let directory = root.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }
}
