import Foundation
import GatewayTranslator
import Testing
import XDSCache
import XDSServer
import XDSTesting
import XDSTranslator
import YAMLTree
import Yams

@testable import GatewayAPI

/// "validate-clean ⇒ Envoy ACKs", over generated input: the golden cases and the examples,
/// mutated by a seeded generator (a scalar swapped for a hostile value, a field dropped, an item
/// repeated, a subtree emptied). Every mutant that loads without a diagnostic is translated and
/// served to a real Envoy, which must ACK it. A NACK here is a value `validate` should have
/// refused.
@Suite(
    "Validated mutants in a real Envoy", .enabled(if: envoyRequired, "no Envoy binary (set ENVOY_BIN or create .venv)"))
struct ValidatedMutantsEndToEndTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..")
        .standardizedFileURL

    /// Each source's files (path, text): every golden case's input and every example.
    static func sources() throws -> [[(path: String, contents: String)]] {
        let manager = FileManager.default
        var folders: [URL] = []
        for golden in GoldenCase.all { folders.append(golden.directory.appendingPathComponent("input")) }
        let examples = root.appendingPathComponent("examples")
        for name in try manager.contentsOfDirectory(atPath: examples.path).sorted() {
            var isDirectory: ObjCBool = false
            let folder = examples.appendingPathComponent(name)
            if manager.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue {
                folders.append(folder)
            }
        }
        return try folders.compactMap { folder in
            let files = try manager.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".yaml") }.sorted()
                .map {
                    (path: $0, contents: try String(contentsOf: folder.appendingPathComponent($0), encoding: .utf8))
                }
            // Names to resolve would send DNS queries off this machine: those sources stay out.
            return files.contains { $0.contents.contains("fqdn:") } ? nil : files
        }
    }

    @Test("every generated input that validates clean is ACKed by Envoy (SotW and delta)")
    func validatedMutantsAreAccepted() async throws {
        let sources = try Self.sources()
        try #require(!sources.isEmpty)
        var random = SplitMix64(seed: 0x5EED_0011)
        let cache = SnapshotCache()
        let count = ProcessInfo.processInfo.environment["SWITCHBOARD_MUTANTS"].flatMap(Int.init) ?? 300
        var mutants: [(name: String, files: [(path: String, contents: String)])] = []
        for index in 0..<count {
            let source = sources[Int(random.next() % UInt64(sources.count))]
            var files = source
            let file = Int(random.next() % UInt64(files.count))
            var documents = Mutator.documents(files[file].contents)
            guard !documents.isEmpty else { continue }
            let document = Int(random.next() % UInt64(documents.count))
            let operation = Mutator.mutate(&documents[document], random: &random)
            files[file].contents = try Mutator.yaml(documents)
            mutants.append(("mutant \(index) (\(files[file].path): \(operation))", files))
        }

        let generated = mutants
        try await withADSServer(watcher: cache) { server, xdsPort in
            var served = 0
            var refused = 0
            var failures: [String] = []
            for mode in [EnvoyProcess.Mode.sotw, .delta] {
                let group = "mutants/\(mode.rawValue)"
                let nodeID = "mutants-\(mode.rawValue)"
                let envoy = try await EnvoyProcess.start(
                    bootstrap: EnvoyProcess.bootstrap(xdsPort: xdsPort, mode: mode, nodeID: nodeID, nodeCluster: group))
                defer { Task { await envoy.stop() } }
                for (number, mutant) in generated.enumerated() where number % 2 == (mode == .sotw ? 0 : 1) {
                    var resources = ResourceSet.load(mutant.files)
                    guard resources.diagnostics.isEmpty else {
                        refused += 1
                        continue
                    }
                    resources = try Ports.fresh(resources)
                    for config in GatewayTranslator.translate(resources).configs {
                        let snapshot: Snapshot
                        do {
                            snapshot = try SnapshotTranslator.snapshot(config)
                        } catch {
                            failures.append("\(mutant.name): validated clean but did not translate: \(error)")
                            continue
                        }
                        try cache.setSnapshot(snapshot, for: group)
                        served += 1
                        func status() -> [ResourceType: TypeStatus] {
                            server.registry.streams.first { $0.nodeID == nodeID }?.types ?? [:]
                        }
                        let types = ResourceType.allCases.filter { snapshot[$0].count > 0 }
                        let settled = await eventually(timeout: .seconds(60), every: .milliseconds(10)) {
                            let current = status()
                            return types.allSatisfy {
                                current[$0]?.lastAckedVersion == snapshot.version(of: $0)
                                    || current[$0]?.lastNack?.version == snapshot.version(of: $0)
                            }
                        }
                        let nacks = status().compactMap { type, status in
                            status.lastNack.flatMap {
                                $0.version == snapshot.version(of: type) ? "\(type): \($0.error.message)" : nil
                            }
                        }
                        if !nacks.isEmpty {
                            // Envoy's message ends with the rule the value broke; the mutant says which value.
                            let reasons = nacks.map { String($0.suffix(240)) }
                            if failures.isEmpty {
                                print(mutant.files.map { "# \($0.path)\n\($0.contents)" }.joined(separator: "\n"))
                            }
                            failures.append("\(mutant.name): validated clean, Envoy rejected: \(reasons)")
                        } else if !settled {
                            let current = status()
                            let behind = types.filter { current[$0]?.lastAckedVersion != snapshot.version(of: $0) }.map
                            {
                                "\($0) acked \(current[$0]?.lastAckedVersion ?? "-") sent \(current[$0]?.lastSentVersion ?? "-") "
                                    + "want \(snapshot.version(of: $0)) awaiting \(current[$0]?.awaitingReply ?? false)"
                            }
                            failures.append("\(mutant.name): not ACKed within 20 s: \(behind)")
                            if ProcessInfo.processInfo.environment["SWITCHBOARD_MUTANT_LOG"] != nil {
                                print(envoy.log().suffix(6000))
                                print(
                                    "streams of \(nodeID):",
                                    server.registry.streams.filter { $0.nodeID == nodeID }.map {
                                        "\($0.id) \($0.types)"
                                    })
                                print(
                                    "cache EDS version:", cache.snapshot(for: group)?.version(of: .endpoint) ?? "-",
                                    "wanted:", snapshot.version(of: .endpoint))
                            }
                        }
                    }
                }
            }
            print(
                "validated mutants: \(generated.count) generated, \(refused) refused by validation, \(served) snapshots served"
            )
            #expect(served > 20, "too few mutants validated clean to mean anything")
            #expect(failures.isEmpty, "\(failures.count) failures:\n\(failures.joined(separator: "\n"))")
        }
    }
}

/// Gateways' listener ports moved to free ones, so mutants never fight other tests for a port.
enum Ports {
    static func fresh(_ resources: ResourceSet) throws -> ResourceSet {
        var resources = resources
        for gateway in resources.gateways.indices {
            for listener in resources.gateways[gateway].listeners.indices {
                resources.gateways[gateway].listeners[listener].port = try freePort()
            }
        }
        return resources
    }
}

enum Mutator {
    /// Values that have broken control planes: empty, huge, odd characters, odd numbers.
    static let hostile: [Document] = [
        .scalar("", plain: false), .scalar("0", plain: true), .scalar("-1", plain: true), .scalar("65536", plain: true),
        .scalar("4294967296", plain: true), .scalar("99999999999999999999", plain: true), .scalar("1e309", plain: true),
        .scalar("0.5", plain: true), .scalar("true", plain: true), .scalar("null", plain: true),
        .scalar("*", plain: false),
        .scalar("/a//", plain: false), .scalar("/", plain: false), .scalar("a b", plain: false),
        .scalar("x:y", plain: false), .scalar("Bad Name!", plain: false), .scalar("not-an-ip", plain: false),
        .scalar("::1", plain: false), .scalar("127.0.0.1", plain: false), .scalar("0s", plain: false),
        .scalar("99999h", plain: false), .scalar("1ms", plain: false), .scalar("é\u{0301}ü", plain: false),
        .scalar("line\nbreak", plain: false), .scalar("tab\there", plain: false),
        .scalar(String(repeating: "a", count: 5000), plain: false),
        .scalar(String(repeating: "b", count: 70_000), plain: false), .scalar("[", plain: false),
        .scalar("(a", plain: false),
        .scalar("%", plain: false), .scalar("Exact", plain: false), .scalar("RegularExpression", plain: false),
        .scalar("example.com", plain: false), .scalar("*.example.com", plain: false), .scalar("100%", plain: false),
    ]

    /// The documents before any syntax error, as the loader keeps them.
    static func documents(_ text: String) -> [Document] {
        YAMLTree.parse(text).tree.documents.map(Document.init)
    }

    static func yaml(_ documents: [Document]) throws -> String {
        try documents.map { try Yams.serialize(node: yamsNode($0)) }.joined(separator: "---\n")
    }

    /// A document for Yams to write: quoted where it was quoted, so a mutant's `"80"` stays a string.
    static func yamsNode(_ document: Document) -> Node {
        switch document {
        case .scalar(let text, let plain): .scalar(Node.Scalar(text, .implicit, plain ? .plain : .doubleQuoted))
        case .mapping(let pairs):
            .mapping(Node.Mapping(pairs.map { (Node(stringLiteral: $0.key), yamsNode($0.value)) }))
        case .sequence(let items): .sequence(Node.Sequence(items.map(yamsNode)))
        case .null: .scalar(Node.Scalar("null"))
        }
    }

    /// Every place in `document` (a path of keys and indexes), except identity fields.
    static func places(_ document: Document, _ path: [String] = []) -> [[String]] {
        var result = path.isEmpty ? [] : [path]
        switch document {
        case .mapping(let pairs):
            for (key, value) in pairs where !(path.isEmpty && ["apiVersion", "kind"].contains(key)) {
                result += places(value, path + [key])
            }
        case .sequence(let items):
            for (index, item) in items.enumerated() { result += places(item, path + ["#\(index)"]) }
        case .scalar, .null:
            break
        }
        return result
    }

    /// Changes one place of `document`; says what it did.
    static func mutate(_ document: inout Document, random: inout SplitMix64) -> String {
        let all = places(document)
        guard !all.isEmpty else { return "nothing" }
        let place = all[Int(random.next() % UInt64(all.count))]
        let choice = random.next() % 10
        let location = place.joined(separator: ".")
        switch choice {
        case 0:
            update(&document, at: place) { _ in nil }
            return "removed \(location)"
        case 1:
            update(&document, at: place) { value in
                if case .sequence(let items) = value, let first = items.first { return .sequence(items + [first]) }
                return value
            }
            return "repeated an item of \(location)"
        case 2:
            update(&document, at: place) { value in
                if case .mapping = value { return .mapping([]) }
                if case .sequence = value { return .sequence([]) }
                return value
            }
            return "emptied \(location)"
        default:
            let value = hostile[Int(random.next() % UInt64(hostile.count))]
            update(&document, at: place) { old in
                if case .scalar = old { return value }
                return old
            }
            let shown = value.text.map { $0.count > 40 ? "\($0.prefix(40))… (\($0.count))" : $0 } ?? ""
            return "set \(location) to \"\(shown)\""
        }
    }

    /// Applies `change` at `path`; nil removes the place.
    static func update(_ document: inout Document, at path: [String], _ change: (Document) -> Document?) {
        guard let step = path.first else { return }
        let rest = Array(path.dropFirst())
        switch document {
        case .mapping(var pairs):
            guard let index = pairs.firstIndex(where: { $0.key == step }) else { return }
            if rest.isEmpty {
                if let new = change(pairs[index].value) { pairs[index].value = new } else { pairs.remove(at: index) }
            } else {
                update(&pairs[index].value, at: rest, change)
            }
            document = .mapping(pairs)
        case .sequence(var items):
            guard step.hasPrefix("#"), let index = Int(step.dropFirst()), items.indices.contains(index) else { return }
            if rest.isEmpty {
                if let new = change(items[index]) { items[index] = new } else { items.remove(at: index) }
            } else {
                update(&items[index], at: rest, change)
            }
            document = .sequence(items)
        case .scalar, .null:
            break
        }
    }
}
