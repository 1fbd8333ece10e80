import Testing

@testable import GatewayAPI

/// A policy's field positions, kept compact: each path finds where it is written, and nothing
/// else is found (a prefix of a path, a longer path, a path not written).
@Suite struct FieldLocationsTests {
    static let text = """
        apiVersion: gateway.envoyproxy.io/v1alpha1
        kind: BackendTrafficPolicy
        metadata: {name: p, namespace: default}
        spec:
          targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: r}]
          retry:
            numRetries: 3
            retryOn: {triggers: [connect-failure, reset]}
          circuitBreaker:
            maxPendingRequests: 10
        """

    static func fields() throws -> FieldLocations {
        let set = ResourceSet.load([("p.yaml", text)])
        #expect(set.diagnostics.isEmpty, "\(set.diagnostics)")
        return try #require(set.backendTrafficPolicies.first).fields
    }

    @Test func findsEachWrittenPath() throws {
        let fields = try Self.fields()
        #expect(fields["spec.retry.numRetries"] == SourceLocation(file: "p.yaml", line: 7, column: 5))
        #expect(fields["spec.retry"] == SourceLocation(file: "p.yaml", line: 6, column: 3))
        #expect(fields["spec.retry.retryOn.triggers[1]"] == SourceLocation(file: "p.yaml", line: 8, column: 43))
        #expect(fields["spec.circuitBreaker.maxPendingRequests"] == SourceLocation(file: "p.yaml", line: 10, column: 5))
        #expect(fields.has("spec.targetRefs[0].kind"))
    }

    @Test func findsNothingElse() throws {
        let fields = try Self.fields()
        for path in [
            "spec.retr", "spec.retry.numRetries.x", "spec.retry.retryOn.triggers[2]", "spec.timeout", "metadata.nam",
        ] {
            #expect(!fields.has(path), "\(path)")
            #expect(fields[path] == nil, "\(path)")
        }
    }

    @Test func comparesByContent() throws {
        #expect(try Self.fields() == Self.fields())
        #expect(try Self.fields() != FieldLocations())
    }
}
