#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An address range as `sourceCIDR` writes it (`10.1.0.0/16`, `2001:db8::/32`).
public enum CIDR {
    /// The range with its host bits cleared, as Go's `net.ParseCIDR` prints it (`10.1.2.3/8` is
    /// `10.0.0.0/8`): the value Envoy's masked client address takes. Nil when it is not a CIDR.
    public static func canonical(_ text: String) -> String? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let length = Int(parts[1]), parts[1].allSatisfy(\.isASCII) else { return nil }
        let v6 = parts[0].contains(":")
        let family = v6 ? AF_INET6 : AF_INET
        let size = v6 ? 16 : 4
        guard (0...size * 8).contains(length) else { return nil }
        var bytes = [UInt8](repeating: 0, count: 16)
        guard inet_pton(family, String(parts[0]), &bytes) == 1 else { return nil }
        for index in 0..<size {
            let bits = max(0, min(8, length - index * 8))
            bytes[index] &= bits == 8 ? 0xFF : ~(0xFF >> bits)
        }
        var text = [CChar](repeating: 0, count: 64)
        guard inet_ntop(family, bytes, &text, socklen_t(text.count)) != nil else { return nil }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) + "/\(length)"
    }

    /// Whether `text` is an IPv4 or IPv6 address (not a hostname).
    public static func isAddress(_ text: String) -> Bool {
        var bytes = [UInt8](repeating: 0, count: 16)
        return inet_pton(text.contains(":") ? AF_INET6 : AF_INET, text, &bytes) == 1
    }
}
