import Foundation
import Testing
import YAMLTree
import Yams

@Suite("YAML tree: libyaml's events composed into one flat tree")
struct YAMLTreeTests {
    /// A node and everything under it, with positions and scalar styles, to compare trees. The
    /// style of a key's scalars is left out: Yams marks them strings once it has checked the keys
    /// for duplicates.
    static func describe(_ node: YAMLNode, key: Bool = false) -> String {
        let at = "@\(node.line ?? 0):\(node.column ?? 0)"
        switch node.kind {
        case .scalar:
            let style = key ? "k" : node.isExplicitString ? "s" : "p"
            return "\(style)\(at)\(String(reflecting: node.text ?? ""))"
        case .mapping:
            return "{\(at) "
                + node.pairs.map { "\(describe($0.key, key: true)): \(describe($0.value, key: key))" }
                .joined(separator: ", ") + "}"
        case .sequence:
            return "[\(at) " + node.items.map { describe($0, key: key) }.joined(separator: ", ") + "]"
        }
    }

    /// The same for Yams's tree, the reference: a scalar is a string whatever it spells when it is
    /// not plain or is tagged `!!str`.
    static func describe(_ node: Yams.Node, key: Bool = false) -> String {
        let at = "@\(node.mark?.line ?? 0):\(node.mark?.column ?? 0)"
        switch node {
        case .scalar(let scalar):
            let explicit = scalar.style != .plain || scalar.tag.description == "tag:yaml.org,2002:str"
            return "\(key ? "k" : explicit ? "s" : "p")\(at)\(String(reflecting: scalar.string))"
        case .mapping(let mapping):
            return "{\(at) "
                + mapping.map { "\(describe($0.key, key: true)): \(describe($0.value, key: key))" }
                .joined(separator: ", ") + "}"
        case .sequence(let sequence):
            return "[\(at) " + sequence.map { describe($0, key: key) }.joined(separator: ", ") + "]"
        case .alias:
            return "alias"
        }
    }

    /// The project's YAML files: goldens, examples, deploy files.
    static func projectYAML() throws -> [URL] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..")
            .standardized
        var files: [URL] = []
        for folder in ["Tests/Goldens", "examples", "deploy"] {
            let walker = FileManager.default.enumerator(
                at: root.appendingPathComponent(folder), includingPropertiesForKeys: nil)
            while let url = walker?.nextObject() as? URL {
                if url.pathExtension == "yaml" { files.append(url) }
            }
        }
        #expect(files.count > 100, "found \(files.count) files under \(root.path)")
        return files
    }

    /// What the loader asked of Yams before `PlainScalar`: its words, then a cheap look at the
    /// characters and Yams's integer and float constructors.
    static func yamsReadsAsNonString(_ text: String) -> Bool {
        if PlainScalar.nullWords.contains(text) || PlainScalar.boolWords.contains(text) { return true }
        let utf8 = Array(text.utf8)
        guard let first = utf8.first, let last = utf8.last, "0123456789+-.".utf8.contains(first),
            "0123456789abcdefABCDEF_.nN".utf8.contains(last), utf8.filter({ $0 == UInt8(ascii: ".") }).count <= 1
        else { return false }
        let node = Yams.Node.scalar(Yams.Node.Scalar(text))
        return node.int != nil || node.float != nil
    }

    @Test("a plain scalar is a number, boolean or null where Yams said so, in every file of the project")
    func sameNumbersAsYams() throws {
        var texts: Set<String> = [
            "0", "-0", "+0", "007", "08", "1_000", "1__0", "0b1_0", "0o7", "0x_1", "0xg", "1:30", "1:30:00",
            "1.5", ".5", "5.", "1e3", "1E+3", "1.5e-3", "-.inf", ".NaN", "1.2.3", "1.1e", "--1", "+-1", "1-", "1:",
            ":1",
            "0.0.0.0/0", "10s", "1h30m", "v1", "e1", "true", "Off", "y", "n", "~", "null", "Null", "NULL", "",
        ]
        for file in try Self.projectYAML() {
            let (tree, _) = YAMLTree.parse(try String(contentsOf: file, encoding: .utf8))
            func collect(_ node: YAMLNode) {
                switch node.kind {
                case .scalar: if node.isPlain, let text = node.text { texts.insert(text) }
                case .mapping: for pair in node.pairs { collect(pair.value) }
                case .sequence: for item in node.items { collect(item) }
                }
            }
            tree.documents.forEach(collect)
        }
        #expect(texts.count > 500)
        for text in texts {
            #expect(PlainScalar.readsAsNonString(text) == Self.yamsReadsAsNonString(text), "\(text)")
        }
        // Where Yams took Swift's own float syntax, or base 60 past 59, and YAML (and Kubernetes)
        // do not.
        for text in ["0x1p3", "-nan", "+nan", "1:70"] {
            #expect(Self.yamsReadsAsNonString(text) && !PlainScalar.readsAsNonString(text), "\(text)")
        }
    }

    @Test("every YAML file of the project reads as Yams reads it: kinds, text, styles and positions")
    func sameAsYams() throws {
        let files = try Self.projectYAML()
        // And what the project's files may not hold: anchors, tags, block and flow styles, keys
        // that are not scalars, empty values, comments, a document that ends the stream early.
        let written = [
            "a: &x {k: [1, 2]}\nb: *x\nc: !!str 3\nd: !!int '4'\ne: |-\n  one\n  two\nf: >\n  folded\n  text\n",
            "? [a, b]\n: c\n? {d: e}\n: f\ng:\nh: ~\n# comment\ni: 'it''s'\nj: \"\\u00e9\\t\"\n",
            "--- x\n--- [y]\n...\n---\nz: {}\n",
            "- - - deep\n    - er\n- {a: [b, {c: d}]}\n- ''\n- \"\"\n-\n",
            "k: v\n---\nbroken: [\n",
        ]
        /// Compares the two readings of `text`; returns how many documents Yams read.
        func compare(_ text: String, _ label: String) throws -> Int {
            var reference: [String] = []
            var yams = try Yams.compose_all(yaml: text, .basic, .default, .utf8)
            while let node = yams.next() { reference.append(Self.describe(node)) }
            let (tree, error) = YAMLTree.parse(text)
            #expect((error == nil) == (yams.error == nil), "\(label): \(String(describing: error))")
            #expect(tree.documents.map { Self.describe($0) } == reference, "\(label)")
            return reference.count
        }
        var documents = 0
        for (index, text) in written.enumerated() { documents += try compare(text, "text \(index)") }
        for file in files {
            documents += try compare(try String(contentsOf: file, encoding: .utf8), file.lastPathComponent)
        }
        #expect(documents > 200)
    }

    @Test("nodes keep their order, positions, scalar styles and the documents of a stream")
    func structure() throws {
        let text = """
            a: 1
            b: "two"
            c: !!str 3
            d: [x, 'y']
            e: |
              block
            ---
            - k: v
            """
        let (tree, error) = YAMLTree.parse(text)
        #expect(error == nil)
        let documents = tree.documents
        #expect(documents.count == 2)
        let first = documents[0]
        #expect(first.kind == .mapping)
        #expect(first.pairs.map { $0.key.text } == ["a", "b", "c", "d", "e"])
        let one = try #require(first.value(forKey: "a"))
        #expect(one.text == "1" && one.isPlain && !one.isExplicitString)
        #expect(one.line == 1 && one.column == 4)
        #expect(first.value(forKey: "b")?.isExplicitString == true)
        #expect(first.value(forKey: "c")?.isExplicitString == true, "!!str makes a plain scalar a string")
        #expect(first.value(forKey: "c")?.isPlain == true)
        #expect(first.value(forKey: "d")?.items.map(\.text) == ["x", "y"])
        #expect(first.value(forKey: "d")?.items[1].column == 8)
        #expect(first.value(forKey: "e")?.text == "block\n")
        #expect(first.value(forKey: "missing") == nil)
        #expect(documents[1].items.first?.value(forKey: "k")?.line == 8)
    }

    @Test("an alias is its anchor's node, not a copy; anchors belong to their document")
    func aliases() {
        let (tree, error) = YAMLTree.parse("a: &x {k: v}\nb: *x\nc: d\n")
        #expect(error == nil)
        let root = tree.documents[0]
        let a = root.value(forKey: "a")
        let b = root.value(forKey: "b")
        #expect(a?.isAnchored == true)
        #expect(a?.identity == b?.identity)
        #expect(b?.value(forKey: "k")?.text == "v")
        #expect(root.value(forKey: "c")?.isAnchored == false)

        let (later, laterError) = YAMLTree.parse("a: &x 1\n---\nb: *x\n")
        #expect(later.documents.count == 1, "the document before the error is kept")
        #expect(laterError == YAMLError(line: 3, column: 4, message: "found undefined alias x"))
    }

    @Test("errors say where: syntax, repeated keys (at the repeat), control characters")
    func errors() {
        let (tree, syntax) = YAMLTree.parse("ok: 1\n---\na: {b: c\n")
        #expect(tree.documents.count == 1)
        #expect(syntax?.line == 4 && syntax?.message.contains("flow mapping") == true, "\(String(describing: syntax))")

        let (_, repeated) = YAMLTree.parse("a: 1\nb:\n  c: 2\n  d: 3\n  c: 4\n  d: 5\n")
        #expect(repeated == YAMLError(line: 5, column: 3, message: "duplicate keys c, d in one mapping"))
        let wide = (0..<20).map { "k\($0): v" } + ["k7: again"]
        let (_, wideRepeated) = YAMLTree.parse(wide.joined(separator: "\n"))
        #expect(wideRepeated == YAMLError(line: 21, column: 1, message: "duplicate keys k7 in one mapping"))
        let (_, distinct) = YAMLTree.parse(((0..<20).map { "k\($0): v" } + ["? [k7]\n: x"]).joined(separator: "\n"))
        #expect(distinct == nil, "a key that is not a scalar repeats no scalar key")

        let (_, control) = YAMLTree.parse("a: b\nc: d\u{7}e\n")
        #expect(control?.line == 2 && control?.column == 5, "\(String(describing: control))")
        #expect(control?.message.contains("control characters") == true)

        let (empty, none) = YAMLTree.parse("")
        #expect(empty.documents.isEmpty && none == nil)
    }

    @Test("a scalar keeps every byte, NULs included")
    func nul() {
        let (tree, _) = YAMLTree.parse("a: \"x\\0y\"\n")
        #expect(tree.documents.first?.value(forKey: "a")?.text == "x\u{0}y")
    }

    @Test("a value built in code reads like one parsed, without positions")
    func built() {
        let node = YAMLValue.mapping([
            ("a", .scalar("80", plain: false)), ("b", .sequence([.scalar("x", plain: true)])),
        ]).node
        #expect(node.value(forKey: "a")?.isExplicitString == true)
        #expect(node.value(forKey: "b")?.items.first?.text == "x")
        #expect(node.line == nil && node.value(forKey: "a")?.line == nil)
    }

    @Test("a written string keeps its quotes where plain would read as something else, timestamps too")
    func quotesNeeded() {
        for text in [
            "2036-01-01", "2036-01-01T00:00:00Z", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10 -5",
            "2001-12-15 2:59:43.10", "2001-1-2T3:04:05+05:30", "True", "null", "1:30", "<<", "=",
        ] {
            #expect(PlainScalar.needsQuotes(text), "\(text) needs quotes")
        }
        for text in [
            "2036-01", "2036-1-01", "2036-01-01T00:00", "2036-01-01T00:00:00ZZ", "2036-01-01 00:00:00 ", "2036-01-01x",
            "2036-01-01T00:00:00+5:3", "v2036-01-01", "30s", "<", "==",
        ] {
            #expect(!PlainScalar.needsQuotes(text), "\(text) reads as a string")
        }
        // What the loader reads: a date in a string field is a string to Kubernetes.
        #expect(!PlainScalar.readsAsNonString("2036-01-01"))
    }
}
