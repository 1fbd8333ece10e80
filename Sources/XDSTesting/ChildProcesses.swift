import Foundation
import Synchronization

/// Servers a test run starts (Envoy, Redis, the browser's driver), killed when the test process
/// exits. A test stops its own, but a stop left to a `Task` in a `defer` never runs when that test
/// was the run's last, and a process exiting runs no `deinit`: the children outlived the run.
public enum ChildProcesses {
    private static let running = Mutex<Set<pid_t>>([])
    private static let hook: Void = {
        atexit {
            for pid in ChildProcesses.running.withLock({ $0 }) { kill(pid, SIGKILL) }
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
}
