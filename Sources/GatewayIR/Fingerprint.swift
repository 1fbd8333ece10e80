/// Two independent 64-bit hashes of a value. Two values with the same fingerprint are taken to
/// be equal: by chance that happens once in 2^128, and Swift's hash seed is random per process,
/// so no input can be made to collide on purpose. Lives with the IR because the IR's shared
/// parts (`OutOfLine`) keep theirs, and the Envoy translator's memo compares IR by them.
public struct Fingerprint: Hashable, Sendable {
    public var first: Int
    public var second: Int

    public init(_ value: some Hashable) {
        var first = Hasher()
        first.combine(0x9E37_79B9)
        first.combine(value)
        var second = Hasher()
        second.combine(0x85EB_CA6B)
        second.combine(value)
        self.first = first.finalize()
        self.second = second.finalize()
    }
}
