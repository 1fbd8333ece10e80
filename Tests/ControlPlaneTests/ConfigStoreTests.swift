import ControlPlane
import Foundation
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

    @Test("a file that stops loading keeps its last good content in effect and reports the new problems; fixing it applies; deleting it removes its resources")
    func lastKnownGood() throws {
        let directory = try SwitchboardCommand.temporaryDirectory("store")
        let file = directory.appendingPathComponent("route.yaml")
        try Self.route.write(to: file, atomically: true, encoding: .utf8)
        var store = ConfigStore(paths: [directory.path])

        let first = try store.refresh()
        #expect(first.changed)
        #expect(first.resources.httpRoutes.map(\.rules[0].matches[0].path.value) == ["/v1"])

        #expect(try store.refresh().changed == false, "nothing changed on disk")

        try "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: site\n".write(to: file, atomically: true, encoding: .utf8)
        let broken = try store.refresh()
        #expect(broken.changed == false, "the effective content did not change")
        #expect(broken.heldBack == [file.path])
        #expect(broken.resources.httpRoutes.map(\.rules[0].matches[0].path.value) == ["/v1"], "the last good route stays")
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

    @Test("a field error also holds the file back; a new file with problems contributes what of it is valid")
    func fieldErrorsAndNewFiles() throws {
        let directory = try SwitchboardCommand.temporaryDirectory("store")
        let file = directory.appendingPathComponent("route.yaml")
        try Self.route.write(to: file, atomically: true, encoding: .utf8)
        var store = ConfigStore(paths: [directory.path])
        _ = try store.refresh()
        try Self.route.replacingOccurrences(of: "rules:", with: "rulez:").write(to: file, atomically: true, encoding: .utf8)
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

    @Test("a file over the size limit is not read; its last good content stays, with a diagnostic naming the limit")
    func sizeLimit() throws {
        let directory = try SwitchboardCommand.temporaryDirectory("store")
        let file = directory.appendingPathComponent("route.yaml")
        try Self.route.write(to: file, atomically: true, encoding: .utf8)
        var store = ConfigStore(paths: [directory.path], maxFileBytes: 1000)
        #expect(try store.refresh().resources.httpRoutes.count == 1)
        try (Self.route + "\n" + String(repeating: "# padding\n", count: 200)).write(to: file, atomically: true, encoding: .utf8)
        let refresh = try store.refresh()
        #expect(refresh.resources.httpRoutes.count == 1)
        #expect(refresh.heldBack == [file.path])
        #expect(refresh.diagnostics.contains { $0.message.contains("files over 1000 bytes are not read") })
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
        try manager.createSymbolicLink(atPath: directory.appendingPathComponent("..data").path, withDestinationPath: "..2026_01")
        try manager.createSymbolicLink(atPath: directory.appendingPathComponent("route.yaml").path, withDestinationPath: "..data/route.yaml")
        var store = ConfigStore(paths: [directory.path])
        let first = try store.refresh()
        #expect(first.diagnostics.isEmpty, "\(first.diagnostics)")
        #expect(first.resources.httpRoutes.map(\.rules[0].matches[0].path.value) == ["/v1"])

        try version("..2026_02", path: "/v2")
        try manager.createSymbolicLink(atPath: directory.appendingPathComponent("..data_tmp").path, withDestinationPath: "..2026_02")
        #expect(rename(directory.appendingPathComponent("..data_tmp").path, directory.appendingPathComponent("..data").path) == 0)
        let swapped = try store.refresh()
        #expect(swapped.changed)
        #expect(swapped.resources.httpRoutes.map(\.rules[0].matches[0].path.value) == ["/v2"])
    }
}
