import CanonicalText
import Testing

/// The rendering every golden and `switchboard translate` use, written with libyaml's emitter and
/// a small JSON writer over YAMLTree (no Foundation, no Yams).
@Suite("Canonical text: JSON as sorted JSON and as block YAML")
struct CanonicalTextTests {
    static let document = #"""
        {"z":{"b":1,"a":[1.50,"x/y",{}],"e":[]},"quoted":["True","2036-01-01T00:00:00Z","80","plain","",null],
        "metadata":{"filterMetadata":{"k2":"v","k1":true}},"text":"line\none \"q\" \\ \t é"}
        """#

    @Test("YAML: block style, the JSON's key order but inside protobuf Structs, quotes only where needed")
    func yaml() throws {
        let expected = #"""
            z:
              b: 1
              a:
              - 1.50
              - x/y
              - {}
              e: []
            quoted:
            - "True"
            - "2036-01-01T00:00:00Z"
            - "80"
            - plain
            - ""
            - null
            metadata:
              filterMetadata:
                k1: true
                k2: v
            text: "line\none \"q\" \\ \t \xE9"

            """#
        let actual = try CanonicalText.yaml(Self.document)
        #expect(actual == expected, "\(actual)")
        #expect(try CanonicalText.yaml("") == "")
    }

    @Test("JSON: keys sorted at every level, numbers as written, strings escaped only where JSON must")
    func json() throws {
        let expected = #"""
            {
              "metadata" : {
                "filterMetadata" : {
                  "k1" : true,
                  "k2" : "v"
                }
              },
              "quoted" : [
                "True",
                "2036-01-01T00:00:00Z",
                "80",
                "plain",
                "",
                null
              ],
              "text" : "line\none \"q\" \\ \t é",
              "z" : {
                "a" : [
                  1.50,
                  "x/y",
                  {}
                ],
                "b" : 1,
                "e" : []
              }
            }

            """#
        let actual = try CanonicalText.json(Self.document)
        #expect(actual == expected, "\(actual)")
    }

    @Test("text that is not JSON is an error that says where")
    func notJSON() {
        #expect(throws: CanonicalTextError.self) { try CanonicalText.yaml(#"{"a": [1, 2}"#) }
    }
}
