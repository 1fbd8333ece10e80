import EnvoyAPI
import NIOCore
import Synchronization
import XDSCache

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Decodes a stream's state-of-the-world requests, reusing the resource names of its last request
/// of the same type when their bytes are equal. Envoy repeats every name it subscribes to on every
/// ACK (a thousand load assignments), and a push to a thousand streams is a thousand such ACKs:
/// decoding their names was a tenth of the push's CPU, more with the allocator (perf). The names'
/// bytes and what they decode to are held once for every stream that sends them
/// (`EncodedNames.Cache`); a stream keeps a reference to them per type.
struct SotWRequestDecoder {
    private var last: [ResourceType: EncodedNames] = [:]

    mutating func decode(_ message: ByteBuffer) throws -> Envoy_Service_Discovery_V3_DiscoveryRequest {
        guard let names = message.withUnsafeReadableBytes(EncodedNames.span(in:)), names.count > 0 else {
            return try Envoy_Service_Discovery_V3_DiscoveryRequest(serializedBytes: ADSMessageBytes(message))
        }
        // The rest of the request (version, nonce, type, node, error) decodes as it is.
        var rest = ByteBufferAllocator().buffer(capacity: message.readableBytes - names.count)
        rest.writeBytes(message.readableBytesView[(message.readerIndex)..<(message.readerIndex + names.lowerBound)])
        rest.writeBytes(message.readableBytesView[(message.readerIndex + names.upperBound)...])
        var request = try Envoy_Service_Discovery_V3_DiscoveryRequest(serializedBytes: ADSMessageBytes(rest))
        let type = ResourceType(typeURL: request.typeURL)
        let encoded = try message.withUnsafeReadableBytes { bytes in
            let region = UnsafeRawBufferPointer(rebasing: bytes[names])
            if let type, let known = last[type], known.equals(region) { return known }
            return try EncodedNames.Cache.shared.names(encodedAs: region)
        }
        if let type { last[type] = encoded }
        request.resourceNames = encoded.names
        return request
    }
}

/// A request's `resource_names` field as it came over the wire, and the names it decodes to
/// (interned by `NameInterner`, so a stream comparing them with its subscription compares one
/// array with itself).
struct EncodedNames: Sendable {
    let bytes: [UInt8]
    let names: [String]

    func equals(_ region: UnsafeRawBufferPointer) -> Bool {
        bytes.withUnsafeBytes { $0.elementsEqualByMemory(region) }
    }

    /// Where a `DiscoveryRequest`'s `resource_names` (field 3) lie in its encoding; nil when
    /// the message does not parse or the field's records are not all together (then the message
    /// decodes as a whole, and any error is the decoder's).
    static func span(in bytes: UnsafeRawBufferPointer) -> Range<Int>? {
        var index = 0
        var start: Int?
        var end = 0
        var passed = false
        while index < bytes.count {
            let recordStart = index
            guard let key = bytes.varint(at: &index) else { return nil }
            switch key & 7 {
            case 0:
                guard bytes.varint(at: &index) != nil else { return nil }
            case 1:
                index += 8
            case 2:
                guard let length = bytes.varint(at: &index), length <= UInt64(bytes.count - index) else { return nil }
                index += Int(length)
            case 5:
                index += 4
            default:
                return nil
            }
            guard index <= bytes.count else { return nil }
            if key == 3 << 3 | 2 {
                if start == nil {
                    start = recordStart
                } else if passed {
                    return nil
                }
                end = index
            } else if start != nil {
                passed = true
            }
        }
        return start.map { $0..<end }
    }

    /// Every distinct encoding of names streams send, decoded once. Bounded like `NameInterner`:
    /// past `limit` bytes held, it forgets and starts again (streams keep what they hold).
    final class Cache: Sendable {
        static let shared = Cache(limitBytes: 64 << 20)

        private struct Key: Hashable {
            var bytes: [UInt8]

            func hash(into hasher: inout Hasher) {
                bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
            }

            static func == (lhs: Key, rhs: Key) -> Bool {
                lhs.bytes.withUnsafeBytes { left in rhs.bytes.withUnsafeBytes { left.elementsEqualByMemory($0) } }
            }
        }

        private struct State {
            var known: [Key: EncodedNames] = [:]
            var heldBytes = 0
        }

        private let limitBytes: Int
        private let state = Mutex(State())

        init(limitBytes: Int) {
            self.limitBytes = limitBytes
        }

        /// The names `region` (only `resource_names` records) decodes to.
        func names(encodedAs region: UnsafeRawBufferPointer) throws -> EncodedNames {
            let key = Key(bytes: Array(region))
            if let known = state.withLock({ $0.known[key] }) { return known }
            let decoded = try Envoy_Service_Discovery_V3_DiscoveryRequest(serializedBytes: key.bytes).resourceNames
            let made = EncodedNames(bytes: key.bytes, names: NameInterner.shared.list(decoded).names)
            return state.withLock { state in
                if let known = state.known[key] { return known }
                if state.heldBytes + key.bytes.count > limitBytes { state = State() }
                state.heldBytes += key.bytes.count
                state.known[key] = made
                return made
            }
        }
    }
}

extension UnsafeRawBufferPointer {
    /// A protobuf varint at `index`, which moves past it; nil if it runs past the end.
    fileprivate func varint(at index: inout Int) -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while index < count, shift < 64 {
            let byte = self[index]
            index += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return value }
            shift += 7
        }
        return nil
    }

    fileprivate func elementsEqualByMemory(_ other: UnsafeRawBufferPointer) -> Bool {
        guard count == other.count else { return false }
        guard count > 0, let left = baseAddress, let right = other.baseAddress else { return true }
        return memcmp(left, right, count) == 0
    }
}
