import Testing

@testable import GatewayAPI

@Suite struct QuantityTests {
    /// Kubernetes' canonical spelling, which Envoy Gateway's messages print.
    @Test func canonical() {
        #expect(Quantity.canonical(1_000_000_000_000, binary: false) == "1T")
        #expect(Quantity.canonical(5000 << 20, binary: true) == "5000Mi")
        #expect(Quantity.canonical(2048 << 10, binary: true) == "2Mi")
        #expect(Quantity.canonical(1023, binary: false) == "1023")
        #expect(Quantity.canonical(1_500_000, binary: false) == "1500k")
        #expect(Quantity.canonical(0, binary: true) == "0")
    }
}
