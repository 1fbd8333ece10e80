import NIOCore
import Testing

@testable import RedisClient

@Suite struct RESPTests {
    @Test func decodesEveryReplyType() throws {
        var buffer = ByteBuffer(
            string: "+OK\r\n-ERR wrong\r\n:-42\r\n$5\r\nhello\r\n$-1\r\n$0\r\n\r\n*2\r\n:1\r\n*1\r\n+x\r\n*-1\r\n*0\r\n"
        )
        var values: [RESPValue] = []
        while let value = try RESP.decode(&buffer) { values.append(value) }
        #expect(
            values == [
                .simpleString("OK"), .error("ERR wrong"), .integer(-42), .bulkString(Array("hello".utf8)),
                .bulkString(nil), .bulkString([]), .array([.integer(1), .array([.simpleString("x")])]), .array(nil),
                .array([]),
            ])
        #expect(buffer.readableBytes == 0)
    }

    /// A reply split anywhere waits for the rest, and the bytes stay where they were.
    @Test func partialRepliesWait() throws {
        let whole = Array("*3\r\n$3\r\nabc\r\n:7\r\n+done\r\n".utf8)
        for cut in 0..<whole.count {
            var buffer = ByteBuffer(bytes: whole[..<cut])
            #expect(try RESP.decode(&buffer) == nil, "cut at \(cut)")
            #expect(buffer.readableBytes == cut)
            buffer.writeBytes(whole[cut...])
            #expect(
                try RESP.decode(&buffer)
                    == .array([.bulkString(Array("abc".utf8)), .integer(7), .simpleString("done")]))
        }
    }

    @Test(arguments: [
        ("$2000\r\n", "a bulk string of 2000 bytes (at most 1000)"),
        ("*20\r\n", "an array of 20 elements (at most 10)"),
        ("*1\r\n*1\r\n*1\r\n:1\r\n", "arrays nested deeper than 2"),
        (":12x\r\n", "12x is not an integer"),
        ("$-2\r\n", "a bulk string of -2 bytes (at most 1000)"),
        ("?\r\n", "unknown reply type byte 63"),
        ("+a\rb\r\n", "CR not followed by LF"),
        ("$1\r\nab\r\n", "a bulk string not ended by CRLF"),
        ("+" + String(repeating: "a", count: 200), "a line longer than 100 bytes"),
    ])
    func limitsRefuseBadReplies(input: String, message: String) {
        let limits = RESP.Limits(maxBulkBytes: 1000, maxArrayCount: 10, maxLineBytes: 100, maxDepth: 2)
        var buffer = ByteBuffer(string: input)
        #expect(throws: RESP.ProtocolError(description: message)) { try RESP.decode(&buffer, limits: limits) }
    }

    @Test func encodesCommandsAsBulkStringArrays() {
        var buffer = ByteBuffer()
        RESP.encode(["INCRBY", "k é", "5"], into: &buffer)
        #expect(String(buffer: buffer) == "*3\r\n$6\r\nINCRBY\r\n$4\r\nk é\r\n$1\r\n5\r\n")
    }
}
