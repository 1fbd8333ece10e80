import Foundation
import Synchronization
import Testing
import XDSTesting

@testable import ControlPlane

/// The debouncer's rules on a clock the test moves, so "a burst is one signal" holds however
/// busy the machine is.
@Suite("Debouncing file events")
struct DebouncerTests {
    let start = ContinuousClock.now
    func at(_ milliseconds: Int) -> ContinuousClock.Instant { start + .milliseconds(milliseconds) }

    @Test("a burst of events is one signal, given once the burst has been quiet for the debounce time")
    func burst() {
        var debouncer = FileWatcher.Debouncer(debounce: .milliseconds(100), maxWait: .seconds(1))
        for time in stride(from: 0, through: 90, by: 10) { debouncer.event(at: at(time)) }
        #expect(debouncer.fireIfDue(at: at(150)) == nil, "only 60 ms after the last event")
        #expect(debouncer.fireIfDue(at: at(190)) == at(0), "one signal, carrying the burst's first event")
        #expect(debouncer.fireIfDue(at: at(500)) == nil, "and only one")
    }

    @Test("events that never pause still signal after maxWait")
    func maxWait() {
        var debouncer = FileWatcher.Debouncer(debounce: .milliseconds(100), maxWait: .seconds(1))
        for time in stride(from: 0, through: 990, by: 50) { debouncer.event(at: at(time)) }
        #expect(debouncer.fireIfDue(at: at(999)) == nil)
        #expect(debouncer.fireIfDue(at: at(1000)) == at(0))
    }

    @Test("a file still open for writing holds the signal until it is closed, or maxWriteWait")
    func writing() {
        var debouncer = FileWatcher.Debouncer(
            debounce: .milliseconds(100), maxWait: .seconds(1), maxWriteWait: .seconds(10))
        debouncer.event(at: at(0))
        #expect(
            debouncer.fireIfDue(at: at(5000), writing: true) == nil,
            "past maxWait, but the writer has not closed the file")
        #expect(debouncer.fireIfDue(at: at(5000), writing: false) == at(0), "closed: due at once")
        debouncer.event(at: at(6000))
        #expect(debouncer.fireIfDue(at: at(15_999), writing: true) == nil)
        #expect(
            debouncer.fireIfDue(at: at(16_000), writing: true) == at(6000),
            "a writer that never closes waits maxWriteWait at most")
    }
}

@Suite("Watching configuration files")
struct FileWatcherTests {
    /// Counts a watcher's signals from the moment it is created (it watches once `changes()`
    /// returns).
    final class Signals: Sendable {
        final class Count: Sendable {
            let value = Mutex(0)
        }
        private let count = Count()
        private let task: Task<Void, Never>

        init(_ watcher: FileWatcher) {
            let stream = watcher.changes()
            let count = self.count
            task = Task { for await _ in stream { count.value.withLock { $0 += 1 } } }
        }

        var value: Int { count.value.withLock { $0 } }
        func cancel() { task.cancel() }

        /// Whether at least `expected` signals arrive within a generous deadline.
        func reach(_ expected: Int) async -> Bool { await eventually(timeout: .seconds(60)) { self.value >= expected } }
    }

    static func watcher(_ directory: URL, _ mode: FileWatcher.Mode) -> FileWatcher {
        FileWatcher(
            paths: [directory.path], mode: mode, debounce: .milliseconds(100), maxWriteWait: .seconds(60),
            pollInterval: .milliseconds(30))
    }

    @Test("each editor pattern is noticed", arguments: FileWatcher.Mode.allCases)
    func patterns(mode: FileWatcher.Mode) async throws {
        let directory = try SwitchboardCommand.temporaryDirectory("watch")
        let file = directory.appendingPathComponent("a.yaml")
        try "a: 1\n".write(to: file, atomically: true, encoding: .utf8)
        let patterns: [(String, () throws -> Void)] = [
            ("atomic rename", { try "a: 2\n".write(to: file, atomically: true, encoding: .utf8) }),
            (
                "truncate then write",
                {
                    let handle = try FileHandle(forWritingTo: file)
                    try handle.truncate(atOffset: 0)
                    try handle.write(contentsOf: Data("a: 33\n".utf8))
                    try handle.close()
                }
            ),
            (
                "a burst of writes",
                { for index in 0..<10 { try "a: \(index)\n".write(to: file, atomically: false, encoding: .utf8) } }
            ),
            (
                "a new subdirectory and its file",
                {
                    let sub = directory.appendingPathComponent("sub")
                    try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
                    try "b: 1\n".write(to: sub.appendingPathComponent("b.yaml"), atomically: true, encoding: .utf8)
                }
            ),
            ("a deleted file", { try FileManager.default.removeItem(at: file) }),
        ]
        for (name, change) in patterns {
            // A watcher per pattern: no signal of one pattern can be taken for the next's.
            let signals = Signals(Self.watcher(directory, mode))
            defer { signals.cancel() }
            try change()
            #expect(await signals.reach(1), "\(name) was not noticed")
        }
    }

    @Test("a ConfigMap-style ..data symlink swap is noticed", arguments: FileWatcher.Mode.allCases)
    func configMapSwap(mode: FileWatcher.Mode) async throws {
        let directory = try SwitchboardCommand.temporaryDirectory("configmap")
        let manager = FileManager.default
        func version(_ name: String, _ text: String) throws {
            let folder = directory.appendingPathComponent(name)
            try manager.createDirectory(at: folder, withIntermediateDirectories: true)
            try text.write(to: folder.appendingPathComponent("config.yaml"), atomically: true, encoding: .utf8)
        }
        try version("..2026_01", "a: 1\n")
        try manager.createSymbolicLink(
            atPath: directory.appendingPathComponent("..data").path, withDestinationPath: "..2026_01")
        try manager.createSymbolicLink(
            atPath: directory.appendingPathComponent("config.yaml").path, withDestinationPath: "..data/config.yaml")
        let signals = Signals(Self.watcher(directory, mode))
        defer { signals.cancel() }
        // As the kubelet does it: a new version directory, a new link, renamed over ..data.
        try version("..2026_02", "a: 2\n")
        try manager.createSymbolicLink(
            atPath: directory.appendingPathComponent("..data_tmp").path, withDestinationPath: "..2026_02")
        #expect(
            rename(directory.appendingPathComponent("..data_tmp").path, directory.appendingPathComponent("..data").path)
                == 0)
        #expect(await signals.reach(1))
        #expect(try String(contentsOf: directory.appendingPathComponent("config.yaml"), encoding: .utf8) == "a: 2\n")
    }

    @Test(
        "a watched directory that is deleted and created again is watched again; until then health says so",
        arguments: FileWatcher.Mode.allCases)
    func recreatedRoot(mode: FileWatcher.Mode) async throws {
        let directory = try SwitchboardCommand.temporaryDirectory("recreate")
        try "a: 1\n".write(to: directory.appendingPathComponent("a.yaml"), atomically: true, encoding: .utf8)
        let watcher = Self.watcher(directory, mode)
        let signals = Signals(watcher)
        defer { signals.cancel() }
        #expect(watcher.health.unwatched.isEmpty)

        try FileManager.default.removeItem(at: directory)
        #expect(
            await eventually(timeout: .seconds(60)) {
                watcher.health.unwatched == ["\(directory.path) does not exist; watching for it to come back"]
            }, "\(watcher.health.unwatched)")
        #expect(await signals.reach(1), "the deletion was not noticed")
        let afterDeletion = signals.value

        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try "a: 2\n".write(to: directory.appendingPathComponent("a.yaml"), atomically: true, encoding: .utf8)
        #expect(await signals.reach(afterDeletion + 1), "the recreated directory was not noticed")
        #expect(
            await eventually(timeout: .seconds(60)) { watcher.health.unwatched.isEmpty }, "\(watcher.health.unwatched)")

        // And edits inside it are seen again.
        let beforeEdit = signals.value
        try await Task.sleep(for: .milliseconds(300))  // let the recreation's burst end; only adds time
        let settled = signals.value
        try "a: 3\n".write(to: directory.appendingPathComponent("a.yaml"), atomically: true, encoding: .utf8)
        #expect(await signals.reach(max(beforeEdit, settled) + 1), "an edit in the recreated directory was not noticed")
    }

    @Test("a symlinked config directory swapped to another target is watched through the new target")
    func swappedSymlinkRoot() async throws {
        let base = try SwitchboardCommand.temporaryDirectory("swap")
        let first = base.appendingPathComponent("one")
        let second = base.appendingPathComponent("two")
        for folder in [first, second] {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try "a: 1\n".write(to: folder.appendingPathComponent("a.yaml"), atomically: true, encoding: .utf8)
        }
        let link = base.appendingPathComponent("config")
        try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: first.path)
        let signals = Signals(Self.watcher(link, .inotify))
        defer { signals.cancel() }
        let next = base.appendingPathComponent("config.tmp")
        try FileManager.default.createSymbolicLink(atPath: next.path, withDestinationPath: second.path)
        #expect(rename(next.path, link.path) == 0)
        #expect(await signals.reach(1), "the swap was not noticed")
        try await Task.sleep(for: .milliseconds(300))  // let the swap's burst end; only adds time
        let settled = signals.value
        try "a: 2\n".write(to: second.appendingPathComponent("a.yaml"), atomically: true, encoding: .utf8)
        #expect(await signals.reach(settled + 1), "an edit in the new target was not noticed")
    }

    @Test(
        "inotify names the files that changed; what it cannot name (its start, a new directory; polling) is everything"
    )
    func namedChanges() async throws {
        let directory = try SwitchboardCommand.temporaryDirectory("named-watch")
        defer { try? FileManager.default.removeItem(at: directory) }
        let a = directory.appendingPathComponent("a.yaml")
        let b = directory.appendingPathComponent("b.yaml")
        for file in [a, b] { try "a: 1\n".write(to: file, atomically: true, encoding: .utf8) }
        let watcher = Self.watcher(directory, .inotify)
        let signals = Signals(watcher)
        defer { signals.cancel() }
        // Edits made before the watches were set were never seen: the first reload reads all.
        #expect(watcher.changed.take() == nil)

        try "a: 2\n".write(to: a, atomically: true, encoding: .utf8)
        #expect(await signals.reach(1))
        let named = watcher.changed.take()
        #expect(named?.contains(a.path) == true, "\(String(describing: named))")
        #expect(named?.contains(b.path) == false)

        try FileManager.default.removeItem(at: b)
        #expect(await signals.reach(2))
        #expect(watcher.changed.take() == [b.path])

        try FileManager.default.createDirectory(
            at: directory.appendingPathComponent("sub"), withIntermediateDirectories: false)
        #expect(await signals.reach(3))
        #expect(watcher.changed.take() == nil, "a new directory's files were not named one by one")

        let polling = Self.watcher(directory, .poll)
        let polled = Signals(polling)
        defer { polled.cancel() }
        try "a: 3\n".write(to: a, atomically: true, encoding: .utf8)
        #expect(await polled.reach(1))
        #expect(polling.changed.take() == nil)
    }

    @Test("inotify: a file still open for writing is not signalled until it is closed")
    func slowInPlaceWrite() async throws {
        let directory = try SwitchboardCommand.temporaryDirectory("slow")
        let file = directory.appendingPathComponent("a.yaml")
        try "a: 1\n".write(to: file, atomically: true, encoding: .utf8)
        let signals = Signals(Self.watcher(directory, .inotify))
        defer { signals.cancel() }
        let handle = try FileHandle(forWritingTo: file)
        try handle.truncate(atOffset: 0)
        try handle.write(contentsOf: Data("a: 1\n".utf8))
        // Well past debounce and maxWait: without the hold, a signal would have come ~100 ms in.
        try await Task.sleep(for: .milliseconds(1500))
        #expect(signals.value == 0, "signalled while the file was still being written")
        try handle.write(contentsOf: Data("b: 2\n".utf8))
        try handle.close()
        #expect(await signals.reach(1), "the finished write was not signalled")
    }
}
