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
/// Gateway's default: through). Decisions are counted in `ratelimit_decisions_total{domain,result}`
/// and each descriptor's in `ratelimit_descriptor_decisions_total{domain,descriptor,result}`, the
/// descriptor named by its first entry's key (the route, or the shared rule), its result `ok`,
/// `over_limit`, `shadow_mode` (over, let through) or `no_limit`. Labels come from the
/// configured limits only (`other` for the rest): what a client sends cannot grow the metrics.
public final class RateLimitGRPCService: Envoy_Service_Ratelimit_V3_RateLimitService.SimpleServiceProtocol {
    private let limiter: FixedWindowLimiter
    private let table = Mutex(RateLimitTable())
    private let counters = Mutex([[String]: Counter]())
    private let storeLatency: Timer

    public init(limiter: FixedWindowLimiter) {
        self.limiter = limiter
        storeLatency = Timer(label: "ratelimit_store_seconds", preferredDisplayUnit: .seconds)
    }

    /// A decision counter, made once per label set (the metrics factory's lookup costs more).
    private func count(domain: String, descriptor: String? = nil, _ result: String) {
        let key = [domain, descriptor ?? "", result]
        let counter = counters.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter =
                if let descriptor {
                    Counter(
                        label: "ratelimit_descriptor_decisions_total",
                        dimensions: [("domain", domain), ("descriptor", descriptor), ("result", result)])
                } else {
                    Counter(label: "ratelimit_decisions_total", dimensions: [("domain", domain), ("result", result)])
                }
            counters[key] = counter
            return counter
        }
        counter.increment()
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
        let table = limits
        let known = table.domains[request.domain]
        let domain = known == nil ? "other" : request.domain
        let decision: FixedWindowLimiter.Decision
        // Failures and timeouts are timed too: a slow Redis must show in the latency, not only
        // as errors.
        defer {
            let (seconds, attoseconds) = (ContinuousClock.now - start).components
            storeLatency.recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
        }
        do {
            decision = try await limiter.decide(
                domain: request.domain, descriptors: descriptors, hitsAddend: UInt64(request.hitsAddend),
                table: table)
        } catch {
            count(domain: domain, "error")
            throw RPCError(code: .unavailable, message: error.description)
        }
        count(domain: domain, decision.overall == .ok ? "ok" : "over_limit")
        for (descriptor, status) in zip(descriptors, decision.statuses) {
            let first = descriptor.entries.first?.key
            let name = known?.contains { $0.key == first } == true ? first! : "other"
            let result =
                status.limit == nil
                ? "no_limit" : status.shadowed ? "shadow_mode" : status.code == .ok ? "ok" : "over_limit"
            count(domain: domain, descriptor: name, result)
        }
        var response = Envoy_Service_Ratelimit_V3_RateLimitResponse()
        response.overallCode = decision.overall == .ok ? .ok : .overLimit
        response.statuses = decision.statuses.map(Self.status)
        return response
    }

    static func override(_ limit: Envoy_Extensions_Common_Ratelimit_V3_RateLimitDescriptor.RateLimitOverride)
        -> RateLimit?
    {
        RateLimit.Unit(number: limit.unit.rawValue).map { RateLimit(requestsPerUnit: limit.requestsPerUnit, unit: $0) }
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
            current.unit = Response.RateLimit.Unit(rawValue: limit.unit.number) ?? .unknown
            result.currentLimit = current
        }
        if let reset = status.resetSeconds { result.durationUntilReset = Google_Protobuf_Duration(seconds: reset) }
        return result
    }
}
