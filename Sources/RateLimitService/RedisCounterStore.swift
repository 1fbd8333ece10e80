import RedisClient
import Synchronization

/// Fixed-window counts in Redis, shared by every replica that points at it: each window is one
/// key, raised with INCRBY and given its expiry with EXPIRE in the same pipeline, as
/// envoyproxy/ratelimit does (same keys, so the two can share one Redis).
///
/// Never blocks for long: every command waits at most `timeout`, and after a failure new
/// connections are tried with a growing back-off (100 ms doubling to 5 s) while calls in between
/// fail at once.
public final class RedisCounterStore: CounterStore {
    private enum Phase {
        case idle
        case connecting(Task<RedisConnection, any Error>)
        case connected(RedisConnection)
        case waiting(until: ContinuousClock.Instant)
    }

    private struct State {
        var phase = Phase.idle
        var backoff = RedisCounterStore.firstBackoff
    }

    static let firstBackoff = Duration.milliseconds(100)
    static let maxBackoff = Duration.seconds(5)

    public let host: String
    public let port: Int
    private let timeout: Duration
    private let connectTimeout: Duration
    private let state = Mutex(State())

    /// `timeout` bounds each call; a connection is given `connectTimeout`, by default the same.
    public init(host: String, port: Int, timeout: Duration = .milliseconds(500), connectTimeout: Duration? = nil) {
        self.host = host
        self.port = port
        self.timeout = timeout
        self.connectTimeout = connectTimeout ?? timeout
    }

    public func increment(_ increments: [CounterIncrement]) async throws(CounterStoreError) -> [UInt64] {
        guard !increments.isEmpty else { return [] }
        let redis = try await connection()
        var commands: [[String]] = []
        commands.reserveCapacity(increments.count * 2)
        for increment in increments {
            commands.append(["INCRBY", increment.key, String(increment.hits)])
            commands.append(["EXPIRE", increment.key, String(increment.expirySeconds)])
        }
        let replies: [RESPValue]
        do {
            replies = try await redis.send(commands, timeout: timeout)
        } catch {
            throw .unavailable(error.description)
        }
        return try increments.indices.map { (index) throws(CounterStoreError) -> UInt64 in
            let reply = replies[index * 2]
            guard let count = reply.integer, count >= 0 else {
                throw .unavailable("Redis answered INCRBY \(increments[index].key) with \(reply)")
            }
            return UInt64(count)
        }
    }

    private enum Next {
        case use(RedisConnection)
        case await(Task<RedisConnection, any Error>)
        case fail(String)
    }

    /// The open connection, or a new one; while backing off, an error at once.
    private func connection() async throws(CounterStoreError) -> RedisConnection {
        let (host, port, connectTimeout) = (host, port, connectTimeout)
        let next = state.withLock { state -> Next in
            switch state.phase {
            case .connected(let redis) where redis.isActive: return .use(redis)
            case .connecting(let task): return .await(task)
            case .waiting(let until) where ContinuousClock.now < until:
                return .fail("Redis at \(host):\(port) failed; trying again in \(until - ContinuousClock.now)")
            default:
                let task = Task { () throws -> RedisConnection in
                    try await RedisConnection.connect(host: host, port: port, connectTimeout: connectTimeout)
                }
                state.phase = .connecting(task)
                return .await(task)
            }
        }
        switch next {
        case .use(let redis): return redis
        case .fail(let reason): throw .unavailable(reason)
        case .await(let task):
            do {
                let redis = try await task.value
                state.withLock { state in
                    if case .connecting(let current) = state.phase, current == task {
                        state.phase = .connected(redis)
                        state.backoff = Self.firstBackoff
                    }
                }
                return redis
            } catch {
                state.withLock { state in
                    if case .connecting(let current) = state.phase, current == task {
                        state.phase = .waiting(until: ContinuousClock.now + state.backoff)
                        state.backoff = min(state.backoff * 2, Self.maxBackoff)
                    }
                }
                throw .unavailable("\(error)")
            }
        }
    }
}
