import Crypto
import FoundationEssentials
import GatewayAPI
import Glibc
import Parallel

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
        /// How many files were read: those whose stamp changed, or was too recent to trust.
        public var readFiles = 0
        /// Whether the last assembly was patched with the changed files' objects (`Assembly`)
        /// instead of every file being assembled again.
        public var patchedAssembly = false
        /// Whether the directories were listed and every file's stamp checked; false when the
        /// paths the watcher named were enough.
        public var listed = true
    }

    private struct Entry: Sendable {
        /// What is on disk now, by its SHA-256; nil when it exists but cannot be read (or its
        /// directory cannot be listed). The text itself is not kept: ten thousand files' texts
        /// were 8 MB held only to be compared.
        var current: SHA256.Digest?
        var currentProblems: [Diagnostic]
        /// What is in effect, by its SHA-256; nil for a file that was never readable.
        var effective: SHA256.Digest?
        /// `effective`, decoded: an unchanged file is not parsed again.
        var decoded: DecodedFile?
        /// The stamp `current` was read with, when it can be trusted to tell an unchanged file
        /// without reading it (see `ConfigFiles.Stamp.settled`).
        var settledStamp: ConfigFiles.Stamp? = nil
    }

    private var entries: [String: Entry] = [:]
    /// The last assembly of the effective files, and their paths in its order: a reload whose
    /// changed files keep their objects' names patches it instead of assembling every file again.
    private var assembly = Assembly()
    private var assembledPaths: [String] = []
    /// The files the last update put together, and which of them were not in effect as they are
    /// on disk (held back: with content in effect). A refresh of named files with the same files
    /// changes these only where it read, instead of looking every file up again.
    private var lastFiles: (paths: [String], set: Set<String>) = ([], [])
    private var notCurrent = Set<String>()
    private var held = Set<String>()
    /// The files the last refresh found, in load order, with the directories it could not list:
    /// a refresh told which paths changed takes the rest from here instead of listing again.
    private var listing: ConfigFiles.Listing?
    private var certificates = CertificateFiles()
    public let paths: [String]
    /// Larger files are refused (and their last good content kept), so one runaway file cannot
    /// exhaust memory.
    public let maxFileBytes: Int
    private let settleWindow: Duration
    private let clock: @Sendable () -> Int64

    /// `settleWindow` and `clock` (nanoseconds since the epoch, as file times are) decide when a
    /// file's stamp may stand for its content: see `ConfigFiles.Stamp.settled`.
    public init(
        paths: [String], maxFileBytes: Int = ConfigFiles.defaultMaxFileBytes, settleWindow: Duration = .seconds(2),
        clock: @escaping @Sendable () -> Int64 = ConfigStore.realtimeNanoseconds
    ) {
        self.paths = paths
        self.maxFileBytes = maxFileBytes
        self.settleWindow = settleWindow
        self.clock = clock
    }

    /// The real-time clock, which file times come from, in nanoseconds since the epoch.
    @Sendable public static func realtimeNanoseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
    }

    /// Reads every changed file under `paths` again. A file whose stamp (inode, size, times) is
    /// what it was when last read, and was settled then, is not read; `rereadingAll` reads every
    /// file whatever its stamp (SIGHUP: for file systems whose times cannot be trusted). Only a
    /// file whose text changed is decoded (on every core, when many changed); its problems decide
    /// whether its new content takes effect. Then every file's effective objects are assembled
    /// together, since duplicates and references span files.
    ///
    /// A file that cannot be read, and every known file under a directory that cannot be listed,
    /// keeps its last good content: unreadable is not deleted.
    ///
    /// `changed`: the paths the file watcher saw change since the last refresh (nil: unknown).
    /// When each is a known file, or a name that is gone and could never have been a
    /// configuration file (an editor's or a tool's temporary file), only those files are read,
    /// with any whose content was too recent to trust by its stamp; anything else (a new file, a
    /// directory, a link, a certificate) lists and checks every file as without it.
    public mutating func refresh(rereadingAll: Bool = false, changed: Set<String>? = nil) throws -> Refresh {
        if !rereadingAll, let changed, let known = listing, known.unreadableDirectories.isEmpty,
            let named = namedFiles(changed)
        {
            return refresh(reading: named, listed: known.files)
        }
        let listing = try ConfigFiles.list(paths)
        self.listing = listing
        let blockedDirectories = listing.unreadableDirectories.map { $0.location.file + "/" }
        let listed = Set(listing.files)
        // Entries are changed in place: at ten thousand files, moving each into a new dictionary
        // on every reload cost more than the files that changed.
        var changed = false
        var blocked: [String] = []
        for path in entries.keys.filter({ !listed.contains($0) }) {
            if blockedDirectories.contains(where: { path.hasPrefix($0) }) {
                blocked.append(path)
                entries[path]!.current = nil
                entries[path]!.currentProblems = []
                entries[path]!.settledStamp = nil
            } else if entries.removeValue(forKey: path)?.effective != nil {
                changed = true  // deleted
            }
        }
        let unchanged =
            rereadingAll ? [] : Self.unchanged(listing.files, stamps: listing.files.map { entries[$0]?.settledStamp })
        let toRead = listing.files.indices.lazy.filter { rereadingAll || !unchanged[$0] }.map { listing.files[$0] }
        return update(
            reading: toRead, files: listing.files + blocked.sorted(), unreadable: listing.unreadableDirectories,
            changed: changed, listed: true)
    }

    /// The files to read for a refresh told that `changed` changed, or nil when the directories
    /// must be listed again: a name not known before that exists now (a new file, a directory, a
    /// link swapped, a certificate), or one that is gone and could have been a configuration file.
    private func namedFiles(_ changed: Set<String>) -> [String]? {
        var named: [String] = []
        for path in changed {
            if entries[path] != nil {
                named.append(path)
                continue
            }
            var status = stat()
            guard lstat(path, &status) != 0, errno == ENOENT, !couldBeConfiguration(path) else { return nil }
        }
        // Content read too soon after it was written to trust its stamp is read again, as a full
        // refresh would: a write made before the watcher saw the file may not have been signalled.
        for (path, entry) in entries where entry.settledStamp == nil && !changed.contains(path) { named.append(path) }
        return named
    }

    /// Whether a file of this name would be listed: not hidden, with a configuration file's
    /// extension, or named as one of the paths (which are read whatever their names).
    private func couldBeConfiguration(_ path: String) -> Bool {
        let name = path.split(separator: "/").last ?? Substring(path)
        if paths.contains(where: { $0.split(separator: "/").last == name }) { return true }
        return !name.hasPrefix(".") && ConfigFiles.hasConfigurationExtension(name)
    }

    /// Reads `named` (known files), and keeps every other file of `listed` as it was.
    private mutating func refresh(reading named: [String], listed: [String]) -> Refresh {
        let refresh = update(reading: named, files: listed, unreadable: [], changed: false, listed: false)
        if named.contains(where: { entries[$0] == nil }) {
            // A file that was read and is gone leaves the listing.
            listing?.files.removeAll { entries[$0] == nil }
        }
        return refresh
    }

    /// Reads `toRead`; decodes those whose text changed; assembles the effective content of
    /// `files` (load order).
    private mutating func update(
        reading toRead: some Sequence<String>, files: [String], unreadable: [Diagnostic], changed: Bool, listed: Bool
    ) -> Refresh {
        var changed = changed
        // Which files to read had decoded content before: where none gained or lost it, a named
        // refresh of the same files leaves the assembly's files as they were.
        let hadDecoded = listed ? [] : toRead.map { entries[$0]?.decoded != nil }
        var changedTexts: [(path: String, contents: String)] = []
        var changedDigests: [SHA256.Digest] = []
        var changedStamps: [ConfigFiles.Stamp?] = []
        let toRead = Array(toRead)
        let read = toRead.count
        // Read, and hashed, on every core: one at a time, ten thousand files took 0.2 s of serve's
        // first load from the page cache, and over a second from disk.
        let (clock, settleWindow, maxFileBytes) = (clock, settleWindow, maxFileBytes)
        let reads = Parallel.map(toRead, minimumChunk: 16) { path in
            let readAt = clock()
            let (contents, stamp) = ConfigFiles.readStamped(path, maxFileBytes: maxFileBytes)
            let settledStamp = stamp.flatMap { $0.settled(readAt: readAt, window: settleWindow) ? $0 : nil }
            let digest: SHA256.Digest? = if case .text(let text) = contents { Self.digest(text) } else { nil }
            return (contents, settledStamp, digest)
        }
        for (path, (contents, settledStamp, digest)) in zip(toRead, reads) {
            switch contents {
            case .vanished:
                if entries.removeValue(forKey: path)?.effective != nil { changed = true }
            case .problem(let diagnostic):
                if entries[path] == nil {
                    entries[path] = Entry(current: nil, currentProblems: [diagnostic], effective: nil, decoded: nil)
                } else {
                    entries[path]!.current = nil
                    entries[path]!.currentProblems = [diagnostic]
                    entries[path]!.settledStamp = nil
                }
            case .text(let text):
                let digest = digest!
                if entries[path]?.current == digest {
                    entries[path]!.settledStamp = settledStamp
                } else {
                    changedTexts.append((path, text))
                    changedDigests.append(digest)
                    changedStamps.append(settledStamp)
                }
            }
        }
        var replaced: [String] = []
        for (index, var decoded) in DecodedFile.decodeAll(changedTexts).enumerated() {
            let digest = changedDigests[index]
            var entry =
                entries.removeValue(forKey: decoded.path)
                ?? Entry(current: nil, currentProblems: [], effective: nil, decoded: nil)
            if let earlier = entry.decoded { decoded.share(with: earlier) }
            let previous = entry.effective
            entry.current = digest
            entry.currentProblems = decoded.diagnostics
            entry.settledStamp = changedStamps[index]
            // A file with problems keeps its last good content, if it ever had one.
            if entry.currentProblems.isEmpty || previous == nil { (entry.effective, entry.decoded) = (digest, decoded) }
            if entry.effective != previous {
                changed = true
                replaced.append(decoded.path)
            }
            entries[decoded.path] = entry
        }
        // A listed refresh may have changed files it does not read (a directory that cannot be
        // listed): it looks at every file.
        let sameFiles =
            !listed && files == lastFiles.paths
            && zip(toRead, hadDecoded).allSatisfy { (entries[$0]?.decoded != nil) == $1 }
        var patched: Bool
        var decodedFiles: [DecodedFile]?
        if sameFiles {
            for path in Set(toRead) where lastFiles.set.contains(path) {
                notCurrent.remove(path)
                held.remove(path)
                _ = noteEffect(of: path)
            }
            // After every update the assembly's files are those with decoded content, in order.
            patched = true
        } else {
            notCurrent = []
            held = []
            var decoded: [DecodedFile] = []
            decoded.reserveCapacity(files.count)
            for path in files {
                if let file = noteEffect(of: path) { decoded.append(file) }
            }
            patched = decoded.map(\.path) == assembledPaths
            decodedFiles = decoded
            lastFiles = (files, Set(files))
        }
        for path in replaced where patched {
            patched = entries[path]?.decoded.map { assembly.replace($0) } ?? false
        }
        if !patched {
            let decodedFiles = decodedFiles ?? files.compactMap { entries[$0]?.decoded }
            assembly = Assembly(decodedFiles)
            assembledPaths = decodedFiles.map(\.path)
        }
        var resources = assembly.resources
        // Problems of files not loaded as they are now are those of what is on disk, not of the
        // content in effect.
        resources.diagnostics =
            (resources.diagnostics.filter { !notCurrent.contains($0.location.file) }
            + (notCurrent.isEmpty ? [] : files.filter(notCurrent.contains).flatMap { entries[$0]!.currentProblems })
            + unreadable).sorted()
        // Certificate files count as changed through the snapshot they make, not here.
        let (certificateFiles, heldCertificates) = certificates.resolve(&resources, maxFileBytes: maxFileBytes)
        return Refresh(
            resources: resources, diagnostics: resources.diagnostics,
            heldBack: Array(held.union(heldCertificates)).sorted(), changed: changed,
            certificateFiles: certificateFiles, decodedFiles: changedTexts.count, readFiles: read,
            patchedAssembly: patched, listed: listed)
    }

    /// Puts `path` in `notCurrent` (and `held`, when it has content in effect) when what is in
    /// effect is not what is on disk now; returns its decoded content in effect. A file of
    /// `files` that has no entry is neither, and has none.
    private mutating func noteEffect(of path: String) -> DecodedFile? {
        guard let index = entries.index(forKey: path) else { return nil }
        let current = entries.values[index].current
        let effective = entries.values[index].effective
        if current == nil || effective != current {
            notCurrent.insert(path)
            if effective != nil { held.insert(path) }
        }
        return entries.values[index].decoded
    }

    /// Whether each file still has the stamp it was read with (false where none was settled),
    /// on every core when there are many: one `stat` a file was a third of the refresh at ten
    /// thousand files.
    static func unchanged(_ paths: [String], stamps: [ConfigFiles.Stamp?]) -> [Bool] {
        Parallel.map(Array(zip(paths, stamps)), minimumChunk: 256) {
            (file: (path: String, stamp: ConfigFiles.Stamp?)) in
            file.stamp != nil && ConfigFiles.Stamp.of(file.path) == file.stamp
        }
    }

    private static func digest(_ text: String) -> SHA256.Digest {
        var text = text
        return text.withUTF8 { SHA256.hash(data: UnsafeRawBufferPointer($0)) }
    }
}
