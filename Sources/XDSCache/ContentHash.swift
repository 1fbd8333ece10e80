import Crypto
import FoundationEssentials

/// Versions are content hashes, so equal content gives equal versions in every process:
/// a restarted server or another replica hands Envoy the versions it already holds.
public enum ContentHash {
    /// First 60 bits of SHA-256, in 15 hex digits: short enough to read in a config dump, far from
    /// colliding among the few thousand versions a stream ever compares, and short enough for a
    /// Swift string to keep inline (up to 15 bytes), so that the version of each of a snapshot's
    /// resources, and every stream's map of the versions it sent, costs no allocation (16 digits
    /// were 2.6 MB at 10000 routes).
    public static func version(of bytes: Data) -> String {
        hex(SHA256.hash(data: bytes))
    }

    /// `version(of:)` of bytes given in pieces, one after another.
    struct PieceHasher {
        private var sha = SHA256()

        mutating func update(_ bytes: UnsafeRawBufferPointer) { sha.update(bufferPointer: bytes) }

        var version: String { hex(sha.finalize()) }
    }

    /// Version of a set of resources: hash of the sorted `name version` lines.
    public static func version(ofNamedVersions pairs: [(name: String, version: String)]) -> String {
        version(ofSortedNamedVersions: pairs.sorted(by: { $0.name < $1.name }))
    }

    /// `version(ofNamedVersions:)` of pairs already sorted by name: a snapshot's resources are
    /// sorted once, not twice, and no bytes are copied to hash them (at 10000 routes, sorting and
    /// hashing again was a sixth of building a snapshot).
    static func version(ofSortedNamedVersions pairs: some Sequence<(name: String, version: String)>) -> String {
        var hasher = SHA256()
        for (name, version) in pairs {
            update(&hasher, name)
            withUnsafeBytes(of: UInt8(0)) { hasher.update(bufferPointer: $0) }
            update(&hasher, version)
            withUnsafeBytes(of: UInt8(0x0A)) { hasher.update(bufferPointer: $0) }
        }
        return hex(hasher.finalize())
    }

    private static func update(_ hasher: inout SHA256, _ text: String) {
        var text = text
        text.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
    }

    /// The first 60 bits of `digest` as 15 lowercase hex digits, written straight into the
    /// string: formatting each byte as a string of its own was a fifteenth of encoding a cluster.
    static func hex(_ digest: SHA256.Digest) -> String {
        let digits: StaticString = "0123456789abcdef"
        return digest.withUnsafeBytes { bytes in
            String(unsafeUninitializedCapacity: 15) { out in
                digits.withUTF8Buffer { digits in
                    for index in 0..<15 {
                        let byte = bytes[index / 2]
                        out[index] = digits[Int(index % 2 == 0 ? byte >> 4 : byte & 0x0F)]
                    }
                }
                return 15
            }
        }
    }
}
