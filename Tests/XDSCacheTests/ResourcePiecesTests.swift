import EnvoyAPI
import Foundation
import Testing
import XDSTesting

@testable import XDSCache

/// A resource kept in pieces, one of them shared, is the same resource as one kept whole: the
/// same bytes, version and size, and the server is handed the pieces in order.
@Suite struct ResourcePiecesTests {
    @Test(arguments: [0, 3, 7])
    func piecesAreTheWholeEncoding(split: Int) throws {
        let whole = try Resource(TestResources.edsCluster("web"))
        let bytes = [UInt8](whole.encoded)
        // Any cut of the bytes into own, shared, own again must read as the whole.
        let sharedCount = 5
        let own = Array(bytes[..<split] + bytes[(split + sharedCount)...])
        let shared = SharedBytes(Array(bytes[split..<(split + sharedCount)]))
        let pieces = Resource(
            Envoy_Config_Cluster_V3_Cluster.self, name: whole.name, own: own, split: split, shared: shared,
            references: whole.references)
        #expect(pieces.encoded == whole.encoded)
        #expect(pieces.version == whole.version)
        #expect(pieces.serializedSize == whole.serializedSize)
        #expect(pieces == whole)
        var handed: [UInt8] = []
        var count = 0
        pieces.withEncodedPieces {
            handed += $0
            count += 1
        }
        #expect(handed == bytes)
        #expect(count == 3)
    }

    @Test func aResourceWithoutSharedBytesIsItsOwn() throws {
        let whole = try Resource(TestResources.edsCluster("web"))
        let bytes = [UInt8](whole.encoded)
        let own = Resource(Envoy_Config_Cluster_V3_Cluster.self, name: whole.name, own: bytes, split: bytes.count)
        #expect(own.encoded == whole.encoded)
        #expect(own.version == whole.version)
    }
}
