import RegexEngine

extension TrafficSettings {
    /// `rateLimit`: local rules are translated; a global one needs a rate limit service, which
    /// Switchboard does not run yet (the policy is then not accepted, with a condition saying so).
    public struct RateLimit: Sendable, Equatable {
        public struct Match: Sendable, Equatable {
            /// `Exact`, `RegularExpression` or `Distinct`.
            public var type: String
            public var name: String
            public var value: String?
            public var invert: Bool
        }

        public struct Selector: Sendable, Equatable {
            public var headers: [Match] = []
            public var methods: [(method: String, invert: Bool)] = []
            public var path: (type: String, value: String, invert: Bool)?
            /// `Exact` or `Distinct`.
            public var sourceCIDR: (type: String, value: String, invert: Bool)?
            public var queryParams: [Match] = []

            public static func == (lhs: Self, rhs: Self) -> Bool {
                lhs.headers == rhs.headers && lhs.methods.map(\.method) == rhs.methods.map(\.method)
                    && lhs.methods.map(\.invert) == rhs.methods.map(\.invert) && lhs.path?.type == rhs.path?.type
                    && lhs.path?.value == rhs.path?.value && lhs.path?.invert == rhs.path?.invert
                    && lhs.sourceCIDR?.type == rhs.sourceCIDR?.type && lhs.sourceCIDR?.value == rhs.sourceCIDR?.value
                    && lhs.sourceCIDR?.invert == rhs.sourceCIDR?.invert && lhs.queryParams == rhs.queryParams
            }
        }

        public struct Rule: Sendable, Equatable {
            public var selectors: [Selector]
            public var requests: Int
            /// Second, Minute, Hour, Day, Week, Month or Year.
            public var unit: String
            public var shadowMode: Bool
            /// `Off` or `DraftVersion03`; nil leaves Envoy Gateway's default (on).
            public var xRateLimitHeaders: String?

            public static let unitSeconds = [
                "Second": 1, "Minute": 60, "Hour": 3600, "Day": 86400, "Week": 604_800, "Month": 2_592_000,
                "Year": 31_536_000,
            ]
        }

        public var local: [Rule]?
        public var problems: [String] = []

        init(_ reader: ObjectReader) {
            reader.allowOnly(["type", "global", "local"])
            let type = reader.oneOf("type", ["Global", "Local"])
            if reader.has("global") && type != "Local" {
                problems.append(
                    "global rate limits need a rate limit service, which Switchboard does not run yet; use rateLimit.local"
                )
            }
            if let local = reader.object("local"), type != "Global" {
                local.allowOnly(["rules"])
                let readers = local.objects("rules")
                if readers.count > 16 {
                    local.report("rules", .outOfRange, "at most 16 local rules, not \(readers.count)")
                }
                self.local = readers.compactMap(Self.rule)
                let defaults = self.local!.filter(\.selectors.isEmpty)
                if defaults.count > 1 {
                    problems.append("local rateLimit can not have more than one rule without clientSelectors")
                }
                // Envoy Gateway stops at the first regex Envoy would refuse, and so does this.
                if let problem = self.local!.lazy.compactMap(Self.regexProblem).first { problems.append(problem) }
                if let base = defaults.first, let baseSeconds = Rule.unitSeconds[base.unit] {
                    for rule in self.local! where !rule.selectors.isEmpty {
                        if let seconds = Rule.unitSeconds[rule.unit], seconds % baseSeconds != 0 {
                            problems.append(
                                "local rateLimit rule limit unit must be a multiple of the default limit unit")
                        }
                    }
                }
            }
        }

        static func regexProblem(_ rule: Rule) -> String? {
            for selector in rule.selectors {
                let patterns =
                    (selector.headers + selector.queryParams).filter { $0.type == "RegularExpression" }.compactMap(
                        \.value)
                    + [selector.path].compactMap { $0?.type == "RegularExpression" ? $0?.value : nil }
                for pattern in patterns {
                    if let problem = RE2.problem(pattern) { return RE2.message(pattern, problem) }
                }
            }
            return nil
        }

        static let units = ["Second", "Minute", "Hour", "Day", "Week", "Month", "Year"]

        static func rule(_ reader: ObjectReader) -> Rule? {
            reader.allowOnly(["clientSelectors", "limit", "cost", "shared", "shadowMode", "xRateLimitHeaders"])
            let selectors = reader.objects("clientSelectors").map(selector)
            if selectors.count > 8 { reader.report("clientSelectors", .outOfRange, "at most 8 clientSelectors") }
            if let cost = reader.object("cost"), cost.has("response") {
                cost.report("response", .notAllowed, "a local rate limit cannot charge a cost on the response")
            }
            guard let limit = reader.object("limit", required: true) else { return nil }
            limit.allowOnly(["requests", "unit", "fromMetadata"])
            if limit.has("fromMetadata") {
                limit.report("fromMetadata", .notAllowed, "fromMetadata is for global rate limits only")
            }
            // Envoy's token bucket needs max_tokens > 0: a limit of 0 would be NACKed, not enforced.
            guard let requests = limit.int("requests", required: true, range: 1...TrafficSettings.uint32Max),
                let unit = limit.oneOf("unit", units, required: true)
            else { return nil }
            return Rule(
                selectors: selectors, requests: requests, unit: unit, shadowMode: reader.bool("shadowMode") ?? false,
                xRateLimitHeaders: reader.oneOf("xRateLimitHeaders", ["Off", "DraftVersion03"]))
        }

        static func selector(_ reader: ObjectReader) -> Selector {
            reader.allowOnly(["headers", "methods", "path", "sourceCIDR", "queryParams"])
            var selector = Selector()
            selector.headers = reader.objects("headers").compactMap { match($0, name: .headerName) }
            selector.queryParams = reader.objects("queryParams").compactMap { match($0, name: .text(maxLength: 256)) }
            selector.methods = reader.objects("methods").compactMap { method in
                method.allowOnly(["value", "invert"])
                guard let value = method.oneOf("value", HTTPRoute.methods, required: true) else { return nil }
                return (value, method.bool("invert") ?? false)
            }
            if let path = reader.object("path") {
                path.allowOnly(["type", "value", "invert"])
                selector.path = (
                    path.oneOf("type", ["Exact", "PathPrefix", "RegularExpression"]) ?? "PathPrefix",
                    path.string("value") ?? "/",
                    path.bool("invert") ?? false
                )
            }
            if let cidr = reader.object("sourceCIDR") {
                cidr.allowOnly(["type", "value", "invert"])
                if let value = cidr.string("value", required: true) {
                    selector.sourceCIDR = (
                        cidr.oneOf("type", ["Exact", "Distinct"]) ?? "Exact", value, cidr.bool("invert") ?? false
                    )
                }
            }
            if selector.headers.isEmpty && selector.methods.isEmpty && selector.path == nil
                && selector.sourceCIDR == nil
                && selector.queryParams.isEmpty
            {
                reader.report(
                    nil, .missingField, "a client selector needs headers, methods, path, sourceCIDR or queryParams")
            }
            return selector
        }

        static func match(_ reader: ObjectReader, name format: StringFormat) -> Match? {
            reader.allowOnly(["type", "name", "value", "invert"])
            let type = reader.oneOf("type", ["Exact", "RegularExpression", "Distinct"]) ?? "Exact"
            guard let name = reader.string("name", required: true, format: format) else { return nil }
            let value = reader.string("value")
            if type != "Distinct" && value == nil {
                reader.report("value", .missingField, "is required for \(type) matches")
            }
            return Match(type: type, name: name, value: value, invert: reader.bool("invert") ?? false)
        }
    }

    /// `faultInjection`: a delay, an abort, or both, each for a percentage of requests.
    public struct FaultInjection: Sendable, Equatable {
        public var delay: GatewayAPIDuration?
        public var delayPercentage = 100.0
        public var abortHTTPStatus: Int?
        public var abortGRPCStatus: Int?
        public var abortPercentage = 100.0

        init?(_ reader: ObjectReader) {
            reader.allowOnly(["delay", "abort"])
            if let delay = reader.object("delay") {
                delay.allowOnly(["fixedDelay", "percentage"])
                self.delay = delay.duration("fixedDelay")
                if !delay.has("fixedDelay") { delay.report("fixedDelay", .missingField, "is required") }
                delayPercentage = delay.double("percentage", range: 0...100) ?? 100
            }
            if let abort = reader.object("abort") {
                abort.allowOnly(
                    ["httpStatus", "grpcStatus", "percentage"],
                    aliases: ["status": "httpStatus", "httpStatusCode": "httpStatus"])
                abortHTTPStatus = abort.int("httpStatus", range: 200...600)
                abortGRPCStatus = abort.int("grpcStatus", range: 0...16)
                if abort.has("httpStatus") == abort.has("grpcStatus") {
                    abort.report(nil, .missingField, "needs exactly one of httpStatus or grpcStatus")
                }
                abortPercentage = abort.double("percentage", range: 0...100) ?? 100
            }
            if !reader.has("delay") && !reader.has("abort") {
                reader.report(nil, .missingField, "needs delay, abort or both")
                return nil
            }
        }
    }
}
