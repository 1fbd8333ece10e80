import Foundation
import GatewayAPI

/// The operator's files as Switchboard uses them, with last-known-good per file: a file that
/// does not load cleanly (a YAML error, a wrong field) keeps its previous good content in effect,
/// and its problems are reported, until it is fixed or deleted. A deleted file's resources go.
/// A file never seen good contributes what of it is valid.
///
/// Not thread-safe by itself: one reload loop owns it.
public struct ConfigStore: Sendable {
    /// What one refresh found.
    public struct Refresh: Sendable {
        public var resources: ResourceSet
        /// Problems in the files as they are now on disk (including those whose previous content
        /// stays in effect).
        public var diagnostics: [Diagnostic]
        /// Files whose previous good content is in effect because the new one has problems.
        public var heldBack: [String]
        /// Whether any file's effective content changed since the last refresh.
        public var changed: Bool
    }

    private struct Entry: Sendable {
        /// What is on disk now.
        var current: String
        var currentProblems: [Diagnostic]
        /// What is in effect.
        var effective: String
    }

    private var entries: [String: Entry] = [:]
    public let paths: [String]
    /// Larger files are refused (and their last good content kept), so one runaway file cannot
    /// exhaust memory.
    public let maxFileBytes: Int

    public init(paths: [String], maxFileBytes: Int = 16 << 20) {
        self.paths = paths
        self.maxFileBytes = maxFileBytes
    }

    /// Reads every file under `paths` again. A changed file is parsed alone first, to decide
    /// whether its new content takes effect; then every file's effective content is loaded
    /// together, since duplicates and references span files. (A per-file cache of decoded
    /// objects would spare re-parsing unchanged files on each reload.)
    public mutating func refresh() throws -> Refresh {
        let files = try ConfigFiles.list(paths)
        var next: [String: Entry] = [:]
        var changed = Set(entries.keys) != Set(files)
        for path in files {
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
            let tooLarge = size > maxFileBytes
            guard let data = tooLarge ? Data("# too large".utf8) : FileManager.default.contents(atPath: path) else { continue }  // vanished
            let text = tooLarge ? "# \(size) bytes" : String(decoding: data, as: UTF8.self)
            if let entry = entries[path], entry.current == text {
                next[path] = entry
                continue
            }
            let problems =
                tooLarge
                ? [
                    Diagnostic(
                        location: SourceLocation(file: path, line: 1, column: 1), code: .outOfRange, field: "",
                        message: "the file is \(size) bytes; files over \(maxFileBytes) bytes are not read (--max-file-size)")
                ]
                : ResourceSet.load([(path, text)]).diagnostics
            let previous = entries[path]
            // A file with problems keeps its last good content, if it ever had one.
            let effective = problems.isEmpty || previous == nil ? text : previous!.effective
            if effective != previous?.effective { changed = true }
            next[path] = Entry(current: text, currentProblems: problems, effective: effective)
        }
        entries = next
        let ordered = files.compactMap { path in entries[path].map { (path: path, contents: $0.effective) } }
        var resources = ResourceSet.load(ordered)
        let held = files.filter { entries[$0].map { $0.effective != $0.current } ?? false }
        // Problems of held-back files are those of the new content, not of the content in effect.
        resources.diagnostics = (resources.diagnostics.filter { !held.contains($0.location.file) }
            + held.flatMap { entries[$0]!.currentProblems }).sorted()
        return Refresh(resources: resources, diagnostics: resources.diagnostics, heldBack: held, changed: changed)
    }
}
