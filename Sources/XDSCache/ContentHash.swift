import Crypto
import Foundation

/// Versions are content hashes, so equal content gives equal versions in every process:
/// a restarted server or another replica hands Envoy the versions it already holds.
public enum ContentHash {
    /// First 64 bits of SHA-256, in hex: short enough to read in a config dump, far from colliding
    /// among the few thousand versions a stream ever compares.
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

    /// The first 8 bytes of `digest` as 16 lowercase hex digits, written straight into the
    /// string: formatting each byte as a string of its own was a fifteenth of encoding a cluster.
    static func hex(_ digest: SHA256.Digest) -> String {
        let digits: StaticString = "0123456789abcdef"
        return digest.withUnsafeBytes { bytes in
            String(unsafeUninitializedCapacity: 16) { out in
                digits.withUTF8Buffer { digits in
                    for index in 0..<8 {
                        out[2 * index] = digits[Int(bytes[index] >> 4)]
                        out[2 * index + 1] = digits[Int(bytes[index] & 0x0F)]
                    }
                }
                return 16
            }
        }
    }
}
