extension HTTPRoute {
    public struct HeaderValue: Sendable, Equatable {
        public var name: String
        public var value: String
    }

    public struct HeaderModifier: Sendable, Equatable {
        public var set: [HeaderValue] = []
        public var add: [HeaderValue] = []
        public var remove: [String] = []
    }

    public enum PathModifier: Sendable, Equatable {
        case replaceFullPath(String)
        case replacePrefixMatch(String)
    }

    public struct Redirect: Sendable, Equatable {
        public var scheme: String?
        public var hostname: String?
        public var path: PathModifier?
        public var port: Int?
        public var statusCode: Int

        public init(
            scheme: String? = nil, hostname: String? = nil, path: PathModifier? = nil, port: Int? = nil,
            statusCode: Int = 302
        ) {
            self.scheme = scheme
            self.hostname = hostname
            self.path = path
            self.port = port
            self.statusCode = statusCode
        }
    }

    public struct Rewrite: Sendable, Equatable {
        public var hostname: String?
        public var path: PathModifier?
    }

    public enum Filter: Sendable, Equatable {
        case requestHeaderModifier(HeaderModifier)
        case responseHeaderModifier(HeaderModifier)
        case requestRedirect(Redirect)
        case urlRewrite(Rewrite)
    }

    /// A rule's timeouts and retry are immutable objects: an optional of one is a pointer in
    /// every rule (most have neither), where inline they were 72 of a rule's 144 bytes, in the
    /// decoded route and again in the translator's view of it.
    public final class Timeouts: Sendable, Equatable {
        public let request: GatewayAPIDuration?
        public let backendRequest: GatewayAPIDuration?

        public init(request: GatewayAPIDuration?, backendRequest: GatewayAPIDuration?) {
            self.request = request
            self.backendRequest = backendRequest
        }

        public static func == (lhs: Timeouts, rhs: Timeouts) -> Bool {
            lhs === rhs || (lhs.request == rhs.request && lhs.backendRequest == rhs.backendRequest)
        }
    }

    public final class Retry: Sendable, Equatable {
        public let codes: [Int]
        public let attempts: Int?
        public let backoff: GatewayAPIDuration?

        public init(codes: [Int], attempts: Int?, backoff: GatewayAPIDuration?) {
            self.codes = codes
            self.attempts = attempts
            self.backoff = backoff
        }

        public static func == (lhs: Retry, rhs: Retry) -> Bool {
            lhs === rhs || (lhs.codes == rhs.codes && lhs.attempts == rhs.attempts && lhs.backoff == rhs.backoff)
        }
    }

    static let filterTypes = [
        "RequestHeaderModifier", "ResponseHeaderModifier", "RequestRedirect", "URLRewrite", "RequestMirror",
        "ExtensionRef", "CORS", "ExternalAuth",
    ]
    static let supportedFilterTypes = Array(filterTypes.prefix(4))

    static func filters(_ reader: ObjectReader) -> [Filter] {
        reader.objects("filters").compactMap { filter in
            filter.allowOnly([
                "type", "requestHeaderModifier", "responseHeaderModifier", "requestRedirect", "urlRewrite",
                "requestMirror", "extensionRef", "cors", "externalAuth",
            ])
            guard let type = filter.oneOf("type", filterTypes, required: true) else { return nil }
            switch type {
            case "RequestHeaderModifier":
                return filter.object("requestHeaderModifier", required: true).map {
                    .requestHeaderModifier(headerModifier($0))
                }
            case "ResponseHeaderModifier":
                return filter.object("responseHeaderModifier", required: true).map {
                    .responseHeaderModifier(headerModifier($0))
                }
            case "RequestRedirect":
                return filter.object("requestRedirect", required: true).map { .requestRedirect(redirect($0)) }
            case "URLRewrite":
                return filter.object("urlRewrite", required: true).map { redirect in
                    redirect.allowOnly(["hostname", "path"])
                    return .urlRewrite(
                        Rewrite(
                            hostname: redirect.string("hostname", format: .hostname(wildcard: false)),
                            path: pathModifier(redirect)))
                }
            default:
                filter.context.report(
                    at: filter.location, .notAllowed, "\(filter.path).type",
                    "\(type) filters are not supported yet; supported: \(supportedFilterTypes.joined(separator: ", "))")
                return nil
            }
        }
    }

    static func headerModifier(_ reader: ObjectReader) -> HeaderModifier {
        reader.allowOnly(["set", "add", "remove"])
        func values(_ key: String) -> [HeaderValue] {
            reader.objects(key).compactMap { header in
                header.allowOnly(["name", "value"])
                guard let name = header.string("name", required: true, format: .headerName),
                    let value = header.string("value", required: true, format: .text(maxLength: 4096))
                else { return nil }
                return HeaderValue(name: name, value: value)
            }
        }
        return HeaderModifier(
            set: values("set"), add: values("add"), remove: reader.strings("remove", format: .headerName))
    }

    static func redirect(_ reader: ObjectReader) -> Redirect {
        reader.allowOnly(["scheme", "hostname", "path", "port", "statusCode"])
        let status = reader.scalar("statusCode").flatMap(Int.init)
        if let status, ![301, 302].contains(status) {
            reader.context.report(
                at: reader.location, .notAllowed, "\(reader.path).statusCode",
                "\(status) is not allowed: must be one of 301, 302")
        }
        return Redirect(
            scheme: reader.oneOf("scheme", ["http", "https"]),
            hostname: reader.string("hostname", format: .hostname(wildcard: false)),
            path: pathModifier(reader), port: reader.int("port", range: 1...65535), statusCode: status ?? 302)
    }

    static func pathModifier(_ reader: ObjectReader) -> PathModifier? {
        guard let path = reader.object("path") else { return nil }
        path.allowOnly(["type", "replaceFullPath", "replacePrefixMatch"])
        let type = path.oneOf("type", ["ReplaceFullPath", "ReplacePrefixMatch"], required: true)
        // Gateway API's CRD allows only the field its type names (a CEL rule).
        for (field, owner) in [("replaceFullPath", "ReplaceFullPath"), ("replacePrefixMatch", "ReplacePrefixMatch")]
        where type != nil && type != owner && path.has(field) {
            path.report(field, .notAllowed, "\(field) cannot be set when the path type is \(type!); remove it")
        }
        switch type {
        case "ReplaceFullPath": return path.string("replaceFullPath", required: true).map { .replaceFullPath($0) }
        case "ReplacePrefixMatch":
            return path.string("replacePrefixMatch", required: true).map { .replacePrefixMatch($0) }
        default: return nil
        }
    }

    static func timeouts(_ reader: ObjectReader) -> Timeouts? {
        guard let timeouts = reader.object("timeouts") else { return nil }
        timeouts.allowOnly(["request", "backendRequest"])
        return Timeouts(request: timeouts.duration("request"), backendRequest: timeouts.duration("backendRequest"))
    }

    static func retry(_ reader: ObjectReader) -> Retry? {
        guard let retry = reader.object("retry") else { return nil }
        retry.allowOnly(["codes", "attempts", "backoff"])
        let codes = retry.list("codes").enumerated().compactMap { index, node -> Int? in
            guard let text = node.text, let code = Int(text), (400...599).contains(code) else {
                retry.context.report(
                    at: retry.location, .outOfRange, "\(retry.path).codes[\(index)]",
                    "must be an HTTP status code from 400 to 599")
                return nil
            }
            return code
        }
        return Retry(
            codes: codes, attempts: retry.int("attempts", range: 0...Int(Int32.max)), backoff: retry.duration("backoff")
        )
    }
}
