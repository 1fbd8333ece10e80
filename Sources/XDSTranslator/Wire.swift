/// Protobuf's binary wire format, for the few messages written by hand: those SwiftProtobuf
/// would build and size again for every resource (the source tag, the naming fields of a
/// cluster, load assignments). Each is checked against SwiftProtobuf's own encoding in tests.
enum Wire {
    static func varint(_ value: Int, into bytes: inout [UInt8]) {
        var value = UInt64(value)
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    static func field(_ number: Int, _ content: some Collection<UInt8>, into bytes: inout [UInt8]) {
        header(number, content.count, into: &bytes)
        bytes += content
    }

    /// The key and length that open a length-delimited field of `length` bytes.
    static func header(_ number: Int, _ length: Int, into bytes: inout [UInt8]) {
        varint(number << 3 | 2, into: &bytes)
        varint(length, into: &bytes)
    }

    static func string(_ number: Int, _ text: String, into bytes: inout [UInt8]) {
        header(number, text.utf8.count, into: &bytes)
        bytes += text.utf8
    }

    static func string(_ number: Int, _ text: StaticString, into bytes: inout [UInt8]) {
        header(number, text.utf8CodeUnitCount, into: &bytes)
        text.withUTF8Buffer { bytes += $0 }
    }

    static func varintSize(_ value: Int) -> Int {
        var value = UInt64(value)
        var size = 1
        while value >= 0x80 {
            value >>= 7
            size += 1
        }
        return size
    }

    /// A length-delimited field's whole size: key, length and `length` bytes of content.
    static func lengthSize(_ number: Int, _ length: Int) -> Int {
        varintSize(number << 3 | 2) + varintSize(length) + length
    }

    static func stringSize(_ number: Int, _ byteCount: Int) -> Int { lengthSize(number, byteCount) }
}

extension Wire {
    /// A varint field: its key, then the value. Proto3 leaves out a zero; callers check.
    static func varintField(_ number: Int, _ value: Int, into bytes: inout [UInt8]) {
        varint(number << 3, into: &bytes)
        varint(value, into: &bytes)
    }

    static func varintFieldSize(_ number: Int, _ value: Int) -> Int { varintSize(number << 3) + varintSize(value) }
}
