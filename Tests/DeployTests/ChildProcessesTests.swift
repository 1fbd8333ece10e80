import Foundation
import Synchronization
import Testing
import XDSTesting

@Suite("XDSTesting's child processes")
struct ChildProcessesTests {
    final class Started: Sendable {
        let pids = Mutex<[pid_t]>([])
    }

    final class Overlap: Sendable {
        let inside = Mutex(0)
        let most = Mutex(0)
    }

    /// What keeps a child from inheriting another's descriptors: no two are started at once.
    @Test("children are started one at a time, from however many tasks")
    func launchesAreSerialized() async {
        let overlap = Overlap()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    for _ in 0..<50 {
                        ChildProcesses.launch {
                            let now = overlap.inside.withLock { inside in
                                inside += 1
                                return inside
                            }
                            overlap.most.withLock { $0 = max($0, now) }
                            usleep(200)
                            overlap.inside.withLock { $0 -= 1 }
                        }
                    }
                }
            }
        }
        #expect(overlap.most.withLock { $0 } == 1)
    }

    /// Servers start beside commands all through a test run. A command whose pipe or exit-watch
    /// socket a server inherited would not finish until that server exits; a server that inherited
    /// a command's output file shows it in /proc.
    @Test("a command finishes while children that live on are started beside it, and none inherits its files")
    func commandsFinishBesideLongLivedChildren() async throws {
        let started = Started()
        defer { for pid in started.pids.withLock({ $0 }) { kill(pid, SIGKILL) } }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for _ in 0..<200 {
                    let process = Process()
                    process.executableURL = URL(fileURLWithPath: "/bin/sleep")
                    process.arguments = ["600"]
                    process.standardOutput = FileHandle.nullDevice
                    process.standardError = FileHandle.nullDevice
                    try ChildProcesses.launch { try process.run() }
                    started.pids.withLock { $0.append(process.processIdentifier) }
                }
            }
            group.addTask {
                for _ in 0..<200 {
                    let result = try runProcess("/bin/echo", ["done"], timeout: .seconds(60))
                    #expect(result.stdout == "done\n")
                }
            }
            try await group.waitForAll()
        }
        // None of them holds a command's output file: each child was started alone.
        let commandFiles = TestScratch.root.appendingPathComponent("run-").path
        var inherited: [String] = []
        for pid in started.pids.withLock({ $0 }) {
            let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []
            for descriptor in descriptors {
                let target =
                    (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(descriptor)"))
                if let target, target.hasPrefix(commandFiles) { inherited.append("\(pid): \(target)") }
            }
        }
        #expect(inherited.isEmpty, "children hold descriptors another child was started with: \(inherited)")
    }
}
