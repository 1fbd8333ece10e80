import EnvoyAPI
import GRPCCore

/// One ADS stream driven by a test or a benchmark: send requests, read responses, in order.
///
/// The stream lives while `body` runs; closing the request side when `body` returns ends it the
/// way an Envoy ends it, and `body` may also just stop reading to simulate a stuck client.
public struct ADSTestStream<Request: Sendable, Response: Sendable>: Sendable {
    private let requests: AsyncStream<Request>.Continuation
    public let responses: AsyncThrowingStream<Response, any Error>

    init(requests: AsyncStream<Request>.Continuation, responses: AsyncThrowingStream<Response, any Error>) {
        self.requests = requests
        self.responses = responses
    }

    public func send(_ request: Request) {
        requests.yield(request)
    }

    /// Ends the request side; the server then ends the stream.
    public func close() {
        requests.finish()
    }
}

public typealias SotWTestStream = ADSTestStream<
    Envoy_Service_Discovery_V3_DiscoveryRequest, Envoy_Service_Discovery_V3_DiscoveryResponse
>
public typealias DeltaTestStream = ADSTestStream<
    Envoy_Service_Discovery_V3_DeltaDiscoveryRequest, Envoy_Service_Discovery_V3_DeltaDiscoveryResponse
>

public enum ADSTestClient {
    public typealias Client<Transport: ClientTransport> = Envoy_Service_Discovery_V3_AggregatedDiscoveryService.Client<
        Transport
    >

    public static func node(id: String, cluster: String) -> Envoy_Config_Core_V3_Node {
        var node = Envoy_Config_Core_V3_Node()
        node.id = id
        node.cluster = cluster
        return node
    }

    /// Opens a state-of-the-world stream for the duration of `body`. `options`: e.g. with
    /// `waitForReady`, a connection that is slow to come up (a loaded machine) is waited for, where
    /// by default the stream fails when the first attempt does.
    public static func withSotWStream<Transport: ClientTransport, Result: Sendable>(
        _ client: Client<Transport>, options: CallOptions = .defaults,
        _ body: @Sendable (SotWTestStream) async throws -> Result
    ) async throws -> Result {
        try await withStream(body) { producer, consumer in
            try await client.streamAggregatedResources(
                options: options, requestProducer: producer, onResponse: consumer)
        }
    }

    /// Opens a delta stream for the duration of `body`.
    public static func withDeltaStream<Transport: ClientTransport, Result: Sendable>(
        _ client: Client<Transport>, _ body: @Sendable (DeltaTestStream) async throws -> Result
    ) async throws -> Result {
        try await withStream(body) { producer, consumer in
            try await client.deltaAggregatedResources(requestProducer: producer, onResponse: consumer)
        }
    }

    private static func withStream<Request: Sendable, Response: Sendable, Result: Sendable>(
        _ body: @Sendable (ADSTestStream<Request, Response>) async throws -> Result,
        call:
            @escaping @Sendable (
                _ producer: @escaping @Sendable (RPCWriter<Request>) async throws -> Void,
                _ consumer: @escaping @Sendable (StreamingClientResponse<Response>) async throws -> Void
            ) async throws -> Void
    ) async throws -> Result {
        let (requests, requestSink) = AsyncStream.makeStream(of: Request.self)
        let (responses, responseSink) = AsyncThrowingStream.makeStream(of: Response.self)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                do {
                    try await call(
                        { writer in
                            for await request in requests { try await writer.write(request) }
                        },
                        { response in
                            for try await message in response.messages { responseSink.yield(message) }
                            responseSink.finish()
                        })
                    responseSink.finish()
                } catch {
                    responseSink.finish(throwing: error)
                }
            }
            let stream = ADSTestStream(requests: requestSink, responses: responses)
            let outcome: Swift.Result<Result, any Error>
            do { outcome = .success(try await body(stream)) } catch { outcome = .failure(error) }
            requestSink.finish()
            try await group.waitForAll()
            return try outcome.get()
        }
    }
}
