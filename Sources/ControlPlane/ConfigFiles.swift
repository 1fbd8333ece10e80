import FoundationEssentials
import GatewayAPI

#if canImport(Glibc)
import Glibc
#endif

/// Finds and reads the operator's configuration files: `*.yaml`, `*.yml` and `*.json` under the
/// given paths (directories recursively, in name order, so every run sees the same order).
///
/// A file or directory that exists but cannot be read (permissions, an I/O error, invalid UTF-8,
/// too large) is a problem with a diagnostic, never the same as a deleted one: `serve` keeps its
/// last good content, `validate` fails on it. Only a name that is gone is gone.
public enum ConfigFiles {
    /// The default of `--max-file-size`, shared by `serve` and `validate` so they agree.
    public static let defaultMaxFileBytes = 16 << 20

    static let extensions: Set<String> = ["yaml", "yml", "json"]

    /// What a walk of the paths found.
    public struct Listing: Sendable {
        /// Configuration files, in load order.
        public var files: [String] = []
        /// Directories under the paths that exist but could not be listed: what was in them
        /// is unknown, not gone.
        public var unreadableDirectories: [Diagnostic] = []
    }

    /// Lists the files under `paths`. Throws when a path itself does not exist (a missing
    /// `--config` is an error, not an empty configuration).
    public static func list(_ paths: [String]) throws -> Listing {
        var listing = Listing()
        for path in paths {
            var status = stat()
            guard stat(path, &status) == 0 else {
                let reason = String(cString: strerror(errno))
                throw ControlPlaneError(
                    .unreadableConfiguration, "\(path): \(reason) (check the --config path and its permissions)")
            }
            guard status.st_mode & S_IFMT == S_IFDIR else {
                listing.files.append(path)
                continue
            }
            var found: [String] = []
            walk(path, into: &found, problems: &listing.unreadableDirectories)
            listing.files += found.sorted()
        }
        return listing
    }

    /// Whether a file named `name` in a listed directory is a configuration file by its extension.
    static func hasConfigurationExtension(_ name: some StringProtocol) -> Bool {
        guard let dot = name.lastIndex(of: ".") else { return false }
        return extensions.contains(name[name.index(after: dot)...].lowercased())
    }

    /// Every configuration file under `directory`. Hidden names anywhere in the path are skipped:
    /// editor swap files, and a ConfigMap's `..data` and `..2026_…` internals (its visible files
    /// link into them). Symbolic links to directories are not followed (no cycles).
    private static func walk(_ directory: String, into found: inout [String], problems: inout [Diagnostic]) {
        guard let handle = opendir(directory) else {
            let reason = String(cString: strerror(errno))
            if errno == ENOENT { return }  // removed while we walked: gone
            problems.append(
                Diagnostic(
                    location: SourceLocation(file: directory, line: 1, column: 1), code: .unreadable, field: "",
                    message: "cannot list the directory: \(reason); its files keep their last good content "
                        + "(check its permissions)"))
            return
        }
        defer { closedir(handle) }
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name.hasPrefix(".") { continue }
            let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
            // The entry's type comes with it on most file systems; only where it does not is a
            // stat needed (ten thousand files: a stat each was a fifth of a reload's listing).
            let isDirectory: Bool
            switch Int32(entry.pointee.d_type) {
            case Int32(DT_DIR): isDirectory = true
            case Int32(DT_UNKNOWN):
                var status = stat()
                guard lstat(path, &status) == 0 else { continue }  // gone since readdir
                isDirectory = status.st_mode & S_IFMT == S_IFDIR
            default: isDirectory = false
            }
            if isDirectory {
                walk(path, into: &found, problems: &problems)
            } else if hasConfigurationExtension(name) {
                found.append(path)
            }
        }
    }

    /// One file as read from disk.
    public enum Contents: Sendable {
        case text(String)
        /// The name no longer exists (deleted between listing and reading).
        case vanished
        /// It exists but cannot be used; the diagnostic says why and what to do.
        case problem(Diagnostic)
    }

    /// What `stat` says of a file, enough to tell that it has not changed since it was read: a
    /// write changes its change time (which no tool can set back) and usually its size, and a file
    /// replaced by a rename or a ConfigMap's link swap is another inode.
    public struct Stamp: Equatable, Sendable {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var modified: Int64
        /// The change time, in nanoseconds since the epoch.
        var changed: Int64

        init(_ status: stat) {
            device = UInt64(status.st_dev)
            inode = UInt64(status.st_ino)
            size = Int64(status.st_size)
            modified = Int64(status.st_mtim.tv_sec) * 1_000_000_000 + Int64(status.st_mtim.tv_nsec)
            changed = Int64(status.st_ctim.tv_sec) * 1_000_000_000 + Int64(status.st_ctim.tv_nsec)
        }

        /// The file's stamp now (following links, as reading does), or nil when it cannot be had.
        public static func of(_ path: String) -> Stamp? {
            var status = stat()
            return stat(path, &status) == 0 ? Stamp(status) : nil
        }

        /// Whether this stamp can stand for the content read at `readAt` (nanoseconds since the
        /// epoch, the clock file times come from). File times tick coarsely (a few milliseconds),
        /// so a second write of the same size soon after the first can leave the stamp as it was;
        /// a file changed within `window` before it was read is read again next time, as Git does
        /// with its index.
        public func settled(readAt: Int64, window: Duration) -> Bool {
            let window = window.components.seconds * 1_000_000_000 + window.components.attoseconds / 1_000_000_000
            return changed < readAt - window
        }
    }

    /// Reads one file: regular files only, at most `maxFileBytes`, valid UTF-8.
    public static func read(_ path: String, maxFileBytes: Int) -> Contents {
        readStamped(path, maxFileBytes: maxFileBytes).contents
    }

    /// `read`, with the file's stamp as it was before its bytes were read (nil unless it was read).
    public static func readStamped(_ path: String, maxFileBytes: Int) -> (contents: Contents, stamp: Stamp?) {
        func problem(_ message: String, line: Int = 1, column: Int = 1) -> (contents: Contents, stamp: Stamp?) {
            let diagnostic = Diagnostic(
                location: SourceLocation(file: path, line: line, column: column), code: .unreadable, field: "",
                message: message)
            return (.problem(diagnostic), nil)
        }
        // Non-blocking, so a FIFO that happens to be named *.yaml cannot hang the reload.
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else {
            if errno == ENOENT { return (.vanished, nil) }
            return problem("cannot read the file: \(String(cString: strerror(errno))) (check its permissions)")
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            return problem("cannot read the file: \(String(cString: strerror(errno)))")
        }
        guard status.st_mode & S_IFMT == S_IFREG else {
            return problem("not a regular file; configuration files must be regular files (or links to them)")
        }
        let size = Int(status.st_size)
        if size > maxFileBytes {
            return problem("the file is \(size) bytes; files over \(maxFileBytes) bytes are not read (--max-file-size)")
        }
        var bytes = [UInt8](repeating: 0, count: size)
        var filled = 0
        while filled < size {
            let count = bytes.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress! + filled, size - filled) }
            if count < 0 {
                if errno == EINTR { continue }
                return problem("cannot read the file: \(String(cString: strerror(errno)))")
            }
            if count == 0 { break }  // shrank while being read: what is there is what a reload sees
            filled += count
        }
        bytes.removeSubrange(filled...)
        // The standard library validates a whole buffer at once; where it fails, the slow scan
        // finds the line and column.
        if let text = String(validating: bytes, as: UTF8.self) { return (.text(text), Stamp(status)) }
        let invalid = firstInvalidUTF8(bytes) ?? (0, 1, 1)
        return problem(
            "invalid UTF-8 at byte \(invalid.offset + 1): configuration files must be UTF-8 (re-save the file as UTF-8)",
            line: invalid.line, column: invalid.column)
    }

    /// Where the first byte that is not valid UTF-8 is (column in characters), or nil when all
    /// of it is.
    static func firstInvalidUTF8(_ bytes: [UInt8]) -> (offset: Int, line: Int, column: Int)? {
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var offset = 0
        loop: while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let scalar): offset += scalar.count
            case .error: break loop
            case .emptyInput: return nil
            }
        }
        let before = bytes[..<offset]
        let lineStart = (before.lastIndex(of: UInt8(ascii: "\n")) ?? -1) + 1
        // Characters on the line so far: every byte that does not continue a sequence.
        let column = bytes[lineStart..<offset].filter { $0 & 0xC0 != 0x80 }.count + 1
        return (offset, before.count { $0 == UInt8(ascii: "\n") } + 1, column)
    }

    /// Reads and decodes every file under `paths`, as `serve` would on its first load: a file or
    /// directory that cannot be read is a diagnostic.
    public static func load(_ paths: [String], maxFileBytes: Int = defaultMaxFileBytes) throws -> ResourceSet {
        let listing = try list(paths)
        var files: [(path: String, contents: String)] = []
        var problems = listing.unreadableDirectories
        for path in listing.files {
            switch read(path, maxFileBytes: maxFileBytes) {
            case .text(let text): files.append((path, text))
            case .vanished: continue
            case .problem(let diagnostic): problems.append(diagnostic)
            }
        }
        var resources = ResourceSet.load(files)
        resources.diagnostics = (resources.diagnostics + problems).sorted()
        var certificates = CertificateFiles()
        _ = certificates.resolve(&resources, maxFileBytes: maxFileBytes)
        return resources
    }
}
