import RegexEngine

extension TrafficSettings {
    /// `rateLimit`: local rules (Envoy's token buckets, per Envoy) and global ones (counted by
    /// the rate limit service, shared by every Envoy).
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
            /// Global only: `<policy-ns>/<policy-name>/rule/<index>`, as Envoy Gateway names it
            /// (the policy's name is set once the whole policy is read).
            public var name = ""
            /// Global only: one counter for every route the policy reaches, instead of one each.
            public var shared = false
            /// Global only: the limit read from the request's dynamic metadata instead.
            public var limitFromMetadata: MetadataKey?
            /// Global only: what a request counts for, on the request and on the response.
            public var requestCost: Cost?
            public var responseCost: Cost?

            public static let unitSeconds = [
                "Second": 1, "Minute": 60, "Hour": 3600, "Day": 86400, "Week": 604_800, "Month": 2_592_000,
                "Year": 31_536_000,
            ]
        }

        public struct MetadataKey: Sendable, Equatable {
            public var namespace: String
            public var key: String
        }

        /// `cost.request` / `cost.response`: a fixed number of hits (0 checks without counting),
        /// or the number in the request's dynamic metadata.
        public enum Cost: Sendable, Equatable {
            case number(UInt64)
            case metadata(MetadataKey)
        }

        public var local: [Rule]?
        public var global: [Rule]?
        public var problems: [String] = []

        init(_ reader: ObjectReader) {
            reader.allowOnly(["type", "global", "local"])
            let type = reader.oneOf("type", ["Global", "Local"])
            if let global = reader.object("global"), type != "Local" {
                global.allowOnly(["rules"])
                let readers = global.objects("rules", required: true)
                if readers.count > 256 {
                    global.report("rules", .outOfRange, "at most 256 global rules, not \(readers.count)")
                }
                self.global = readers.compactMap { Self.rule($0, global: true) }
                if let problem = self.global!.lazy.compactMap(Self.distinctInvertProblem).first {
                    problems.append(problem)
                }
                if let problem = self.global!.lazy.compactMap(Self.cidrProblem).first { problems.append(problem) }
                if let problem = self.global!.lazy.compactMap(Self.regexProblem).first { problems.append(problem) }
            }
            if type == "Global" && !reader.has("global") {
                problems.append("global configuration empty for rateLimit")
            }
            if let local = reader.object("local"), type != "Global" {
                local.allowOnly(["rules"])
                let readers = local.objects("rules")
                if readers.count > 16 {
                    local.report("rules", .outOfRange, "at most 16 local rules, not \(readers.count)")
                }
                self.local = readers.compactMap { Self.rule($0, global: false) }
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

        /// Names the global rules after their policy, `<ns>/<name>`.
        mutating func nameGlobalRules(policy: String) {
            guard global != nil else { return }
            for index in global!.indices { global![index].name = "\(policy)/rule/\(index)" }
        }

        /// Envoy Gateway refuses an inverted `Distinct` match (a count per value of something
        /// absent has no value to count by), with these words.
        static func distinctInvertProblem(_ rule: Rule) -> String? {
            for selector in rule.selectors {
                if selector.headers.contains(where: { $0.type == "Distinct" && $0.invert }) {
                    return "unable to translate rateLimit.Invert is not applicable for distinct header match type"
                }
                if selector.queryParams.contains(where: { $0.type == "Distinct" && $0.invert }) {
                    return
                        "unable to translate rateLimit.Invert is not applicable for distinct query parameter match type"
                }
            }
            return nil
        }

        /// A source CIDR must parse (Envoy Gateway's words for one that does not). An inverted one
        /// needs Envoy's `remote_address_match` action, which the Envoy API Switchboard is built
        /// with (xds-protos 1.85.0) does not have yet.
        static func cidrProblem(_ rule: Rule) -> String? {
            for cidr in rule.selectors.compactMap(\.sourceCIDR) {
                if CIDR.canonical(cidr.value) == nil {
                    return "unable to translate rateLimit: invalid CIDR address: \(cidr.value)"
                }
                if cidr.invert {
                    return
                        "unable to translate rateLimit: an inverted sourceCIDR is not supported for global rate limits yet"
                }
            }
            return nil
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

        static func rule(_ reader: ObjectReader, global: Bool) -> Rule? {
            reader.allowOnly(["clientSelectors", "limit", "cost", "shared", "shadowMode", "xRateLimitHeaders"])
            let selectors = reader.objects("clientSelectors").map(selector)
            if selectors.count > 8 { reader.report("clientSelectors", .outOfRange, "at most 8 clientSelectors") }
            var costs: (request: Cost?, response: Cost?) = (nil, nil)
            if let cost = reader.object("cost") {
                cost.allowOnly(["request", "response"])
                if !global {
                    if cost.has("response") {
                        cost.report("response", .notAllowed, "a local rate limit cannot charge a cost on the response")
                    }
                } else {
                    costs = (cost.object("request").flatMap(Self.cost), cost.object("response").flatMap(Self.cost))
                }
            }
            if !global && reader.has("shared") {
                reader.report("shared", .notAllowed, "shared is for global rate limits only")
            }
            guard let limit = reader.object("limit", required: true) else { return nil }
            limit.allowOnly(["requests", "unit", "fromMetadata"])
            var fromMetadata: MetadataKey?
            if let metadata = limit.object("fromMetadata") {
                if global {
                    fromMetadata = metadataKey(metadata)
                } else {
                    limit.report("fromMetadata", .notAllowed, "fromMetadata is for global rate limits only")
                }
            }
            // Envoy's token bucket needs max_tokens > 0: a local limit of 0 would be NACKed, not
            // enforced. A global limit of 0 refuses every request, as the rate limit service counts.
            guard
                let requests = limit.int(
                    "requests", required: true, range: (global ? 0 : 1)...TrafficSettings.uint32Max),
                let unit = limit.oneOf("unit", units, required: true)
            else { return nil }
            var rule = Rule(
                selectors: selectors, requests: requests, unit: unit, shadowMode: reader.bool("shadowMode") ?? false,
                xRateLimitHeaders: reader.oneOf("xRateLimitHeaders", ["Off", "DraftVersion03"]))
            if global {
                rule.shared = reader.bool("shared") ?? false
                rule.limitFromMetadata = fromMetadata
                (rule.requestCost, rule.responseCost) = costs
            }
            return rule
        }

        /// `{from: Number, number: N}` or `{from: Metadata, metadata: {namespace, key}}`.
        static func cost(_ reader: ObjectReader) -> Cost? {
            reader.allowOnly(["from", "number", "metadata"])
            guard let from = reader.oneOf("from", ["Number", "Metadata"], required: true) else { return nil }
            if reader.has("number") && reader.has("metadata") {
                reader.report(nil, .notAllowed, "only one of number or metadata can be specified")
                return nil
            }
            if from == "Number" {
                guard let number = reader.int("number", required: true, range: 0...Int.max) else { return nil }
                return .number(UInt64(number))
            }
            guard let metadata = reader.object("metadata", required: true).flatMap(metadataKey) else { return nil }
            return .metadata(metadata)
        }

        static func metadataKey(_ reader: ObjectReader) -> MetadataKey? {
            reader.allowOnly(["namespace", "key"])
            guard let namespace = reader.string("namespace", required: true),
                let key = reader.string("key", required: true)
            else { return nil }
            return MetadataKey(namespace: namespace, key: key)
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
