import XDSCache

/// What a stream state machine answers: responses to write, in order, and what it learned.
public struct StreamOutput<Response: Sendable & Equatable>: Sendable, Equatable {
    public var responses: [Response] = []
    public var events: [StreamEvent] = []

    public init(responses: [Response] = [], events: [StreamEvent] = []) {
        self.responses = responses
        self.events = events
    }
}

/// The shape both protocol variants share, so one driver runs either over gRPC.
public protocol StreamStateMachine: Sendable {
    associatedtype Request: Sendable
    associatedtype Response: Sendable & Equatable

    init()
    mutating func receive(_ request: Request) -> StreamOutput<Response>
    mutating func update(_ snapshot: Snapshot) -> StreamOutput<Response>
    func status(of type: ResourceType) -> TypeStatus
}

extension SotWStreamStateMachine: StreamStateMachine {}
extension DeltaStreamStateMachine: StreamStateMachine {}
