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

    /// Version of a set of resources: hash of the sorted `name version` lines.
    public static func version(ofNamedVersions pairs: [(name: String, version: String)]) -> String {
        var hasher = SHA256()
        for (name, version) in pairs.sorted(by: { $0.name < $1.name }) {
            hasher.update(data: Data(name.utf8))
            hasher.update(data: [0])
            hasher.update(data: Data(version.utf8))
            hasher.update(data: [0x0A])
        }
        return hex(hasher.finalize())
    }

    private static func hex(_ digest: SHA256.Digest) -> String {
        var out = ""
        out.reserveCapacity(16)
        for byte in digest.prefix(8) {
            out += String(byte, radix: 16).leftPadded(to: 2)
        }
        return out
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
