import GRPCCore
import GRPCNIOTransportHTTP2
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
        if let shared = response.sharedHead {
            return shared.wholeResponse(typeURL: typeURL, nonce: response.nonce)
        }
        let head = ResponseHead(.sotw, versionInfo: response.versionInfo, resources: response.resources, typeURL)
        let size = head.size + ProtobufWire.stringSize(4, typeURL) + ProtobufWire.stringSize(5, response.nonce)
        return ProtobufWire.write(size: size) { writer in
            head.write(into: &writer)
            writer.string(4, typeURL)
            writer.string(5, response.nonce)
        }
    }
}

/// What both responses begin with: the version (1) and every resource (2), all that comes
/// before the type URL. A state-of-the-world response holds each resource as an Any; a delta
/// response wraps it in a `Resource` of version, Any and name.
struct ResponseHead {
    var layout: SharedResponseHead.Layout
    var versionInfo: String
    var resources: [Resource]
    var typeURL: String

    init(_ layout: SharedResponseHead.Layout, versionInfo: String, resources: [Resource], _ typeURL: String) {
        self.layout = layout
        self.versionInfo = versionInfo
        self.resources = resources
        self.typeURL = typeURL
    }

    var size: Int {
        resources.reduce(ProtobufWire.stringSize(1, versionInfo)) { $0 + ProtobufWire.messageSize(2, entrySize($1)) }
    }

    private func entrySize(_ resource: Resource) -> Int {
        let any = ProtobufWire.anySize(resource, typeURL: typeURL)
        switch layout {
        case .sotw: return any
        case .delta:
            return ProtobufWire.stringSize(1, resource.version) + ProtobufWire.messageSize(2, any)
                + ProtobufWire.stringSize(3, resource.name)
        }
    }

    /// Writes the head, or copies `shared`, the same head encoded before.
    func write(into writer: inout ProtobufWire, shared: SharedResponseHead? = nil) {
        if let shared {
            shared.bytes.withUnsafeBytes { writer.copy($0) }
            return
        }
        writer.string(1, versionInfo)
        for resource in resources {
            writer.header(2, length: entrySize(resource))
            switch layout {
            case .sotw:
                writer.any(resource, typeURL: typeURL)
            case .delta:
                writer.string(1, resource.version)
                writer.header(2, length: ProtobufWire.anySize(resource, typeURL: typeURL))
                writer.any(resource, typeURL: typeURL)
                writer.string(3, resource.name)
            }
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
    /// The whole response built on this head (a state-of-the-world response, or a delta response
    /// that removes nothing) and its nonce, the same for every stream that sends it: then each
    /// stream's response is the same bytes, made by the first stream that sends it and handed to
    /// every other. The transport copies them into its frames and never changes them, so a push
    /// costs no encoding, zeroing or copy of its own per stream.
    private let whole: Mutex<Whole>

    private struct Whole {
        var nonce: UInt64
        var nonceText: String
        var response: WholeResponse?
    }

    /// The bytes types that may be shared between threads: grpc-swift's NIO bytes and ours (the
    /// two transports), and arrays (tests). Other types are made again by every stream.
    private enum WholeResponse: Sendable {
        case transport(GRPCNIOTransportBytes)
        case nio(ADSMessageBytes)
        case array([UInt8])

        init?(_ bytes: some GRPCContiguousBytes) {
            if let bytes = bytes as? GRPCNIOTransportBytes {
                self = .transport(bytes)
            } else if let bytes = bytes as? ADSMessageBytes {
                self = .nio(bytes)
            } else if let bytes = bytes as? [UInt8] {
                self = .array(bytes)
            } else {
                return nil
            }
        }

        func bytes<Bytes: GRPCContiguousBytes>(as: Bytes.Type) -> Bytes? {
            switch self {
            case .transport(let bytes): bytes as? Bytes
            case .nio(let bytes): bytes as? Bytes
            case .array(let bytes): bytes as? Bytes
            }
        }
    }

    init(_ layout: Layout, versionInfo: String, resources: [Resource], type: ResourceType) {
        let head = ResponseHead(layout, versionInfo: versionInfo, resources: resources, type.typeURL)
        bytes = ProtobufWire.write(size: head.size) { head.write(into: &$0) }
        let nonce = ResponseNonces.next()
        whole = Mutex(Whole(nonce: nonce, nonceText: String(nonce), response: nil))
    }

    /// The nonce of the whole response, for a stream whose last nonce for the type was `last`:
    /// the shared one when it is newer. When the stream sent that one already (the same content
    /// again: load assignments owed after a cluster update, a subscription widened back), the
    /// head takes a new nonce, which the streams after this one share in turn.
    func nonce(after last: UInt64) -> (number: UInt64, text: String) {
        whole.withLock { whole in
            if whole.nonce <= last {
                whole.nonce = ResponseNonces.next()
                whole.nonceText = String(whole.nonce)
                whole.response = nil
            }
            return (whole.nonce, whole.nonceText)
        }
    }

    /// The head, the type URL (4) and `nonce` (5): a whole response, in either layout (their
    /// fields 4 and 5 are the same). Shared while `nonce` is the head's current one.
    func wholeResponse<Bytes: GRPCContiguousBytes>(typeURL: String, nonce: String) -> Bytes {
        let cached = whole.withLock { $0.nonceText == nonce ? $0.response : nil }
        if let made = cached?.bytes(as: Bytes.self) { return made }
        let size = bytes.count + ProtobufWire.stringSize(4, typeURL) + ProtobufWire.stringSize(5, nonce)
        let made: Bytes = ProtobufWire.write(size: size) { writer in
            bytes.withUnsafeBytes { writer.copy($0) }
            writer.string(4, typeURL)
            writer.string(5, nonce)
        }
        if let shared = WholeResponse(made) {
            whole.withLock { if $0.nonceText == nonce { $0.response = shared } }
        }
        return made
    }
}

/// Every ADS response's nonce comes from one counter, so the nonces a stream sends for a type
/// only increase. A stream may then give a whole response the nonce of its shared head (and so
/// send the very bytes every other stream sends) when that nonce is greater than the last it
/// sent for the type: it cannot have sent it before, and an answer to an older response still
/// differs from it.
enum ResponseNonces {
    private static let counter = Atomic<UInt64>(0)

    static func next() -> UInt64 { counter.add(1, ordering: .relaxed).newValue }

    /// The nonce of a stream's next response of a type whose last nonce was `last`: the shared
    /// head's, when the response is one, else a fresh one. `last` becomes it.
    static func take(after last: inout UInt64, sharing head: SharedResponseHead?) -> String {
        if let head {
            let (number, text) = head.nonce(after: last)
            last = number
            return text
        }
        last = next()
        return String(last)
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
            // Its whole response, once made, is about as large again.
            entries.insert(made, for: key, cost: 2 * made.bytes.count)
            return made
        }
    }
}

/// Shared heads of responses that carry part of a type: a delta update that changes most
/// clusters sends every stream that held them all the same ones (the same objects, in the same
/// order), and encoding them for each stream was most of such a push. A list is cached once a
/// second stream is sent it: one stream's own list (an initial subscription) costs a key, not a
/// cache entry that would push out the heads others share.
final class SharedListHeads: Sendable {
    private struct Key: Hashable {
        var layout: SharedResponseHead.Layout
        var type: ResourceType
        var version: String
        var count: Int
        /// The resources' addresses, folded in order: equal lists give equal keys; an entry is
        /// used only after its resources are checked to be the very objects asked for.
        var identity: UInt64
    }

    private final class Entry: Sendable {
        let head: SharedResponseHead
        /// Kept alive with the head, so no other object can take one of their addresses.
        let resources: [Resource]
        init(head: SharedResponseHead, resources: [Resource]) {
            self.head = head
            self.resources = resources
        }
    }

    private struct State {
        var entries: BoundedCache<Key, Entry>
        var seen: Set<Key> = []
    }

    static let shared = SharedListHeads(budget: 32 << 20)
    /// Shorter lists are encoded by each stream: sharing them would save less than it costs.
    static let minimumCount = 64
    private static let seenLimit = 4096

    private let state: Mutex<State>

    init(budget: Int) { state = Mutex(State(entries: BoundedCache(budget: budget))) }

    /// The shared head for `resources` of `type` at `versionInfo`, or nil the first time a list
    /// is asked for (and for short lists): then the stream encodes its own.
    func head(
        _ layout: SharedResponseHead.Layout, _ type: ResourceType, versionInfo: String, resources: [Resource]
    ) -> SharedResponseHead? {
        guard resources.count >= Self.minimumCount else { return nil }
        var identity: UInt64 = 0xcbf2_9ce4_8422_2325
        for resource in resources {
            identity = (identity ^ UInt64(UInt(bitPattern: ObjectIdentifier(resource)))) &* 0x100_0000_01b3
        }
        let key = Key(layout: layout, type: type, version: versionInfo, count: resources.count, identity: identity)
        let found: Entry?? = state.withLock { state in
            if let entry = state.entries[key] { return .some(entry) }
            if state.seen.contains(key) { return .some(nil) }
            if state.seen.count >= Self.seenLimit { state.seen.removeAll(keepingCapacity: true) }
            state.seen.insert(key)
            return .none
        }
        switch found {
        case .none:
            return nil
        case .some(.some(let entry)):
            return zip(entry.resources, resources).allSatisfy { $0 === $1 } ? entry.head : nil
        case .some(.none):
            // Encoded outside the lock; a stream that races this one may encode it too.
            let head = SharedResponseHead(layout, versionInfo: versionInfo, resources: resources, type: type)
            let entry = Entry(head: head, resources: resources)
            state.withLock { state in
                state.seen.remove(key)
                // The resources it keeps alive may be about as large as the head, and so is its
                // whole response once made.
                state.entries.insert(entry, for: key, cost: 3 * head.bytes.count)
            }
            return head
        }
    }
}

/// Encodes `DeltaResponse` as `envoy.service.discovery.v3.DeltaDiscoveryResponse`; each resource
/// is a `Resource` of version (1), the packed resource (2) and name (3).
struct DeltaResponseSerializer: MessageSerializer {
    func serialize<Bytes: GRPCContiguousBytes>(_ response: DeltaResponse) throws -> Bytes {
        let typeURL = response.type.typeURL
        if let shared = response.sharedHead, response.removedResources.isEmpty {
            return shared.wholeResponse(typeURL: typeURL, nonce: response.nonce)
        }
        let head = ResponseHead(
            .delta, versionInfo: response.systemVersionInfo, resources: response.resources, typeURL)
        var size = response.sharedHead?.bytes.count ?? head.size
        size += ProtobufWire.stringSize(4, typeURL) + ProtobufWire.stringSize(5, response.nonce)
        for name in response.removedResources { size += ProtobufWire.stringSize(6, name, always: true) }
        return ProtobufWire.write(size: size) { writer in
            head.write(into: &writer, shared: response.sharedHead)
            writer.string(4, typeURL)
            writer.string(5, response.nonce)
            for name in response.removedResources { writer.string(6, name, always: true) }
        }
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
        stringSize(1, typeURL) + (resource.serializedSize == 0 ? 0 : messageSize(2, resource.serializedSize))
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
        guard resource.serializedSize != 0 else { return }
        header(2, length: resource.serializedSize)
        resource.withEncodedPieces { copy($0) }
    }

    mutating func copy(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        (buffer.baseAddress! + offset).copyMemory(from: base, byteCount: bytes.count)
        offset += bytes.count
    }
}
