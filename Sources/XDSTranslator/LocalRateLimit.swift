import EnvoyAPI
import GatewayIR
import SwiftProtobuf

/// RoutePolicy.rateLimit → the route's `typed_per_filter_config["envoy.filters.http.local_ratelimit"]`:
/// a default token bucket, and per rule a descriptor with its own bucket and the actions that
/// produce it (kept inside the filter config, not on the route action). The listener carries
/// the filter with no bucket of its own (docs/envoy-gateway-mapping.md §2.13).
enum LocalRateLimit: RouteFeature, SingleHTTPFilterFeature {
    static let filterName = "envoy.filters.http.local_ratelimit"
    static let statPrefix = "http_local_rate_limiter"
    typealias Config = Envoy_Extensions_Filters_Http_LocalRatelimit_V3_LocalRateLimit
    typealias Action = Envoy_Config_Route_V3_RateLimit.Action

    static func apply(_ ir: Route, to route: inout EnvoyRoute) throws {
        if let rateLimit = ir.policy.rateLimit {
            route.typedPerFilterConfig[filterName] = try .deterministic(config(rateLimit))
        }
    }

    static func filter(for listener: HTTPListener) throws -> EnvoyHTTPFilter? {
        listener.usesLocalRateLimit ? try EnvoyHTTPFilter(name: filterName, config: listenerFilter()) : nil
    }

    static func listenerFilter() -> Config {
        var config = Config()
        config.statPrefix = statPrefix
        config.maxDynamicDescriptors = Google_Protobuf_UInt32Value(10000)
        return config
    }

    static func config(_ ir: RoutePolicy.RateLimit) -> Config {
        var config = Config()
        config.statPrefix = statPrefix
        config.tokenBucket = bucket(ir.defaultBucket)
        var always = Envoy_Config_Core_V3_RuntimeFractionalPercent()
        always.defaultValue.numerator = 100
        always.defaultValue.denominator = .hundred
        config.filterEnabled = always
        config.filterEnforced = always
        config.enableXRatelimitHeaders = ir.headersOff ? .off : .draftVersion03
        config.alwaysConsumeDefaultTokenBucket = Google_Protobuf_BoolValue(false)
        // A rule naming several methods is one rate limit per method (a request has one), all
        // counting in one bucket: its descriptor goes once. Envoy Gateway writes it once per
        // method, and Envoy refuses the route configuration ("duplicate descriptor in the local
        // rate descriptor").
        var seen: [[Envoy_Extensions_Common_Ratelimit_V3_RateLimitDescriptor.Entry]] = []
        config.descriptors = ir.rules.compactMap { rule in
            var descriptor = Envoy_Extensions_Common_Ratelimit_V3_LocalRateLimitDescriptor()
            descriptor.entries = rule.entries.map { entry in
                var item = Envoy_Extensions_Common_Ratelimit_V3_RateLimitDescriptor.Entry()
                switch entry.source {
                case .maskedRemoteAddress:
                    // Envoy names these entries itself.
                    item.key = "masked_remote_address"
                    item.value = entry.value ?? ""
                case .remoteAddress:
                    item.key = "remote_address"
                default:
                    item.key = entry.key
                    item.value = entry.value ?? ""
                }
                return item
            }
            descriptor.tokenBucket = bucket(rule.bucket)
            guard !seen.contains(descriptor.entries) else { return nil }
            seen.append(descriptor.entries)
            return descriptor
        }
        config.rateLimits = ir.rules.map { rule in
            var rateLimit = Envoy_Config_Route_V3_RateLimit()
            rateLimit.actions = rule.entries.map(action)
            return rateLimit
        }
        return config
    }

    static func bucket(_ ir: RoutePolicy.RateLimit.Bucket) -> Envoy_Type_V3_TokenBucket {
        var bucket = Envoy_Type_V3_TokenBucket()
        bucket.maxTokens = UInt32(ir.requests)
        bucket.tokensPerFill = Google_Protobuf_UInt32Value(UInt32(ir.requests))
        bucket.fillInterval = Google_Protobuf_Duration(ir.fillInterval)
        return bucket
    }

    static func action(_ entry: RoutePolicy.RateLimit.Entry) -> Action {
        var action = Action()
        switch entry.source {
        case .headerMatch(let name, let value, let regex, let invert, let prefix):
            var match = Action.HeaderValueMatch()
            match.descriptorKey = entry.key
            match.descriptorValue = entry.value ?? entry.key
            match.expectMatch = Google_Protobuf_BoolValue(!invert)
            var header = Envoy_Config_Route_V3_HeaderMatcher()
            header.name = name
            if regex {
                header.stringMatch.safeRegex.regex = value
            } else if prefix {
                header.stringMatch.prefix = value
            } else {
                header.stringMatch.exact = value
            }
            match.headers = [header]
            action.headerValueMatch = match
        case .headerValue(let name):
            var headers = Action.RequestHeaders()
            headers.headerName = name
            headers.descriptorKey = entry.key
            action.requestHeaders = headers
        case .queryMatch(let name, let value, let regex, let invert):
            var match = Action.QueryParameterValueMatch()
            match.descriptorKey = entry.key
            match.descriptorValue = entry.value ?? entry.key
            match.expectMatch = Google_Protobuf_BoolValue(!invert)
            var parameter = Envoy_Config_Route_V3_QueryParameterMatcher()
            parameter.name = name
            if regex { parameter.stringMatch.safeRegex.regex = value } else { parameter.stringMatch.exact = value }
            match.queryParameters = [parameter]
            action.queryParameterValueMatch = match
        case .maskedRemoteAddress(let cidr, _):
            var masked = Action.MaskedRemoteAddress()
            let length = cidr.split(separator: "/").last.flatMap { UInt32($0) }
            if cidr.contains(":") {
                masked.v6PrefixMaskLen = Google_Protobuf_UInt32Value(length ?? 128)
            } else {
                masked.v4PrefixMaskLen = Google_Protobuf_UInt32Value(length ?? 32)
            }
            action.maskedRemoteAddress = masked
        case .remoteAddress:
            action.remoteAddress = Action.RemoteAddress()
        case .genericKey:
            var key = Action.GenericKey()
            key.descriptorKey = entry.key
            key.descriptorValue = entry.value ?? entry.key
            action.genericKey = key
        }
        return action
    }
}
