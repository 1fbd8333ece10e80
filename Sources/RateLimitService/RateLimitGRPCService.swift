import EnvoyAPI
import GRPCCore
import Metrics
import SwiftProtobuf
import Synchronization

/// Envoy's rate limit API (`envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit`) over
/// a `FixedWindowLimiter`, with the limits of the last translation.
///
/// A store that fails or is slow ends the call with UNAVAILABLE within the store's timeout; each
/// Envoy then lets the request through or refuses it, as its `failure_mode_deny` says (Envoy
/// Gateway's default: through). Decisions are counted in `ratelimit_decisions_total{result}`.
public final class RateLimitGRPCService: Envoy_Service_Ratelimit_V3_RateLimitService.SimpleServiceProtocol {
    private let limiter: FixedWindowLimiter
    private let table = Mutex(RateLimitTable())
    private let decisions: (ok: Counter, overLimit: Counter, error: Counter)
    private let storeLatency: Timer

    public init(limiter: FixedWindowLimiter) {
        self.limiter = limiter
        let name = "ratelimit_decisions_total"
        decisions = (
            Counter(label: name, dimensions: [("result", "ok")]),
            Counter(label: name, dimensions: [("result", "over_limit")]),
            Counter(label: name, dimensions: [("result", "error")])
        )
        storeLatency = Timer(label: "ratelimit_store_seconds", preferredDisplayUnit: .seconds)
    }

    /// The limits to enforce from now on (after each reload).
    public func update(_ table: RateLimitTable) { self.table.withLock { $0 = table } }

    public var limits: RateLimitTable { table.withLock { $0 } }

    public func shouldRateLimit(
        request: Envoy_Service_Ratelimit_V3_RateLimitRequest, context: ServerContext
    ) async throws -> Envoy_Service_Ratelimit_V3_RateLimitResponse {
        try await respond(to: request)
    }

    /// The decision on one request; an error is UNAVAILABLE, with the store's reason.
    public func respond(to request: Envoy_Service_Ratelimit_V3_RateLimitRequest) async throws(RPCError)
        -> Envoy_Service_Ratelimit_V3_RateLimitResponse
    {
        let descriptors = request.descriptors.map { descriptor in
            FixedWindowLimiter.Descriptor(
                entries: descriptor.entries.map { .init(key: $0.key, value: $0.value) },
                hitsAddend: descriptor.hasHitsAddend ? descriptor.hitsAddend.value : nil,
                limitOverride: descriptor.hasLimit ? Self.override(descriptor.limit) : nil)
        }
        let start = ContinuousClock.now
        let decision: FixedWindowLimiter.Decision
        do {
            decision = try await limiter.decide(
                domain: request.domain, descriptors: descriptors, hitsAddend: UInt64(request.hitsAddend),
                table: limits)
        } catch {
            decisions.error.increment()
            throw RPCError(code: .unavailable, message: error.description)
        }
        storeLatency.recordNanoseconds(Int64((ContinuousClock.now - start).components.attoseconds / 1_000_000_000))
        (decision.overall == .ok ? decisions.ok : decisions.overLimit).increment()
        var response = Envoy_Service_Ratelimit_V3_RateLimitResponse()
        response.overallCode = decision.overall == .ok ? .ok : .overLimit
        response.statuses = decision.statuses.map(Self.status)
        return response
    }

    static func override(_ limit: Envoy_Extensions_Common_Ratelimit_V3_RateLimitDescriptor.RateLimitOverride)
        -> RateLimit?
    {
        let unit = unitNumbers.first { $0.value == limit.unit.rawValue }?.key
        return unit.map { RateLimit(requestsPerUnit: limit.requestsPerUnit, unit: $0) }
    }

    static func status(_ status: FixedWindowLimiter.Status)
        -> Envoy_Service_Ratelimit_V3_RateLimitResponse
        .DescriptorStatus
    {
        typealias Response = Envoy_Service_Ratelimit_V3_RateLimitResponse
        var result = Response.DescriptorStatus()
        result.code = status.code == .ok ? .ok : .overLimit
        result.limitRemaining = status.remaining
        // A limit that keeps out of the x-ratelimit-* headers is not named: Envoy builds the
        // headers from the statuses that carry one.
        if let limit = status.limit, !status.headersOff {
            var current = Response.RateLimit()
            current.requestsPerUnit = limit.requestsPerUnit
            current.unit = Response.RateLimit.Unit(rawValue: Self.unitNumbers[limit.unit] ?? 0) ?? .unknown
            result.currentLimit = current
        }
        if let reset = status.resetSeconds { result.durationUntilReset = Google_Protobuf_Duration(seconds: reset) }
        return result
    }

    /// Envoy's numbering of units in the response (`SECOND` = 1 … `YEAR` = 6, `WEEK` = 7).
    static let unitNumbers: [RateLimit.Unit: Int] = [
        .second: 1, .minute: 2, .hour: 3, .day: 4, .month: 5, .year: 6, .week: 7,
    ]
}
