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
        /// Certificate and key files that Secrets name: watched with the configuration.
        public var certificateFiles: [String] = []
        /// How many files were parsed and decoded: those whose text changed.
        public var decodedFiles = 0
    }

    private struct Entry: Sendable {
        /// What is on disk now; nil when it exists but cannot be read (or its directory cannot be
        /// listed).
        var current: String?
        var currentProblems: [Diagnostic]
        /// What is in effect; nil for a file that was never readable.
        var effective: String?
        /// `effective`, decoded: an unchanged file is not parsed again.
        var decoded: DecodedFile?
    }

    private var entries: [String: Entry] = [:]
    private var certificates = CertificateFiles()
    public let paths: [String]
    /// Larger files are refused (and their last good content kept), so one runaway file cannot
    /// exhaust memory.
    public let maxFileBytes: Int

    public init(paths: [String], maxFileBytes: Int = ConfigFiles.defaultMaxFileBytes) {
        self.paths = paths
        self.maxFileBytes = maxFileBytes
    }

    /// Reads every file under `paths` again. Only a changed file is decoded (on every core, when
    /// many changed); its problems decide whether its new content takes effect. Then every file's
    /// effective objects are assembled together, since duplicates and references span files.
    ///
    /// A file that cannot be read, and every known file under a directory that cannot be listed,
    /// keeps its last good content: unreadable is not deleted.
    public mutating func refresh() throws -> Refresh {
        let listing = try ConfigFiles.list(paths)
        let blockedDirectories = listing.unreadableDirectories.map { $0.location.file + "/" }
        let listed = Set(listing.files)
        let blocked = entries.keys.filter { path in
            !listed.contains(path) && blockedDirectories.contains { path.hasPrefix($0) }
        }.sorted()
        let files = listing.files + blocked
        var next: [String: Entry] = [:]
        for path in blocked {
            next[path] = Entry(
                current: nil, currentProblems: [], effective: entries[path]?.effective, decoded: entries[path]?.decoded)
        }
        var changedTexts: [(path: String, contents: String)] = []
        for path in listing.files {
            let previous = entries[path]
            switch ConfigFiles.read(path, maxFileBytes: maxFileBytes) {
            case .vanished:
                continue
            case .problem(let diagnostic):
                next[path] = Entry(
                    current: nil, currentProblems: [diagnostic], effective: previous?.effective,
                    decoded: previous?.decoded)
            case .text(let text):
                if let previous, previous.current == text {
                    next[path] = previous
                    continue
                }
                changedTexts.append((path, text))
            }
        }
        for (decoded, text) in zip(DecodedFile.decodeAll(changedTexts), changedTexts.map(\.contents)) {
            let previous = entries[decoded.path]
            let problems = decoded.diagnostics
            // A file with problems keeps its last good content, if it ever had one.
            next[decoded.path] =
                problems.isEmpty || previous?.effective == nil
                ? Entry(current: text, currentProblems: problems, effective: text, decoded: decoded)
                : Entry(
                    current: text, currentProblems: problems, effective: previous?.effective,
                    decoded: previous?.decoded)
        }
        let changed =
            Set(entries.keys.filter { entries[$0]?.effective != nil })
            != Set(next.keys.filter { next[$0]?.effective != nil })
            || next.contains { $0.value.effective != entries[$0.key]?.effective }
        entries = next
        var resources = ResourceSet.assemble(files.compactMap { entries[$0]?.decoded })
        let held = files.filter { entries[$0].map { $0.effective != nil && $0.effective != $0.current } ?? false }
        let notCurrent = Set(
            files.filter { entries[$0].map { $0.current == nil || $0.effective != $0.current } ?? false })
        // Problems of files not loaded as they are now are those of what is on disk, not of the
        // content in effect.
        resources.diagnostics =
            (resources.diagnostics.filter { !notCurrent.contains($0.location.file) }
            + files.filter(notCurrent.contains).flatMap { entries[$0]!.currentProblems }
            + listing.unreadableDirectories).sorted()
        // Certificate files count as changed through the snapshot they make, not here.
        let (certificateFiles, heldCertificates) = certificates.resolve(&resources, maxFileBytes: maxFileBytes)
        return Refresh(
            resources: resources, diagnostics: resources.diagnostics,
            heldBack: Array(Set(held + heldCertificates)).sorted(), changed: changed,
            certificateFiles: certificateFiles, decodedFiles: changedTexts.count)
    }
}
