import Testing
import YAMLTree

@testable import GatewayAPI

@Suite("Manifest parsing with source positions")
struct ManifestParserTests {
    @Test("multi-document YAML, List kinds and JSON all give objects with their positions")
    func documents() {
        let yaml = """
            apiVersion: gateway.networking.k8s.io/v1
            kind: Gateway
            metadata:
              name: eg
            ---
            # a comment-only document is skipped
            ---
            apiVersion: v1
            kind: List
            items:
            - apiVersion: gateway.networking.k8s.io/v1
              kind: HTTPRoute
              metadata: {name: backend, namespace: apps}
            """
        let parsed = ManifestParser.parse(yaml, file: "gw.yaml")
        let (objects, diagnostics) = (parsed.objects, parsed.diagnostics)
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        #expect(objects.map(\.kind) == ["Gateway", "HTTPRoute"])
        #expect(objects.map(\.namespace) == ["default", "apps"], "namespace defaults to default")
        #expect(objects.map(\.location.line) == [1, 11])

        let json =
            #"{"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GatewayClass", "metadata": {"name": "eg"}}"#
        let fromJSON = ManifestParser.parse(json, file: "class.json")
        #expect(fromJSON.diagnostics.isEmpty)
        #expect(fromJSON.objects.map(\.name) == ["eg"])
    }

    @Test("a YAML syntax error names file, line and column")
    func syntaxError() throws {
        let parsed = ManifestParser.parse("kind: Gateway\nmetadata:\n  name: [unclosed\n", file: "bad.yaml")
        let (objects, diagnostics) = (parsed.objects, parsed.diagnostics)
        #expect(objects.isEmpty)
        let diagnostic = try #require(diagnostics.first)
        #expect(diagnostic.code == .syntax)
        #expect(diagnostic.location.file == "bad.yaml")
        #expect(diagnostic.location.line >= 3)
        #expect(diagnostic.description.hasPrefix("bad.yaml:"))
    }

    @Test("missing kind, apiVersion and metadata.name are reported at the object")
    func missingIdentity() {
        let parsed = ManifestParser.parse("apiVersion: v1\nmetadata: {}\nspec: {}\n", file: "x.yaml")
        let (objects, diagnostics) = (parsed.objects, parsed.diagnostics)
        #expect(objects.isEmpty)
        #expect(diagnostics.map(\.field) == ["kind"])
        let noName = ManifestParser.parse("apiVersion: v1\nkind: Service\nmetadata: {}\n", file: "s.yaml")
        #expect(noName.diagnostics.map(\.field) == ["metadata.name"])
        #expect(noName.diagnostics.first?.message == "is required")
    }
}

@Suite("Strict field reading")
struct ObjectReaderTests {
    func reader(_ yaml: String) throws -> (ObjectReader, DecodeContext) {
        let parsed = ManifestParser.parse("apiVersion: v1\nkind: Thing\nmetadata: {name: t}\n" + yaml, file: "t.yaml")
        let (objects, diagnostics) = (parsed.objects, parsed.diagnostics)
        try #require(diagnostics.isEmpty, "\(diagnostics)")
        let object = try #require(objects.first)
        return (object.fields, object.fields.context)
    }

    @Test("an unknown field is an error with a did-you-mean suggestion and its position")
    func unknownField() throws {
        let (object, context) = try reader("spec:\n  listners: []\n  gatewayClassName: eg\n")
        let spec = try #require(object.object("spec"))
        spec.allowOnly(["gatewayClassName", "listeners", "addresses", "infrastructure"])
        let diagnostic = try #require(context.diagnostics.first)
        #expect(diagnostic.code == .unknownField)
        #expect(diagnostic.field == "spec.listners")
        #expect(diagnostic.message == #"unknown field "listners" (did you mean "listeners"?)"#)
        #expect(diagnostic.location.line == 5)
        #expect(diagnostic.location.column == 3)
    }

    @Test("an enum value not allowed lists the allowed ones")
    func enumValue() throws {
        let (object, context) = try reader("spec:\n  protocol: HTTPs\n")
        let spec = try #require(object.object("spec"))
        #expect(spec.oneOf("protocol", ["HTTP", "HTTPS", "TLS", "TCP", "UDP"]) == nil)
        let diagnostic = try #require(context.diagnostics.first)
        #expect(diagnostic.code == .notAllowed)
        #expect(
            diagnostic.message
                == #""HTTPs" is not allowed: must be one of HTTP, HTTPS, TLS, TCP, UDP (did you mean "HTTP"?)"#
                || diagnostic.message
                    == #""HTTPs" is not allowed: must be one of HTTP, HTTPS, TLS, TCP, UDP (did you mean "HTTPS"?)"#
        )
        #expect(diagnostic.location.line == 5)
    }

    @Test("numbers out of range give the range; wrong types say what they got")
    func rangesAndTypes() throws {
        let (object, context) = try reader("spec:\n  port: 70000\n  name: 42\n  rules: {}\n  weight: heavy\n")
        let spec = try #require(object.object("spec"))
        #expect(spec.int("port", range: 1...65535) == nil)
        #expect(spec.string("name") == nil)
        #expect(spec.objects("rules").isEmpty)
        #expect(spec.int("weight") == nil)
        #expect(context.diagnostics.map(\.code) == [.outOfRange, .wrongType, .wrongType, .wrongType])
        #expect(context.diagnostics.map(\.field) == ["spec.port", "spec.name", "spec.rules", "spec.weight"])
        #expect(context.diagnostics[0].message == "70000 is out of range: must be between 1 and 65535")
        #expect(context.diagnostics[1].message == #"YAML reads unquoted 42 as a number; write "42" in quotes"#)
        #expect(context.diagnostics[2].message == "must be a list, not an object")
    }

    @Test("an unquoted Off, On, yes or no where a string is expected says YAML made it a boolean, and how to quote it")
    func booleanWords() throws {
        let (object, context) = try reader("spec:\n  a: Off\n  b: yes\n  c: \"Off\"\n  d: ~\n  e: [x]\n")
        let spec = try #require(object.object("spec"))
        #expect(spec.string("a") == nil)
        #expect(spec.string("b") == nil)
        #expect(spec.string("c") == "Off")
        #expect(spec.string("d") == nil, "null is absent, as in Kubernetes")
        #expect(spec.string("e") == nil)
        #expect(
            context.diagnostics.map(\.message) == [
                #"YAML reads unquoted Off as a boolean; write "Off" in quotes"#,
                #"YAML reads unquoted yes as a boolean; write "yes" in quotes"#,
                "must be a string, not a list",
            ])
    }

    @Test("a plain scalar reads as a number in every form YAML 1.1 knows, and as a string otherwise")
    func numberCheck() {
        let numbers = [
            "0", "42", "-7", "+7", "1_000", "0b101", "-0b1", "0o17", "017", "0x1F", "0xff", "1:30", "-190:20:30",
            "3.14", "-.5", "+12e03", "1.5e-3", "6.8523015e+5", "1_000.5", "190:20:30.15", ".inf", "-.Inf", "+.INF",
            ".nan", ".NaN", ".NAN", "5.", "0.", "08", "1e5",
        ]
        for text in numbers {
            #expect(PlainScalar.isNumber(text), "\(text) is a number to YAML")
            #expect(PlainScalar.readsAsNonString(text), "\(text) is a number to YAML")
        }
        let strings = [
            "10.0.0.0", "30s", "2000ms", "1m", "/app-0", "v1", "1.2.3", "1.5h", "10%", "inf", "nan", "-", "-infinity",
            "-.nan", ".", "0x", "0b2", "0o8", "1:60", "1:2:", ":30", "1e", "1e+", "e5", "0x1p3", "1:30.5.5", "+",
        ]
        for text in strings {
            #expect(!PlainScalar.readsAsNonString(text), "\(text) is a string")
        }
        #expect(PlainScalar.readsAsNonString("Off") && PlainScalar.readsAsNonString("~"))
    }

    @Test("list items get indexed paths")
    func indexedPaths() throws {
        let (object, context) = try reader("spec:\n  rules:\n  - {}\n  - backendRef: x\n")
        let rules = try #require(object.object("spec")).objects("rules")
        #expect(rules.map(\.path) == ["spec.rules[0]", "spec.rules[1]"])
        rules[1].allowOnly(["backendRefs", "matches"])
        #expect(context.diagnostics.first?.field == "spec.rules[1].backendRef")
        #expect(context.diagnostics.first?.message.contains(#"did you mean "backendRefs"?"#) == true)
    }

    @Test("edit distance")
    func editDistance() {
        #expect(Suggestion.editDistance("listners", "listeners") == 1)
        #expect(Suggestion.editDistance("", "abc") == 3)
        #expect(Suggestion.closest(to: "zzzzzz", in: ["listeners"]) == nil)
    }
}

@Suite("Gateway API durations")
struct DurationTests {
    @Test(
        "valid forms",
        arguments: [("10s", 10_000), ("500ms", 500), ("1h30m", 5_400_000), ("1m1s1ms", 61_001), ("0s", 0)])
    func valid(text: String, milliseconds: Int) {
        #expect(GatewayAPIDuration(text)?.milliseconds == milliseconds)
    }

    @Test("invalid forms", arguments: ["", "10", "1.5s", "10S", "-1s", "123456s", "1h1h1h1h1h", "1d"])
    func invalid(text: String) {
        #expect(GatewayAPIDuration(text) == nil)
    }
}
