import GRPCCore
import SwiftProtobuf
import Synchronization
import XDSCache

// xDS responses written straight into gRPC's buffer from the snapshot's packed resources. Every
// stream of a node group is sent the same resources; building a protobuf message per stream and
// having SwiftProtobuf encode it again cost more than everything else a push does. Each resource
// is encoded once, when the snapshot is made (`Resource.packed`); a response is its fields'
// tags and lengths around those bytes, written in one pass into a buffer of the exact size. The
// bytes equal SwiftProtobuf's encoding of the same message (fields in number order, empty ones
// left out), which `WireEncodingTests` checks.

/// Encodes `SotWResponse` as `envoy.service.discovery.v3.DiscoveryResponse`. A response with a
/// shared head copies it in one piece: only the type URL (4) and the nonce (5) are its own.
struct SotWResponseSerializer: MessageSerializer {
    func serialize<Bytes: GRPCContiguousBytes>(_ response: SotWResponse) throws -> Bytes {
        let typeURL = response.type.typeURL
        let tail = ProtobufWire.stringSize(4, typeURL) + ProtobufWire.stringSize(5, response.nonce)
        if let head = response.sharedHead {
            return ProtobufWire.write(size: head.bytes.count + tail) { writer in
                head.bytes.withUnsafeBytes { writer.copy($0) }
                writer.string(4, typeURL)
                writer.string(5, response.nonce)
            }
        }
        return ProtobufWire.write(size: Self.headSize(response.versionInfo, response.resources, typeURL) + tail) {
            writer in
            Self.writeHead(response.versionInfo, response.resources, typeURL, into: &writer)
            writer.string(4, typeURL)
            writer.string(5, response.nonce)
        }
    }

    /// `version_info` (1) and every resource (2): all that comes before the type URL.
    static func headSize(_ versionInfo: String, _ resources: [Resource], _ typeURL: String) -> Int {
        var size = ProtobufWire.stringSize(1, versionInfo)
        for resource in resources {
            size += ProtobufWire.messageSize(2, ProtobufWire.anySize(resource, typeURL: typeURL))
        }
        return size
    }

    static func writeHead(
        _ versionInfo: String, _ resources: [Resource], _ typeURL: String, into writer: inout ProtobufWire
    ) {
        writer.string(1, versionInfo)
        for resource in resources {
            writer.header(2, length: ProtobufWire.anySize(resource, typeURL: typeURL))
            writer.any(resource, typeURL: typeURL)
        }
    }
}

/// The head of a response that carries a whole type (its version and every resource), encoded
/// once per version of the type and copied by every stream sent it in one piece: a thousand
/// streams cost one encoding and a thousand copies, not a thousand encodings of two thousand
/// resources each. State-of-the-world and delta responses lay resources out differently.
public final class SharedResponseHead: Sendable {
    public enum Layout: Sendable {
        case sotw
        case delta
    }

    let bytes: [UInt8]

    init(_ layout: Layout, versionInfo: String, resources: [Resource], type: ResourceType) {
        let typeURL = type.typeURL
        switch layout {
        case .sotw:
            bytes = ProtobufWire.write(size: SotWResponseSerializer.headSize(versionInfo, resources, typeURL)) {
                SotWResponseSerializer.writeHead(versionInfo, resources, typeURL, into: &$0)
            }
        case .delta:
            bytes = ProtobufWire.write(size: DeltaResponseSerializer.headSize(versionInfo, resources, typeURL)) {
                DeltaResponseSerializer.writeHead(versionInfo, resources, typeURL, into: &$0)
            }
        }
    }
}

/// The shared heads of the types' recent versions, keyed by layout, type and version (a content
/// hash): every snapshot with that content shares the entry.
final class SharedResponseHeads: Sendable {
    private struct Key: Hashable {
        var layout: SharedResponseHead.Layout
        var type: ResourceType
        var version: String
    }

    static let shared = SharedResponseHeads()

    /// Bytes kept: the current CDS and EDS heads of ten thousand routes, in both layouts, fit.
    private let entries = Mutex(BoundedCache<Key, SharedResponseHead>(budget: 32 << 20))

    /// The head for the whole of `type` in `snapshot`.
    func head(_ layout: SharedResponseHead.Layout, _ type: ResourceType, of snapshot: Snapshot) -> SharedResponseHead {
        let key = Key(layout: layout, type: type, version: snapshot.version(of: type))
        if let head = entries.withLock({ $0[key] }) { return head }
        // Encoded outside the lock: other types' streams need not wait for it.
        let made = SharedResponseHead(layout, versionInfo: key.version, resources: snapshot[type].sorted, type: type)
        return entries.withLock { entries in
            if let head = entries[key] { return head }
            entries.insert(made, for: key, cost: made.bytes.count)
            return made
        }
    }
}

/// Encodes `DeltaResponse` as `envoy.service.discovery.v3.DeltaDiscoveryResponse`; each resource
/// is a `Resource` of version (1), the packed resource (2) and name (3).
struct DeltaResponseSerializer: MessageSerializer {
    func serialize<Bytes: GRPCContiguousBytes>(_ response: DeltaResponse) throws -> Bytes {
        let typeURL = response.type.typeURL
        var size =
            response.sharedHead?.bytes.count
            ?? Self.headSize(response.systemVersionInfo, response.resources, typeURL)
        size += ProtobufWire.stringSize(4, typeURL) + ProtobufWire.stringSize(5, response.nonce)
        for name in response.removedResources { size += ProtobufWire.stringSize(6, name, always: true) }
        return ProtobufWire.write(size: size) { writer in
            if let head = response.sharedHead {
                head.bytes.withUnsafeBytes { writer.copy($0) }
            } else {
                Self.writeHead(response.systemVersionInfo, response.resources, typeURL, into: &writer)
            }
            writer.string(4, typeURL)
            writer.string(5, response.nonce)
            for name in response.removedResources { writer.string(6, name, always: true) }
        }
    }

    /// `system_version_info` (1) and every resource (2): all that comes before the type URL.
    static func headSize(_ versionInfo: String, _ resources: [Resource], _ typeURL: String) -> Int {
        var size = ProtobufWire.stringSize(1, versionInfo)
        for resource in resources {
            size += ProtobufWire.messageSize(2, Self.entrySize(resource, typeURL: typeURL))
        }
        return size
    }

    static func writeHead(
        _ versionInfo: String, _ resources: [Resource], _ typeURL: String, into writer: inout ProtobufWire
    ) {
        writer.string(1, versionInfo)
        for resource in resources {
            writer.header(2, length: Self.entrySize(resource, typeURL: typeURL))
            writer.string(1, resource.version)
            writer.header(2, length: ProtobufWire.anySize(resource, typeURL: typeURL))
            writer.any(resource, typeURL: typeURL)
            writer.string(3, resource.name)
        }
    }

    static func entrySize(_ resource: Resource, typeURL: String) -> Int {
        ProtobufWire.stringSize(1, resource.version)
            + ProtobufWire.messageSize(2, ProtobufWire.anySize(resource, typeURL: typeURL))
            + ProtobufWire.stringSize(3, resource.name)
    }
}

/// The few protobuf wire-format pieces these two messages need: varints, and length-delimited
/// fields (strings, bytes, messages) with field numbers below 16 (one tag byte).
struct ProtobufWire {
    private let buffer: UnsafeMutableRawBufferPointer
    private(set) var offset = 0

    init(_ buffer: UnsafeMutableRawBufferPointer) { self.buffer = buffer }

    /// A message of exactly `size` bytes, written by `body` into gRPC's buffer.
    static func write<Bytes: GRPCContiguousBytes>(size: Int, _ body: (inout ProtobufWire) -> Void) -> Bytes {
        var bytes = Bytes(repeating: 0, count: size)
        bytes.withUnsafeMutableBytes { buffer in
            var writer = ProtobufWire(buffer)
            body(&writer)
            // A size computed apart from the writing is the one way this can go wrong.
            precondition(writer.offset == size, "xDS response size mismatch: \(writer.offset) of \(size) bytes")
        }
        return bytes
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

    /// A length-delimited field of `length` bytes, with its tag and length.
    static func messageSize(_ field: Int, _ length: Int) -> Int { 1 + varintSize(length) + length }

    /// A string field; proto3 leaves an empty one out, unless it is an element of a repeated field.
    static func stringSize(_ field: Int, _ value: String, always: Bool = false) -> Int {
        let count = value.utf8.count
        return count == 0 && !always ? 0 : messageSize(field, count)
    }

    /// A `google.protobuf.Any`: type URL (1), the response's type's (every resource of a
    /// response has it), and value (2).
    static func anySize(_ resource: Resource, typeURL: String) -> Int {
        stringSize(1, typeURL) + (resource.encoded.isEmpty ? 0 : messageSize(2, resource.encoded.count))
    }

    mutating func varint(_ value: Int) {
        var value = UInt64(value)
        while value >= 0x80 {
            buffer[offset] = UInt8(truncatingIfNeeded: value) | 0x80
            offset += 1
            value >>= 7
        }
        buffer[offset] = UInt8(value)
        offset += 1
    }

    /// The tag (wire type 2) and length of a length-delimited field.
    mutating func header(_ field: Int, length: Int) {
        buffer[offset] = UInt8(field << 3 | 2)
        offset += 1
        varint(length)
    }

    mutating func string(_ field: Int, _ value: String, always: Bool = false) {
        var value = value
        value.withUTF8 { utf8 in
            guard !utf8.isEmpty || always else { return }
            header(field, length: utf8.count)
            copy(UnsafeRawBufferPointer(utf8))
        }
    }

    mutating func any(_ resource: Resource, typeURL: String) {
        string(1, typeURL)
        guard !resource.encoded.isEmpty else { return }
        header(2, length: resource.encoded.count)
        resource.encoded.withUnsafeBytes { copy($0) }
    }

    mutating func copy(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        (buffer.baseAddress! + offset).copyMemory(from: base, byteCount: bytes.count)
        offset += bytes.count
    }
}
