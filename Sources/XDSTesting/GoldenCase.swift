import Foundation
import GatewayIR

/// One golden case, `Tests/Goldens/<name>/`: configuration files in `input/` and what they become
/// beside it, in two stages as Envoy Gateway keeps its test data: `ir.yaml` (the Gateway
/// translator's decisions: diagnostics, each Gateway's IR, status) and `xds.yaml` (what the xDS
/// translator makes of that IR). Every golden test and end-to-end test reads cases through this.
public struct GoldenCase: Sendable, CustomStringConvertible {
    /// `Tests/Goldens` of this checkout.
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Tests/Goldens").standardizedFileURL

    /// `SWITCHBOARD_UPDATE_GOLDENS=1`: tests rewrite the expected files instead of comparing.
    public static let updating = ProcessInfo.processInfo.environment["SWITCHBOARD_UPDATE_GOLDENS"] == "1"

    /// Every case's name, sorted; dotfiles are not cases.
    public static var names: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted()
    }

    public static var all: [GoldenCase] { names.map(GoldenCase.init(named:)) }

    public let name: String
    public var directory: URL { Self.root.appendingPathComponent(name) }
    public var description: String { name }

    public init(named name: String) { self.name = name }

    /// The case's configuration files, sorted, dotfiles skipped. Paths are relative to the case
    /// (`input/<file>`), so diagnostics read the same on every machine.
    public func inputs() throws -> [(path: String, contents: String)] {
        let input = directory.appendingPathComponent("input")
        let names = try FileManager.default.contentsOfDirectory(atPath: input.path).filter { !$0.hasPrefix(".") }
            .sorted()
        return try names.map { file in
            (
                path: "input/\(file)",
                contents: try String(contentsOf: input.appendingPathComponent(file), encoding: .utf8)
            )
        }
    }

    /// What `options.json` beside `input/` may set: the server's options the case needs.
    struct CaseOptions: Decodable {
        var rateLimitService: GlobalRateLimitService?
    }

    /// The rate limit service this case's server runs, from its `options.json`
    /// (`{"rateLimitService": {"host": …, "port": …}}`); nil when it runs none.
    public func rateLimitService() throws -> GlobalRateLimitService? {
        let file = directory.appendingPathComponent("options.json")
        guard FileManager.default.fileExists(atPath: file.path) else { return nil }
        return try JSONDecoder().decode(CaseOptions.self, from: try Data(contentsOf: file)).rateLimitService
    }

    /// The expected text of one of the case's outputs (`ir.yaml`, `xds.yaml`).
    public func expected(_ file: String) throws -> String {
        try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
    }

    /// Compares `actual` with the case's `file`: nil when they are equal, else where they first
    /// differ. When updating, writes `actual` to the file instead and returns nil.
    public func compare(_ actual: String, with file: String) throws -> String? {
        if Self.updating {
            try actual.write(to: directory.appendingPathComponent(file), atomically: true, encoding: .utf8)
            return nil
        }
        let expected = try expected(file)
        guard actual != expected else { return nil }
        let a = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let b = actual.split(separator: "\n", omittingEmptySubsequences: false)
        let index = zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(a.count, b.count)
        let want = index < a.count ? String(a[index]) : "<end>"
        let got = index < b.count ? String(b[index]) : "<end>"
        return "\(name)/\(file) line \(index + 1):\n  expected: \(want)\n  actual:   \(got)\n"
            + "(SWITCHBOARD_UPDATE_GOLDENS=1 rewrites the goldens; read the diff before committing)"
    }

    /// Every case's `file`, joined: what coverage tests search for markers.
    public static func allOutputs(_ file: String) throws -> String {
        try all.map { try $0.expected(file) }.joined()
    }
}
