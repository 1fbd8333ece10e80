import Testing

@testable import GatewayAPI

@Suite("Document merges for mergeType")
struct DocumentMergeTests {
    func document(_ yaml: String) throws -> Document {
        try #require(try Document.documents(yaml).first)
    }

    @Test("JSON merge (RFC 7386): objects merge by key, null deletes, lists and scalars replace")
    func jsonMerge() throws {
        let base = try document("{a: b, c: {d: e, f: g}, list: [1, 2]}")
        let patch = try document("{a: z, c: {f: null, h: i}, list: [3]}")
        #expect(base.jsonMerged(with: patch) == (try document("{a: z, c: {d: e, h: i}, list: [3]}")))
        #expect(try document("{a: [1]}").jsonMerged(with: try document("{a: {b: c}}")) == (try document("{a: {b: c}}")))
        #expect(
            try document("{a: b}").jsonMerged(with: try document("{c: {d: null}}")) == (try document("{a: b, c: {}}")))
    }

    @Test(
        "strategic merge keys httpUpgrade and compressor items by type, the patch's first, same-type items merged; other lists replace"
    )
    func strategicMerge() throws {
        let base = try document("{httpUpgrade: [{type: websocket}], retry: {retryOn: {triggers: [reset]}}}")
        let patch = try document("{httpUpgrade: [{type: spdy/3.1}], retry: {retryOn: {triggers: [5xx]}}}")
        #expect(
            base.strategicMerged(with: patch)
                == (try document(
                    "{httpUpgrade: [{type: spdy/3.1}, {type: websocket}], retry: {retryOn: {triggers: [5xx]}}}")))
        let same = try document("{compressor: [{type: Gzip, minContentLength: 10}]}")
            .strategicMerged(with: try document("{compressor: [{type: Gzip}]}"))
        #expect(same == (try document("{compressor: [{type: Gzip, minContentLength: 10}]}")))
    }
}
