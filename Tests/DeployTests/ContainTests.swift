import Foundation
import Testing
import XDSTesting

/// scripts/contain, which the test commands run under: what a test run leaves running is
/// stopped, and a run past its time limit says where it was.
@Suite("scripts/contain: a test run leaves nothing running")
struct ContainTests {
    static let contain = root.appendingPathComponent("scripts/contain").path

    /// Whether `pid` is gone (or a zombie no one has reaped yet, which holds no files).
    static func gone(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return true }
        return stat[stat.index(after: close)...].split(separator: " ").first == "Z"
    }

    /// Starts `contain ARGUMENTS` with its output in files (a pipe's end can reach what it
    /// leaves running through inherited descriptors) and waits until it ends.
    static func run(_ arguments: [String], environment: [String: String] = [:], in scratch: URL) async throws
        -> (status: Int32, stderr: String)
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: contain)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let log = scratch.appendingPathComponent("stderr")
        try ChildProcesses.launch {
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            process.standardError = try FileHandle(forWritingTo: log)
            process.standardOutput = FileHandle.nullDevice
            try process.run()
        }
        let ended = await ChildProcesses.exited(process, within: .seconds(300))
        if !ended { kill(process.processIdentifier, SIGKILL) }
        try #require(ended, "contain \(arguments) did not end")
        return (process.terminationStatus, try String(contentsOf: log, encoding: .utf8))
    }

    @Test("a process the command left behind (as a crashed test process leaves its servers) is killed when it ends")
    func leftoversAreKilled() async throws {
        let scratch = try TestScratch.directory("contain")
        let pidFile = scratch.appendingPathComponent("pid").path
        let result = try await Self.run(
            ["bash", "-c", "sleep 600 & echo $! > '\(pidFile)'; echo the last line >&2; exit 3"],
            environment: ["TEST_TIME_LIMIT": ""],
            in: scratch)
        #expect(result.status == 3, "the command's own status: \(result.stderr)")
        #expect(result.stderr.hasSuffix("the last line\n"), "what it printed last is passed on: \(result.stderr)")
        let text = try String(contentsOfFile: pidFile, encoding: .utf8)
        let pid = try #require(pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)))
        let killed = await eventually { Self.gone(pid) }
        if !killed { kill(pid, SIGKILL) }
        #expect(killed, "the command's background sleep outlived it")
    }

    @Test("a run past TEST_TIME_LIMIT prints its test processes' threads and the tests still running, and is stopped")
    func timeLimit() async throws {
        let scratch = try TestScratch.directory("contain")
        // Any program named like a test bundle is one whose threads are printed.
        let bundle = scratch.appendingPathComponent("stuck.xctest")
        try FileManager.default.copyItem(atPath: "/bin/sleep", toPath: bundle.path)
        // It reports tests as swift-testing does: one still running, one that ended.
        let script = """
            echo '◇ Test "waits for "ever"" started.' >&2
            echo '◇ Test waitsToo() started.' >&2
            echo '◇ Test "ends" started.' >&2
            echo '✔ Test "ends" with 2 test cases passed after 0.1 seconds.' >&2
            exec '\(bundle.path)' 600
            """
        let result = try await Self.run(["bash", "-c", script], environment: ["TEST_TIME_LIMIT": "1"], in: scratch)
        #expect(result.status == 137)
        let printed = result.stderr
        #expect(printed.contains("contain: still running after 1 s"), "\(printed)")
        #expect(printed.contains("--- threads of "), "\(printed)")
        let running = printed.components(separatedBy: "--- tests started and not ended\n").last ?? ""
        #expect(running.contains("  \"waits for \"ever\"\"\n"), "\(printed)")
        #expect(running.contains("  waitsToo()\n"), "\(printed)")
        #expect(!running.contains("ends"), "\(printed)")
        // The backtrace itself needs gdb, which .ci/run installs, allowed to attach (as on CI).
        if onCI {
            #expect(printed.contains("#0 "), "no backtrace:\n\(printed.suffix(2000))")
        }
    }
}
