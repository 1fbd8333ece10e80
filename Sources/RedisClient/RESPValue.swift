import NIOCore

/// A value in RESP2, the protocol Redis speaks: what a command returns.
public enum RESPValue: Sendable, Hashable {
    case simpleString(String)
    /// The server refused the command: `ERR ...`, `WRONGTYPE ...`.
    case error(String)
    case integer(Int64)
    /// Nil for the null bulk string (a key that does not exist).
    case bulkString([UInt8]?)
    /// Nil for the null array.
    case array([RESPValue]?)

    /// The value as an integer, when it is one (`INCRBY`, `TTL`, `EXPIRE` answer integers).
    public var integer: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }

    /// The value as text: a simple or bulk string.
    public var string: String? {
        switch self {
        case .simpleString(let text): text
        case .bulkString(let bytes?): String(decoding: bytes, as: UTF8.self)
        default: nil
        }
    }
}

/// RESP2 on the wire: commands out as arrays of bulk strings, replies in.
public enum RESP {
    /// Bounds on what a reply may make this process hold. A reply past them is a protocol error
    /// and closes the connection: a broken or hostile server must not cost memory. The commands
    /// a rate limiter sends get small replies.
    public struct Limits: Sendable {
        public var maxBulkBytes: Int
        public var maxArrayCount: Int
        public var maxLineBytes: Int
        public var maxDepth: Int
        /// Bytes received and not yet a whole reply: what a reply of many large parts may hold.
        public var maxBufferedBytes: Int

        public init(
            maxBulkBytes: Int = 1 << 20, maxArrayCount: Int = 4096, maxLineBytes: Int = 4096, maxDepth: Int = 8,
            maxBufferedBytes: Int = 4 << 20
        ) {
            self.maxBulkBytes = maxBulkBytes
            self.maxArrayCount = maxArrayCount
            self.maxLineBytes = maxLineBytes
            self.maxDepth = maxDepth
            self.maxBufferedBytes = maxBufferedBytes
        }
    }

    public struct ProtocolError: Error, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// Appends `command` (e.g. `["INCRBY", "key", "1"]`) to `buffer` as Redis reads it.
    public static func encode(_ command: [String], into buffer: inout ByteBuffer) {
        buffer.writeString("*\(command.count)\r\n")
        for argument in command {
            buffer.writeString("$\(argument.utf8.count)\r\n")
            buffer.writeString(argument)
            buffer.writeString("\r\n")
        }
    }

    /// Reads one whole reply from the front of `buffer`; nil (and `buffer` untouched) when it has
    /// only part of one.
    public static func decode(_ buffer: inout ByteBuffer, limits: Limits = Limits()) throws(ProtocolError)
        -> RESPValue?
    {
        var view = buffer
        guard let value = try value(&view, limits: limits, depth: 0) else { return nil }
        buffer = view
        return value
    }

    private static func value(_ buffer: inout ByteBuffer, limits: Limits, depth: Int) throws(ProtocolError)
        -> RESPValue?
    {
        guard let type = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return nil }
        guard let line = try line(&buffer, limits: limits) else { return nil }
        let text = line.dropFirst()
        switch type {
        case UInt8(ascii: "+"): return .simpleString(String(decoding: text, as: UTF8.self))
        case UInt8(ascii: "-"): return .error(String(decoding: text, as: UTF8.self))
        case UInt8(ascii: ":"): return .integer(try integer(text))
        case UInt8(ascii: "$"):
            let length = try integer(text)
            if length == -1 { return .bulkString(nil) }
            guard (0...Int64(limits.maxBulkBytes)).contains(length) else {
                throw ProtocolError(description: "a bulk string of \(length) bytes (at most \(limits.maxBulkBytes))")
            }
            guard buffer.readableBytes >= Int(length) + 2 else { return nil }
            let bytes = buffer.readBytes(length: Int(length))!
            guard buffer.readBytes(length: 2) == [13, 10] else {
                throw ProtocolError(description: "a bulk string not ended by CRLF")
            }
            return .bulkString(bytes)
        case UInt8(ascii: "*"):
            let count = try integer(text)
            if count == -1 { return .array(nil) }
            guard (0...Int64(limits.maxArrayCount)).contains(count) else {
                throw ProtocolError(description: "an array of \(count) elements (at most \(limits.maxArrayCount))")
            }
            guard depth < limits.maxDepth else {
                throw ProtocolError(description: "arrays nested deeper than \(limits.maxDepth)")
            }
            var elements: [RESPValue] = []
            elements.reserveCapacity(Int(count))
            for _ in 0..<count {
                guard let element = try value(&buffer, limits: limits, depth: depth + 1) else { return nil }
                elements.append(element)
            }
            return .array(elements)
        default:
            throw ProtocolError(description: "unknown reply type byte \(type)")
        }
    }

    /// The next line without its CRLF, type byte included; nil until the CRLF has arrived.
    private static func line(_ buffer: inout ByteBuffer, limits: Limits) throws(ProtocolError) -> [UInt8]? {
        let view = buffer.readableBytesView
        guard let cr = view.prefix(limits.maxLineBytes + 2).firstIndex(of: 13) else {
            if view.count > limits.maxLineBytes + 1 {
                throw ProtocolError(description: "a line longer than \(limits.maxLineBytes) bytes")
            }
            return nil
        }
        guard cr + 1 < view.endIndex else { return nil }
        guard view[cr + 1] == 10 else { throw ProtocolError(description: "CR not followed by LF") }
        let length = cr - view.startIndex
        let line = buffer.readBytes(length: length)!
        buffer.moveReaderIndex(forwardBy: 2)
        return line
    }

    private static func integer(_ text: ArraySlice<UInt8>) throws(ProtocolError) -> Int64 {
        guard let value = Int64(String(decoding: text, as: UTF8.self)) else {
            throw ProtocolError(description: "\(String(decoding: text, as: UTF8.self)) is not an integer")
        }
        return value
    }
}
