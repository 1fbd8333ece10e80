import Foundation
import Testing

/// What a one-file edit leaves on the heap. The translators' memos keep what each reload makes
/// for the next; where an edit remakes a value equal to one they hold (the Backend beside the
/// edited route, its clusters, its unchanged routes, its policies, its status), they must keep
/// the one value, not an equal copy beside it, or every file ever edited costs its objects
/// twice: 3.3 KB per edited file at 1000 routes before (33 MB over a day's edits of 10000
/// files), 0.7 KB since, the rest being the edited objects themselves.
///
/// Measured in a process of its own (translate-bench, built beside this bundle): the heap of
/// this one is shared with the tests running beside it.
@Suite("Heap after one-file edits")
struct ReloadHeapTests {
    static let translateBench = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        .appendingPathComponent("translate-bench")

    @Test("300 edits of different files among 1000 routes keep the heap within 1.2 KB an edit of the first load")
    func editsShareWhatTheyDoNotChange() throws {
        let printed = try output(
            of: Self.translateBench.path, ["--routes", "1000", "--runs", "1", "--edits", "1", "--reloads", "300"])
        // "heap in use: 11.45 MB after the first load, 11.67 MB after 301 reloads (727 bytes per reload)"
        let line = try #require(
            printed.split(separator: "\n").first { $0.contains("heap in use:") }, "translate-bench printed: \(printed)")
        let figure = try #require(line.split(separator: "(").last?.split(separator: " ").first)
        let perReload = try #require(Int(figure), "no figure in \(line)")
        #expect(perReload <= 1200, "\(line)")
    }
}
