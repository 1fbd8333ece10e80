import ControlPlane
import Foundation
import GatewayAPI
import Synchronization
import Testing
import XDSTesting

@Suite("Last-known-good configuration files")
struct ConfigStoreTests {
    static let route = """
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: site}
        spec:
          parentRefs: [{name: eg}]
          rules: [{matches: [{path: {value: /v1}}]}]
        """

    @Test(
        "a file that stops loading keeps its last good content in effect and reports the new problems; fixing it applies; deleting it removes its resources"
    )
    func lastKnownGood() throws {
        let directory = try SwitchboardCommand.temporaryDirectory("store")
        let file = directory.appendingPathComponent("route.yaml")
        try Self.route.write(to: file, atomically: true, encoding: .utf8)
        var store = ConfigStore(paths: [directory.path])

        let first = try store.refresh()
        #expect(first.changed)
        #expect(first.resources.httpRoutes.map(\.rules[0].matches[0].path.value) == ["/v1"])

        #expect(try store.refresh().changed == false, "nothing changed on disk")

        try "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: site\n".write(
            to: file, atomically: true, encoding: .utf8)
        let broken = try store.refresh()
        #expect(broken.changed == false, "the effective content did not change")
        #expect(broken.heldBack == [file.path])
        #expect(
            broken.resources.httpRoutes.map(\.rules[0].matches[0].path.value) == ["/v1"], "the last good route stays")
        #expect(broken.diagnostics.contains { $0.location.file == file.path && $0.message.hasPrefix("YAML") })

        try Self.route.replacingOccurrences(of: "/v1", with: "/v2").write(to: file, atomically: true, encoding: .utf8)
        let fixed = try store.refresh()
        #expect(fixed.changed)
        #expect(fixed.heldBack.isEmpty)
        #expect(fixed.resources.httpRoutes.map(\.rules[0].matches[0].path.value) == ["/v2"])

        try FileManager.default.removeItem(at: file)
        let deleted = try store.refresh()
        #expect(deleted.changed)
        #expect(deleted.resources.httpRoutes.isEmpty)
    }

    @Test(
        "told which paths changed, a refresh reads only those known files; a new file, a link, a directory or a gone configuration name lists everything"
    )
    func namedPaths() throws {
        let directory = try SwitchboardCommand.temporaryDirectory("named")
        defer { try? FileManager.default.removeItem(at: directory) }
        for index in 0..<5 { try Self.writeRoute(index, "/r\(index)", in: directory) }
        let path = { (name: String) in directory.appendingPathComponent(name).path }
        var store = ConfigStore(paths: [directory.path], settleWindow: .zero)
        #expect(try store.refresh().readFiles == 5)
        func paths(_ refresh: ConfigStore.Refresh) -> [String] {
            refresh.resources.httpRoutes.map(\.rules[0].matches[0].path.value).sorted()
        }

        // An edit, with the editor's temporary file already renamed away.
        try Self.writeRoute(1, "/edited", in: directory)
        let edited = try store.refresh(changed: [path("route-1.yaml"), path(".route-1.yaml.swp"), path("route-1.tmp")])
        #expect(!edited.listed && edited.readFiles == 1 && edited.decodedFiles == 1)
        #expect(paths(edited) == ["/edited", "/r0", "/r2", "/r3", "/r4"])

        // A deleted file goes, and stays gone on the next named refresh.
        try FileManager.default.removeItem(atPath: path("route-2.yaml"))
        let deleted = try store.refresh(changed: [path("route-2.yaml")])
        #expect(!deleted.listed && deleted.changed)
        #expect(paths(deleted) == ["/edited", "/r0", "/r3", "/r4"])
        try Self.writeRoute(3, "/again", in: directory)
        #expect(try paths(store.refresh(changed: [path("route-3.yaml")])) == ["/again", "/edited", "/r0", "/r4"])

        // A new file is not known: everything is listed, and it loads.
        try Self.writeRoute(7, "/new", in: directory)
        let added = try store.refresh(changed: [path("route-7.yaml")])
        #expect(added.listed)
        #expect(paths(added) == ["/again", "/edited", "/new", "/r0", "/r4"])

        // A link (a ConfigMap's ..data swapped), a directory, or a gone name that could have
        // been a configuration file (the watcher's form of a known name may differ): listed.
        try FileManager.default.createSymbolicLink(atPath: path("..data"), withDestinationPath: "route-0.yaml")
        try FileManager.default.createDirectory(atPath: path("sub"), withIntermediateDirectories: false)
        for named in [path("..data"), path("sub"), path("gone.yaml"), directory.path + "/./route-0.yaml.gone.yml"] {
            #expect(try store.refresh(changed: [named]).listed, "\(named)")
        }
        #expect(try store.refresh(changed: []).readFiles == 0, "nothing named, nothing read")

        // Content read too soon after it was written to trust its stamp is read again, named or not.
        var fresh = ConfigStore(paths: [directory.path], settleWindow: .seconds(3600))
        _ = try fresh.refresh()
        try Self.writeRoute(0, "/unnamed", in: directory)
        let unnamed = try fresh.refresh(changed: [])
        #expect(!unnamed.listed && unnamed.readFiles == 5)
        #expect(paths(unnamed).contains("/unnamed"))

        // SIGHUP reads every file whatever was named.
        #expect(try store.refresh(rereadingAll: true, changed: [path("route-0.yaml")]).readFiles == 5)
    }

    /// `route-<index>.yaml`: route `site-<index>`, matching `path`.
    static func writeRoute(_ index: Int, _ path: String, in directory: URL) throws {
        try route.replacingOccurrences(of: "name: site", with: "name: site-\(index)")
            .replacingOccurrences(of: "/v1", with: path)
            .write(to: directory.appendingPathComponent("route-\(index).yaml"), atomically: true, encoding: .utf8)
    }

    @Test(
        "a reload decodes only the files whose text changed, and assembles the same resources and problems as a load of every file"
    )
    func decodesOnlyChangedFiles() throws {
        let directory = try SwitchboardCommand.temporaryDirectory("store")
        defer { try? FileManager.default.removeItem(at: directory) }
        func write(_ index: Int, _ path: String) throws { try Self.writeRoute(index, path, in: directory) }
        for index in 0..<5 { try write(index, "/v1") }
        // A duplicate of route 1, in a later file: a problem there, whichever file changes.
        try Self.route.replacingOccurrences(of: "name: site", with: "name: site-1").write(
            to: directory.appendingPathComponent("route-9.yaml"), atomically: true, encoding: .utf8)
        var store = ConfigStore(paths: [directory.path])
        let first = try store.refresh()
        #expect(first.decodedFiles == 6)
        #expect(try store.refresh().decodedFiles == 0)

        try write(3, "/v3")
        let edited = try store.refresh()
        #expect(edited.decodedFiles == 1)
        #expect(edited.changed)
        let full = try ConfigFiles.load([directory.path])
        #expect(edited.resources.httpRoutes == full.httpRoutes)
        #expect(
            edited.resources.httpRoutes.map(\.rules[0].matches[0].path.value) == ["/v1", "/v1", "/v1", "/v3", "/v1"])
        #expect(edited.diagnostics == full.diagnostics)
        #expect(edited.diagnostics.map(\.code) == [.duplicateName])
    }

    @Test(
        "a file whose stamp is unchanged and settled is not read again; any write, a rename over it or a link swap is seen; SIGHUP's reload reads all"
    )
    func unchangedStampsAreNotRead() throws {
        let directory = try SwitchboardCommand.temporaryDirectory("store")
        defer { try? FileManager.default.removeItem(at: directory) }
        let manager = FileManager.default
        func route(_ index: Int, _ path: String) -> String {
            Self.route.replacingOccurrences(of: "name: site", with: "name: site-\(index)")
                .replacingOccurrences(of: "/v1", with: path)
        }
        for index in 0..<3 {
            try route(index, "/v1").write(
                to: directory.appendingPathComponent("route-\(index).yaml"), atomically: true, encoding: .utf8)
        }
        // A ConfigMap-style file: a link through ..data into a versioned folder.
        let version = directory.appendingPathComponent("..2026_01")
        try manager.createDirectory(at: version, withIntermediateDirectories: true)
        try route(9, "/old").write(to: version.appendingPathComponent("linked.yaml"), atomically: true, encoding: .utf8)
        try manager.createSymbolicLink(
            atPath: directory.appendingPathComponent("..data").path, withDestinationPath: "..2026_01")
        try manager.createSymbolicLink(
            atPath: directory.appendingPathComponent("linked.yaml").path, withDestinationPath: "..data/linked.yaml")
        // The clock reads an hour ahead: every file read has settled.
        let offset = Mutex<Int64>(3600 * 1_000_000_000)
        var store = ConfigStore(paths: [directory.path]) {
            ConfigStore.realtimeNanoseconds() + offset.withLock { $0 }
        }
        func paths(_ refresh: ConfigStore.Refresh) -> [String] {
            refresh.resources.httpRoutes.sorted { $0.name < $1.name }.map(\.rules[0].matches[0].path.value)
        }
        #expect(try store.refresh().readFiles == 4)
        let quiet = try store.refresh()
        #expect(quiet.readFiles == 0, "no file changed")
        #expect(paths(quiet) == ["/v1", "/v1", "/v1", "/old"])

        // Written in place, same size, its modification time put back: only the change time moved.
        let file = directory.appendingPathComponent("route-1.yaml")
        var before = stat()
        #expect(stat(file.path, &before) == 0)
        let handle = try FileHandle(forWritingTo: file)
        try handle.write(contentsOf: Data(route(1, "/v2").utf8))
        try handle.close()
        let times = [before.st_atim, before.st_mtim]
        #expect(utimensat(AT_FDCWD, file.path, times, 0) == 0)
        var after = stat()
        #expect(stat(file.path, &after) == 0)
        #expect(
            after.st_mtim.tv_sec == before.st_mtim.tv_sec && after.st_mtim.tv_nsec == before.st_mtim.tv_nsec
                && after.st_size == before.st_size && after.st_ino == before.st_ino)
        let inPlace = try store.refresh()
        #expect(inPlace.readFiles == 1)
        #expect(paths(inPlace) == ["/v1", "/v2", "/v1", "/old"])

        // Renamed over, as editors save; and the link swapped to a new version, as the kubelet does.
        try route(2, "/v3").write(
            to: directory.appendingPathComponent("route-2.yaml"), atomically: true, encoding: .utf8)
        let next = directory.appendingPathComponent("..2026_02")
        try manager.createDirectory(at: next, withIntermediateDirectories: true)
        try route(9, "/new").write(to: next.appendingPathComponent("linked.yaml"), atomically: true, encoding: .utf8)
        try manager.removeItem(atPath: directory.appendingPathComponent("..data").path)
        try manager.createSymbolicLink(
            atPath: directory.appendingPathComponent("..data").path, withDestinationPath: "..2026_02")
        let replaced = try store.refresh()
        #expect(replaced.readFiles == 2)
        #expect(paths(replaced) == ["/v1", "/v2", "/v3", "/new"])

        let all = try store.refresh(rereadingAll: true)
        #expect(all.readFiles == 4)
        #expect(all.decodedFiles == 0)
        #expect(all.changed == false)

        // With the true time, a file changed just now is read on every refresh until it is
        // older than the window: two writes of the same size within one tick of the file clock
        // would leave the same stamp.
        offset.withLock { $0 = 0 }
        try route(0, "/v4").write(
            to: directory.appendingPathComponent("route-0.yaml"), atomically: true, encoding: .utf8)
        #expect(try store.refresh().readFiles == 1)
        #expect(try store.refresh().readFiles == 1, "a file changed within the window is read again")
        offset.withLock { $0 = 3600 * 1_000_000_000 }
        #expect(try store.refresh().readFiles == 1, "read once more, now settled")
        #expect(try store.refresh().readFiles == 0)
    }

    @Test(
        "a file saved with one object changed leaves the others' arrays as they were: the last translation shares them")
    func unchangedObjectsKeepTheirStorage() throws {
        let directory = try SwitchboardCommand.temporaryDirectory("shared")
        defer { try? FileManager.default.removeItem(at: directory) }
        let backend = """
            apiVersion: gateway.envoyproxy.io/v1alpha1
            kind: Backend
            metadata: {name: b}
            spec: {endpoints: [{ip: {address: 10.0.0.1, port: 80}}]}
            """
        let file = directory.appendingPathComponent("site.yaml")
        for (index, name) in ["other", "site"].enumerated() {
            try
                (Self.route.replacingOccurrences(of: "name: site", with: "name: \(name)") + "\n---\n"
                + backend.replacingOccurrences(of: "name: b", with: "name: b\(index)"))
                .write(to: directory.appendingPathComponent("\(name).yaml"), atomically: true, encoding: .utf8)
        }
        var store = ConfigStore(paths: [directory.path], settleWindow: .zero)
        let first = try store.refresh()
        let text = try String(contentsOf: file, encoding: .utf8)
        try text.replacingOccurrences(of: "/v1", with: "/v2").write(to: file, atomically: true, encoding: .utf8)
        let edited = try store.refresh(changed: [file.path])
        #expect(edited.patchedAssembly)
        #expect(edited.resources.httpRoutes.map(\.rules[0].matches[0].path.value).sorted() == ["/v1", "/v2"])
        let storage = { (backends: [Backend]) in backends.withUnsafeBufferPointer { $0.baseAddress } }
        #expect(storage(edited.resources.backends) == storage(first.resources.backends))
        #expect(edited.resources.backends == first.resources.backends)
    }

    @Test("with many files, stamps are checked on every core: only the changed file is read again")
    func manyFilesStamps() throws {
        let directory = try SwitchboardCommand.temporaryDirectory("store")
        defer { try? FileManager.default.removeItem(at: directory) }
        func write(_ index: Int, _ path: String) throws { try Self.writeRoute(index, path, in: directory) }
        for index in 0..<700 { try write(index, "/v1") }
        // The clock reads an hour ahead: every file read has settled.
        var store = ConfigStore(paths: [directory.path]) { ConfigStore.realtimeNanoseconds() + 3600 * 1_000_000_000 }
        #expect(try store.refresh().readFiles == 700)
        #expect(try store.refresh().readFiles == 0)
        try write(613, "/v613")
        let edited = try store.refresh()
        #expect(edited.readFiles == 1)
        #expect(edited.resources.httpRoutes.contains { $0.rules[0].matches[0].path.value == "/v613" })
    }

    @Test("a field error also holds the file back; a new file with problems contributes what of it is valid")
    func fieldErrorsAndNewFiles() throws {
        let directory = try SwitchboardCommand.temporaryDirectory("store")
        let file = directory.appendingPathComponent("route.yaml")
        try Self.route.write(to: file, atomically: true, encoding: .utf8)
        var store = ConfigStore(paths: [directory.path])
        _ = try store.refresh()
        try Self.route.replacingOccurrences(of: "rules:", with: "rulez:").write(
            to: file, atomically: true, encoding: .utf8)
        let held = try store.refresh()
        #expect(held.heldBack == [file.path])
        #expect(held.resources.httpRoutes.count == 1)
        #expect(held.diagnostics.contains { $0.message.contains("did you mean \"rules\"") })

        let other = directory.appendingPathComponent("new.yaml")
        try (Self.route.replacingOccurrences(of: "name: site", with: "name: other") + "\n---\nkind: Nope\n")
            .write(to: other, atomically: true, encoding: .utf8)
        let added = try store.refresh()
        #expect(added.resources.httpRoutes.map(\.name).sorted() == ["other", "site"])
        #expect(added.heldBack == [file.path])
    }

    @Test(
        "told which files changed, a refresh keeps what it knew of the others: a held-back file stays held back, with its problems, until it is fixed"
    )
    func namedRefreshesKeepHeldBackFiles() throws {
        let directory = try SwitchboardCommand.temporaryDirectory("store")
        defer { try? FileManager.default.removeItem(at: directory) }
        let files = (0..<3).map { directory.appendingPathComponent("route-\($0).yaml") }
        func write(_ index: Int, _ text: String) throws {
            try text.replacingOccurrences(of: "name: site", with: "name: site-\(index)")
                .write(to: files[index], atomically: true, encoding: .utf8)
        }
        for index in files.indices { try write(index, Self.route) }
        // Every stamp settled at once: a file is read because it is named.
        var store = ConfigStore(paths: [directory.path], settleWindow: .zero)
        _ = try store.refresh()

        try write(0, Self.route.replacingOccurrences(of: "rules:", with: "rulez:"))
        let broken = try store.refresh(changed: [files[0].path])
        #expect(!broken.listed)
        #expect(broken.heldBack == [files[0].path])

        // Another file's edit reads that file alone; the first is still held back.
        try write(1, Self.route.replacingOccurrences(of: "/v1", with: "/v2"))
        let other = try store.refresh(changed: [files[1].path])
        #expect(!other.listed && other.readFiles == 1)
        #expect(other.changed)
        #expect(other.heldBack == [files[0].path])
        #expect(other.diagnostics.contains { $0.location.file == files[0].path && $0.message.contains("rules") })
        #expect(other.resources.httpRoutes.count == 3, "the held-back file's last good route stays")

        // A second file goes bad, then the first is fixed: each is held back while, and only while, it is bad.
        try write(2, "kind: HTTPRoute\nmetadata: {name: site\n")
        #expect(try store.refresh(changed: [files[2].path]).heldBack == [files[0].path, files[2].path])
        try write(0, Self.route)
        let fixed = try store.refresh(changed: [files[0].path])
        #expect(fixed.heldBack == [files[2].path])
        #expect(!fixed.diagnostics.contains { $0.location.file == files[0].path })
        #expect(fixed.diagnostics.contains { $0.location.file == files[2].path })
        try write(2, Self.route)
        let clean = try store.refresh(changed: [files[2].path])
        #expect(clean.heldBack.isEmpty && clean.diagnostics.isEmpty)
        #expect(clean.resources.httpRoutes.count == 3)
    }

    @Test("a file over the size limit is not read; its last good content stays, with a diagnostic naming the limit")
    func sizeLimit() throws {
        let directory = try SwitchboardCommand.temporaryDirectory("store")
        let file = directory.appendingPathComponent("route.yaml")
        try Self.route.write(to: file, atomically: true, encoding: .utf8)
        var store = ConfigStore(paths: [directory.path], maxFileBytes: 1000)
        #expect(try store.refresh().resources.httpRoutes.count == 1)
        try (Self.route + "\n" + String(repeating: "# padding\n", count: 200)).write(
            to: file, atomically: true, encoding: .utf8)
        let refresh = try store.refresh()
        #expect(refresh.resources.httpRoutes.count == 1)
        #expect(refresh.heldBack == [file.path])
        #expect(refresh.diagnostics.contains { $0.message.contains("files over 1000 bytes are not read") })
    }

    @Test("a file that exists but cannot be read keeps its last good content, with a diagnostic; it is not a deletion")
    func unreadableFile() throws {
        let directory = try SwitchboardCommand.temporaryDirectory("store")
        let file = directory.appendingPathComponent("route.yaml")
        try Self.route.write(to: file, atomically: true, encoding: .utf8)
        var store = ConfigStore(paths: [directory.path])
        #expect(try store.refresh().resources.httpRoutes.count == 1)

        // Root reads any file whatever its mode, so the test puts a FIFO in the file's place: it
        // exists and is not a regular file to read. (The end-to-end test runs serve as a
        // non-root user and uses chmod 000.)
        try FileManager.default.removeItem(at: file)
        #expect(mkfifo(file.path, 0o644) == 0)
        let refresh = try store.refresh()
        #expect(refresh.resources.httpRoutes.count == 1, "an unreadable file's routes must stay")
        #expect(refresh.heldBack == [file.path])
        #expect(refresh.changed == false)
        #expect(
            refresh.diagnostics.map(\.description) == [
                "\(file.path):1:1: not a regular file; configuration files must be regular files (or links to them)"
            ])

        try FileManager.default.removeItem(at: file)
        #expect(try store.refresh().resources.httpRoutes.isEmpty, "a deleted file's routes go")
    }

    @Test("without root: a file or directory with mode 000 keeps its last good content", .enabled(if: geteuid() != 0))
    func permissions() throws {
        let directory = try SwitchboardCommand.temporaryDirectory("store")
        let sub = directory.appendingPathComponent("sub")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        let file = directory.appendingPathComponent("route.yaml")
        try Self.route.write(to: file, atomically: true, encoding: .utf8)
        try Self.route.replacingOccurrences(of: "name: site", with: "name: other")
            .write(to: sub.appendingPathComponent("other.yaml"), atomically: true, encoding: .utf8)
        var store = ConfigStore(paths: [directory.path])
        #expect(try store.refresh().resources.httpRoutes.count == 2)
        #expect(chmod(file.path, 0) == 0 && chmod(sub.path, 0) == 0)
        defer { _ = chmod(sub.path, 0o755) }
        let refresh = try store.refresh()
        #expect(refresh.resources.httpRoutes.count == 2)
        #expect(refresh.diagnostics.contains { $0.message.hasPrefix("cannot read the file: Permission denied") })
        #expect(refresh.diagnostics.contains { $0.message.hasPrefix("cannot list the directory: Permission denied") })
    }

    @Test("invalid UTF-8 is refused with its line and column, never decoded into U+FFFD; the last good content stays")
    func invalidUTF8() throws {
        let directory = try SwitchboardCommand.temporaryDirectory("store")
        let file = directory.appendingPathComponent("route.yaml")
        try Self.route.write(to: file, atomically: true, encoding: .utf8)
        var store = ConfigStore(paths: [directory.path])
        #expect(try store.refresh().resources.httpRoutes.count == 1)
        var bytes = Array(Self.route.replacingOccurrences(of: "{value: /v1}", with: "{value: /v2}").utf8)
        let at = bytes.lastIndex(of: UInt8(ascii: "2"))!
        bytes[at] = 0xFF
        try Data(bytes).write(to: file)
        let refresh = try store.refresh()
        #expect(refresh.resources.httpRoutes.map(\.rules[0].matches[0].path.value) == ["/v1"])
        let diagnostic = try #require(refresh.diagnostics.first)
        #expect(diagnostic.location.line == 6)
        #expect(diagnostic.message.hasPrefix("invalid UTF-8 at byte \(at + 1)"), "\(diagnostic)")
    }

    @Test("a ConfigMap-style directory loads each file once, through its symlinks, and follows a ..data swap")
    func configMapLayout() throws {
        let directory = try SwitchboardCommand.temporaryDirectory("configmap")
        let manager = FileManager.default
        func version(_ name: String, path: String) throws {
            let folder = directory.appendingPathComponent(name)
            try manager.createDirectory(at: folder, withIntermediateDirectories: true)
            try Self.route.replacingOccurrences(of: "/v1", with: path)
                .write(to: folder.appendingPathComponent("route.yaml"), atomically: true, encoding: .utf8)
        }
        try version("..2026_01", path: "/v1")
        try manager.createSymbolicLink(
            atPath: directory.appendingPathComponent("..data").path, withDestinationPath: "..2026_01")
        try manager.createSymbolicLink(
            atPath: directory.appendingPathComponent("route.yaml").path, withDestinationPath: "..data/route.yaml")
        var store = ConfigStore(paths: [directory.path])
        let first = try store.refresh()
        #expect(first.diagnostics.isEmpty, "\(first.diagnostics)")
        #expect(first.resources.httpRoutes.map(\.rules[0].matches[0].path.value) == ["/v1"])

        try version("..2026_02", path: "/v2")
        try manager.createSymbolicLink(
            atPath: directory.appendingPathComponent("..data_tmp").path, withDestinationPath: "..2026_02")
        #expect(
            rename(directory.appendingPathComponent("..data_tmp").path, directory.appendingPathComponent("..data").path)
                == 0)
        let swapped = try store.refresh()
        #expect(swapped.changed)
        #expect(swapped.resources.httpRoutes.map(\.rules[0].matches[0].path.value) == ["/v2"])
    }
}

/// A reload that puts the changed files' objects in the places of their old ones (`Assembly`)
/// must give what assembling every file again gives, whatever the edit.
@Suite("Patched assembly")
struct PatchedAssemblyTests {
    /// One object of a file, as the test writes it.
    struct Object {
        var kind: String
        var name: String
        var value: Int
        var yaml: String {
            switch kind {
            case "HTTPRoute":
                """
                apiVersion: gateway.networking.k8s.io/v1
                kind: HTTPRoute
                metadata: {name: \(name), labels: {v: "\(value)"}}
                spec:
                  parentRefs: [{name: eg}]
                  rules: [{matches: [{path: {value: /p\(value)}}], backendRefs: [{name: b, port: \(8000 + value)}]}]
                """
            case "Backend":
                """
                apiVersion: gateway.envoyproxy.io/v1alpha1
                kind: Backend
                metadata: {name: \(name)}
                spec:
                  endpoints: [{ip: {address: 10.0.0.\(value % 250 + 1), port: \(8000 + value)}}]
                """
            default:
                """
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: \(name)}
                data: {key\(value): value}
                """
            }
        }
    }

    /// Every part of the set, for comparing: the kinds kept in arrays and by name, the labels and
    /// creation times, the problems.
    static func same(_ a: ResourceSet, _ b: ResourceSet) -> Bool {
        let routes = a.httpRoutes == b.httpRoutes && a.grpcRoutes == b.grpcRoutes && a.layer4Routes == b.layer4Routes
        let gateways = a.gatewayClasses == b.gatewayClasses && a.gateways == b.gateways
        let backends = a.backends == b.backends && a.services == b.services && a.endpointSlices == b.endpointSlices
        let policies =
            a.referenceGrants == b.referenceGrants && a.backendTrafficPolicies == b.backendTrafficPolicies
            && a.backendTLSPolicies == b.backendTLSPolicies
        let named =
            a.namespaces == b.namespaces && a.secrets == b.secrets && a.configMapKeys == b.configMapKeys
            && a.configMapData == b.configMapData && a.clusterTrustBundles == b.clusterTrustBundles
        func metadata(_ set: ResourceSet) -> [String: String] {
            set.metadata.mapValues { value in
                let labels = value.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                return labels.joined(separator: ",") + "|" + value.creationTimestamp
            }
        }
        return routes && gateways && backends && policies && named && a.diagnostics == b.diagnostics
            && metadata(a) == metadata(b)
    }

    @Test(
        "200 random edits (values, renames, kinds, objects added, removed and reordered, duplicates, files added and deleted): each reload equals a full load",
        arguments: [false, true]
    )
    /// `named`: each refresh is told the paths written, with an editor's temporary file that is
    /// gone, as the watcher tells `serve`'s; only those files are read where that is enough.
    func randomEdits(named: Bool) throws {
        let directory = try SwitchboardCommand.temporaryDirectory("assembly")
        defer { try? FileManager.default.removeItem(at: directory) }
        var random = SplitMix64(seed: 15)
        let kinds = ["HTTPRoute", "HTTPRoute", "Backend", "ConfigMap"]
        var files: [String: [Object]] = [:]
        func write(_ name: String) throws {
            let url = directory.appendingPathComponent(name)
            guard let objects = files[name] else { return try FileManager.default.removeItem(at: url) }
            try objects.map(\.yaml).joined(separator: "\n---\n").write(to: url, atomically: true, encoding: .utf8)
        }
        func object() -> Object {
            Object(
                kind: kinds.randomElement(using: &random)!, name: "o\(Int.random(in: 0..<1000, using: &random))",
                value: Int.random(in: 0..<1000, using: &random))
        }
        for index in 0..<12 {
            files["f\(index).yaml"] = [object(), object()]
            try write("f\(index).yaml")
        }
        // Every stamp settled at once: a file is read because it is named, not because it is new.
        var store = ConfigStore(paths: [directory.path], settleWindow: named ? .zero : .seconds(2))
        _ = try store.refresh()
        var patched = 0
        var duplicated = 0
        var unlisted = 0
        for step in 0..<200 {
            var written: Set<String> = [directory.appendingPathComponent(".f\(step).yaml.swp").path]
            let name = files.keys.sorted().randomElement(using: &random)!
            var objects = files[name]!
            switch Int.random(in: 0..<10, using: &random) {
            case 0...4:  // a value: the common edit
                let index = Int.random(in: objects.indices, using: &random)
                objects[index].value = Int.random(in: 0..<1000, using: &random)
            case 5:
                // A new name, or one another object has: a duplicate, until renamed again.
                let taken = files.keys.sorted().flatMap { files[$0]! }.map(\.name).randomElement(using: &random)!
                objects[Int.random(in: objects.indices, using: &random)].name =
                    Bool.random(using: &random) ? taken : object().name
            case 6: objects[Int.random(in: objects.indices, using: &random)].kind = object().kind
            case 7:
                if objects.count > 1 { objects.removeLast() } else { objects.append(object()) }
            case 8: objects.reverse()
            default:
                // A file deleted, or a new one.
                if files.count > 4 && Bool.random(using: &random) {
                    files[name] = nil
                    try write(name)
                    written.insert(directory.appendingPathComponent(name).path)
                    objects = []
                } else {
                    let new = "f\(12 + step).yaml"
                    files[new] = [object()]
                    try write(new)
                    written.insert(directory.appendingPathComponent(new).path)
                }
            }
            if !objects.isEmpty {
                files[name] = objects
                try write(name)
                written.insert(directory.appendingPathComponent(name).path)
            }
            let refresh = try store.refresh(changed: named ? written : nil)
            if !refresh.listed {
                unlisted += 1
                #expect(refresh.readFiles == written.count - 1, "step \(step): only the named files are read")
            }
            let full = try ConfigFiles.load([directory.path])
            // A Bool, not the sets: a failure prints the step, not two whole sets.
            let same = Self.same(refresh.resources, full)
            #expect(same, "step \(step)")
            #expect(refresh.diagnostics == full.diagnostics, "step \(step)")
            if refresh.patchedAssembly { patched += 1 }
            if refresh.diagnostics.contains(where: { $0.code == .duplicateName }) { duplicated += 1 }
        }
        // Half the edits keep names and kinds: those patch, unless a duplicate name anywhere stops it.
        #expect(patched > 40, "patched \(patched) of 200")
        #expect(duplicated > 10, "duplicates in \(duplicated) of 200")
        // Nine edits in ten change known files (or delete one): those are read alone.
        #expect(named ? unlisted > 150 : unlisted == 0, "\(unlisted) of 200 refreshes did not list")
    }
}
