import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import ServiceLifecycle

/// The rate limit service on its own gRPC port, beside ADS: where Envoy's rate limit filter asks
/// (`ratelimit_cluster`). Plaintext HTTP/2, as Envoy's gRPC client speaks to a cluster without a
/// transport socket.
public final class RateLimitServer: Service, Sendable {
    public let service: RateLimitGRPCService
    private let server: GRPCServer<HTTP2ServerTransport.Posix>
    private let transport: HTTP2ServerTransport.Posix

    public init(host: String, port: Int, service: RateLimitGRPCService) {
        let address: GRPCNIOTransportCore.SocketAddress =
            host.contains(":") ? .ipv6(host: host, port: port) : .ipv4(host: host, port: port)
        transport = HTTP2ServerTransport.Posix(address: address, transportSecurity: .plaintext)
        self.service = service
        server = GRPCServer(transport: transport, services: [service])
    }

    /// The port actually bound (useful with port 0).
    public func listeningPort() async throws -> Int {
        let address = try await transport.listeningAddress
        return address.ipv4?.port ?? address.ipv6?.port ?? 0
    }

    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await server.serve()
        } onGracefulShutdown: {
            self.server.beginGracefulShutdown()
        }
    }
}
