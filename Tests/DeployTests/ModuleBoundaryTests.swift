import Foundation
import Testing

/// Dependencies point one way (docs/architecture.md): the CLI sees only ControlPlane, and the
/// test library never the control plane or a translator, so server and cache tests link neither.
/// SwiftPM lets a module import what its dependencies depend on, so the imports are checked too.
@Suite("Module boundaries")
struct ModuleBoundaryTests {
    /// The modules the files under `Sources/<module>` import.
    func imports(of module: String) throws -> Set<String> {
        let directory = root.appendingPathComponent("Sources/\(module)")
        var found = Set<String>()
        for file in try FileManager.default.subpathsOfDirectory(atPath: directory.path) where file.hasSuffix(".swift") {
            for line in try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8).split(
                separator: "\n")
            {
                let words = line.split(separator: " ").filter { !$0.hasPrefix("@") }
                guard words.first == "import", words.count >= 2 else { continue }
                // `import struct Module.Type` names the module before the dot.
                let name = words.count > 2 ? words[2] : words[1]
                found.insert(String(name.split(separator: ".")[0]))
            }
        }
        return found
    }

    /// The `dependencies:` of a target in Package.swift, by name.
    func declaredDependencies(of target: String) throws -> String {
        let manifest = try read("Package.swift")
        // The target, not the product of the same name: its name is followed by its dependencies.
        let pattern = try Regex("name: \"\(target)\",\\s*dependencies: \\[([^\\]]*)\\]")
        let match = try #require(manifest.firstMatch(of: pattern), "no target \(target) with dependencies")
        return String(try #require(match.output[1].substring))
    }

    @Test("the CLI depends on ControlPlane, ArgumentParser and Logging alone")
    func cli() throws {
        let allowed: Set = ["ControlPlane", "ArgumentParser", "Logging", "FoundationEssentials", "Glibc"]
        let extra = try imports(of: "switchboard").subtracting(allowed)
        #expect(extra.isEmpty, "the CLI imports \(extra.sorted()): move that work into ControlPlane")
        let declared = try declaredDependencies(of: "switchboard")
        let targets = declared.split(separator: ",").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .filter { $0.hasPrefix("\"") }
        #expect(targets == ["\"ControlPlane\""], "the switchboard target declares \(targets)")
    }

    /// Every module `switchboard` links: the CLI's and ControlPlane's own, and theirs (but
    /// EnvoyAPI, generated, which imports Foundation only where its essentials are missing).
    static let served = [
        "switchboard", "ControlPlane", "RateLimitService", "RedisClient", "Lint", "Explain", "TLSCertificates",
        "GatewayAPI", "GatewayIR", "GatewayTranslator", "XDSTranslator", "XDSServer", "XDSCache", "Parallel",
        "AdminAPI", "CanonicalText", "YAMLTree", "RegexEngine",
    ]

    /// All of Foundation is ICU and Foundation's own library, ~8 MiB of every process's memory;
    /// its essentials (Data, Date, JSONEncoder, FileManager) are enough for Switchboard. The
    /// imports keep it out of our modules, the manifest's traits out of swift-protobuf's and
    /// hummingbird's, and the built binary shows both held.
    @Test("switchboard runs on Foundation's essentials: no module of it imports all of Foundation")
    func noFoundation() throws {
        for module in Self.served {
            let imported = try imports(of: module)
            #expect(
                !imported.contains("Foundation") && !imported.contains("Yams"), "\(module) imports Foundation or Yams")
        }
        // Every library the loader maps for it, those its libraries need too (glibc's ldd).
        let loaded = try output(of: "/usr/bin/env", ["ldd", switchboardBinary.path])
        #expect(loaded.contains("libFoundationEssentials.so =>"), "ldd found no switchboard: \(loaded)")
        for library in ["libFoundation.so", "lib_FoundationICU.so", "libFoundationInternationalization.so"] {
            #expect(!loaded.contains("\(library) =>"), "switchboard loads \(library)")
        }
    }

    @Test("the test library depends on neither the control plane nor a translator")
    func testingLibrary() throws {
        let forbidden: Set = [
            "ControlPlane", "GatewayAPI", "GatewayTranslator", "XDSTranslator", "Hummingbird", "HummingbirdCore",
        ]
        let used = try imports(of: "XDSTesting").intersection(forbidden)
        #expect(used.isEmpty, "XDSTesting imports \(used.sorted())")
        let declared = try declaredDependencies(of: "XDSTesting")
        for module in forbidden { #expect(!declared.contains("\"\(module)\""), "XDSTesting declares \(module)") }
    }
}
