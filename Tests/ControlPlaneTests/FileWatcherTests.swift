import ControlPlane
import Foundation
import Synchronization
import Testing
import XDSTesting

@Suite("Watching configuration files")
struct FileWatcherTests {
    /// Counts the signals of `watcher` while `body` runs, then a little longer.
    func signals(_ watcher: FileWatcher, _ body: () throws -> Void) async throws -> Int {
        let count = Mutex(0)
        let stream = watcher.changes()
        let task = Task {
            for await _ in stream { count.withLock { $0 += 1 } }
        }
        try await Task.sleep(for: .milliseconds(150))  // the watcher is set up
        try body()
        try await Task.sleep(for: .milliseconds(600))
        task.cancel()
        return count.withLock { $0 }
    }

    @Test("each editor pattern is noticed, a burst gives one signal", arguments: FileWatcher.Mode.allCases)
    func patterns(mode: FileWatcher.Mode) async throws {
        let directory = try SwitchboardCommand.temporaryDirectory("watch")
        let file = directory.appendingPathComponent("a.yaml")
        try "a: 1\n".write(to: file, atomically: true, encoding: .utf8)
        let watcher = FileWatcher(paths: [directory.path], mode: mode, debounce: .milliseconds(100), pollInterval: .milliseconds(30))

        #expect(try await signals(watcher) { try "a: 2\n".write(to: file, atomically: true, encoding: .utf8) } == 1, "atomic rename")
        #expect(
            try await signals(watcher) {
                let handle = try FileHandle(forWritingTo: file)
                try handle.truncate(atOffset: 0)
                try handle.write(contentsOf: Data("a: 33\n".utf8))
                try handle.close()
            } == 1, "truncate then write")
        #expect(
            try await signals(watcher) {
                for index in 0..<10 { try "a: \(index)\n".write(to: file, atomically: false, encoding: .utf8) }
            } == 1, "a burst of writes is one reload")
        #expect(
            try await signals(watcher) {
                let sub = directory.appendingPathComponent("sub")
                try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
                try "b: 1\n".write(to: sub.appendingPathComponent("b.yaml"), atomically: true, encoding: .utf8)
            } >= 1, "a new subdirectory and its file")
        #expect(try await signals(watcher) { try FileManager.default.removeItem(at: file) } == 1, "a deleted file")
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
        try manager.createSymbolicLink(atPath: directory.appendingPathComponent("..data").path, withDestinationPath: "..2026_01")
        try manager.createSymbolicLink(
            atPath: directory.appendingPathComponent("config.yaml").path, withDestinationPath: "..data/config.yaml")
        let watcher = FileWatcher(paths: [directory.path], mode: mode, debounce: .milliseconds(100), pollInterval: .milliseconds(30))
        let count = try await signals(watcher) {
            // As the kubelet does it: a new version directory, a new link, renamed over ..data.
            try version("..2026_02", "a: 2\n")
            try manager.createSymbolicLink(atPath: directory.appendingPathComponent("..data_tmp").path, withDestinationPath: "..2026_02")
            guard rename(directory.appendingPathComponent("..data_tmp").path, directory.appendingPathComponent("..data").path) == 0 else {
                throw CocoaError(.fileWriteUnknown)
            }
        }
        #expect(count >= 1)
        #expect(try String(contentsOf: directory.appendingPathComponent("config.yaml"), encoding: .utf8) == "a: 2\n")
    }
}
