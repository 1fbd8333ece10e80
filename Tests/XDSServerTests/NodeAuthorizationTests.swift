import Testing

@testable import XDSServer

@Suite("Node authorization by SPIFFE ID")
struct NodeAuthorizationTests {
    @Test(
        "a SPIFFE ID of exactly spiffe://<trust-domain>/ns/<namespace>/gateway/<name> names that gateway",
        arguments: [
            ("spiffe://switchboard/ns/default/gateway/eg", "default/eg"),
            ("spiffe://example.org/ns/team-a/gateway/edge.v2", "team-a/edge.v2"),
            ("spiffe://prod_cluster-1.example/ns/kube-system/gateway/Internal_GW", "kube-system/Internal_GW"),
        ])
    func goodForms(uri: String, gateway: String) {
        #expect(NodeAuthorization.gateway(named: uri) == gateway)
        #expect(NodeAuthorization.denial(uriSANs: [uri], nodeGroup: gateway) == nil)
    }

    @Test(
        "a URI that only ends like a gateway's SPIFFE ID names no gateway",
        arguments: [
            // The review's attack: a query string whose tail looks like the wanted path.
            "spiffe://x/ns/default/gateway/other?/ns/default/gateway/eg",
            "spiffe://x/ns/default/gateway/eg?x=1",
            "spiffe://x/ns/default/gateway/other#/ns/default/gateway/eg",
            "spiffe://x/ns/default/gateway/eg#",
            // Extra, missing or empty path segments.
            "spiffe://x/extra/ns/default/gateway/eg",
            "spiffe://x/ns/default/gateway/eg/",
            "spiffe://x/ns/default/gateway/eg/more",
            "spiffe://x/ns/default/gateway",
            "spiffe://x//ns/default/gateway/eg",
            "spiffe://x/ns//gateway/eg",
            "spiffe://x/ns/./gateway/eg",
            "spiffe://x/ns/../gateway/eg",
            // Userinfo, port, an empty or uppercase trust domain.
            "spiffe://user@x/ns/default/gateway/eg",
            "spiffe://x:443/ns/default/gateway/eg",
            "spiffe:///ns/default/gateway/eg",
            "spiffe://X/ns/default/gateway/eg",
            // Percent-encoding that would decode to the wanted path.
            "spiffe://x/ns/default/gateway/e%67",
            "spiffe://x/ns/default%2Fgateway%2Feg/gateway/eg",
            // Other schemes, or the path alone.
            "SPIFFE://x/ns/default/gateway/eg",
            "https://x/ns/default/gateway/eg",
            "/ns/default/gateway/eg",
            "spiffe://x/NS/default/gateway/eg",
            "spiffe://x/ns/default/gateways/eg",
        ])
    func attackForms(uri: String) {
        #expect(NodeAuthorization.gateway(named: uri) == nil)
        let denial = NodeAuthorization.denial(uriSANs: [uri], nodeGroup: "default/eg")
        #expect(denial?.contains("is not of the form spiffe://<trust-domain>/ns/<namespace>/gateway/<name>") == true)
    }

    @Test("a certificate naming another gateway is refused, and the refusal says which one it names")
    func otherGateway() {
        let denial = NodeAuthorization.denial(uriSANs: ["spiffe://x/ns/default/gateway/other"], nodeGroup: "default/eg")
        #expect(denial?.contains("names gateway default/other") == true)
        #expect(denial?.contains("spiffe://<trust-domain>/ns/default/gateway/eg") == true)
    }

    @Test("a certificate with two URI SANs is refused even when one names the gateway")
    func twoURISANs() {
        let sans = ["spiffe://x/ns/default/gateway/eg", "spiffe://x/ns/default/gateway/other"]
        for gateway in ["default/eg", "default/other"] {
            let denial = NodeAuthorization.denial(uriSANs: sans, nodeGroup: gateway)
            #expect(denial?.contains("exactly one URI SAN") == true, "authorized for \(gateway) with two URI SANs")
        }
        #expect(NodeAuthorization.denial(uriSANs: [], nodeGroup: "default/eg")?.contains("it has none") == true)
    }
}
