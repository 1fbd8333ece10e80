import EnvoyAPI
import FoundationEssentials
import GatewayIR
import Parallel
import SwiftProtobuf
import XDSCache

/// HTTPListener's virtual hosts → Envoy RouteConfiguration, routes in the order given.
public enum RouteTranslator {
    public typealias RouteConfiguration = Envoy_Config_Route_V3_RouteConfiguration

    public static func routeConfiguration(_ ir: HTTPListener) throws -> RouteConfiguration {
        var config = RouteConfiguration()
        config.name = ir.name
        config.ignorePortInHostMatching = true
        config.virtualHosts = try ir.virtualHosts.map(virtualHost)
        return config
    }

    static func virtualHost(_ host: VirtualHost) throws -> Envoy_Config_Route_V3_VirtualHost {
        var virtualHost = Envoy_Config_Route_V3_VirtualHost()
        virtualHost.name = host.name
        virtualHost.domains = host.domains
        virtualHost.routes = try host.routes.map(route)
        if let metadata = host.metadata {
            try SourceMetadata.attach(metadata, to: &virtualHost, key: SourceMetadata.virtualHostKey)
        }
        return virtualHost
    }

    /// `routeConfiguration(ir)` as a resource, its bytes put together from each virtual host's
    /// encoding, taken from `memo` where the host is unchanged: one edited route among ten
    /// thousand encodes one virtual host, not all of them. The bytes are SwiftProtobuf's own
    /// deterministic encoding, which writes fields in number order: `name` (1), each of
    /// `virtual_hosts` (2), then every other field (all numbered above 2).
    ///
    /// Unchanged hosts that lay side by side in the last encoding are copied as one span, into
    /// bytes sized once: an edit of one host copies the bytes before and after it, where
    /// copying each host's bytes on its own into a growing array was half of this.
    static func routeConfigurationResource(_ ir: HTTPListener, memo: inout TranslationMemo) throws -> Resource {
        var withoutHosts = ir
        withoutHosts.virtualHosts = []
        var whole = try routeConfiguration(withoutHosts)
        var options = BinaryEncodingOptions()
        options.useDeterministicOrdering = true
        var head = RouteConfiguration()
        head.name = whole.name
        whole.name = ""
        let headBytes: [UInt8] = try head.serializedBytes(options: options)
        let tailBytes: [UInt8] = try whole.serializedBytes(options: options)
        // Taken out while it is used, so that it is changed in place.
        var entry = memo.parts.virtualHosts.removeValue(forKey: ir.name) ?? (.init(), Data(), memo.generation)
        let hosts = ir.virtualHosts
        let kept = hosts.indices.map { entry.hosts.made(for: hosts[$0], at: $0) }
        // Hosts the memo lacks (all of them on a first load) encode on every core.
        let hostOptions = options
        let made = try Parallel.results(hosts.indices.filter { kept[$0] == nil }.map { hosts[$0] }) {
            host -> [UInt8] in try virtualHost(host).serializedBytes(options: hostOptions)
        }.map { try $0.get() }
        let old = entry.encoded
        var size = headBytes.count + tailBytes.count
        for range in kept.compactMap({ $0 }) { size += Self.hostFieldSize(range.count) }
        for encoded in made { size += Self.hostFieldSize(encoded.count) }
        var data = Data(capacity: size)
        data.append(contentsOf: headBytes)
        // Where each host's encoding lies in the result: the memo keeps these, with the bytes.
        var placed: [Range<Int>] = []
        placed.reserveCapacity(hosts.count)
        var run: Range<Int>?  // unchanged hosts' bytes in `old`, yet to be copied
        var shift = 0  // from where the run lies in `old` to where it goes in `data`
        var encodings = made.makeIterator()
        for kept in kept {
            if let kept {
                let start = kept.lowerBound - (Self.hostFieldSize(kept.count) - kept.count)
                if let pending = run, pending.upperBound == start {
                    run = pending.lowerBound..<kept.upperBound
                } else {
                    if let pending = run { data.append(old[pending]) }
                    run = start..<kept.upperBound
                    shift = data.count - start
                }
                placed.append(kept.lowerBound + shift..<kept.upperBound + shift)
                memo.reused += 1
            } else {
                if let pending = run { data.append(old[pending]) }
                run = nil
                let encoded = encodings.next()!
                var header: [UInt8] = []
                Wire.header(virtualHostsField, encoded.count, into: &header)
                data.append(contentsOf: header)
                data.append(contentsOf: encoded)
                placed.append(data.count - encoded.count..<data.count)
            }
        }
        if let pending = run { data.append(old[pending]) }
        data.append(contentsOf: tailBytes)
        entry.hosts.keep(hosts, unchanged: kept.map { $0 != nil }) { placed[$0] }
        entry.encoded = data
        entry.generation = memo.generation
        memo.parts.virtualHosts[ir.name] = entry
        return Resource(RouteConfiguration.self, name: ir.name, encoded: data)
    }

    /// The bytes a `virtual_hosts` field of `length` bytes of content takes: key, length, content.
    static func hostFieldSize(_ length: Int) -> Int {
        Wire.varintSize(virtualHostsField << 3 | 2) + Wire.varintSize(length) + length
    }

    /// `RouteConfiguration.virtual_hosts`.
    static let virtualHostsField = 2

    static func route(_ ir: Route) throws -> Envoy_Config_Route_V3_Route {
        var route = Envoy_Config_Route_V3_Route()
        route.name = ir.name
        switch ir.path {
        case .exact(let path): route.match.path = path
        case .regularExpression(let regex): route.match.safeRegex.regex = regex
        case .prefix(let prefix):
            // Gateway API prefixes match whole segments: /api matches /api and /api/x, not /apix.
            let trimmed = prefix.count > 1 && prefix.hasSuffix("/") ? String(prefix.dropLast()) : prefix
            if trimmed == "/" { route.match.prefix = "/" } else { route.match.pathSeparatedPrefix = trimmed }
        }
        route.match.headers = ir.headers.map(headerMatcher)
        if let method = ir.method { route.match.headers.append(headerMatcher(.init(name: ":method", value: method))) }
        route.match.queryParameters = ir.queryParams.map { param in
            var matcher = Envoy_Config_Route_V3_QueryParameterMatcher()
            matcher.name = param.name
            matcher.stringMatch = stringMatcher(param)
            return matcher
        }
        switch ir.action {
        case .forward(let cluster):
            var action = EnvoyRouteAction()
            action.cluster = cluster
            for feature in actionFeatures { try feature.apply(ir, to: &action) }
            route.route = action
        case .redirect(let redirect):
            route.redirect = Redirect.action(redirect, match: ir.path)
        case .directResponse(let status):
            route.directResponse.status = UInt32(status)
        }
        for feature in features { try feature.apply(ir, to: &route) }
        return route
    }

    static func headerMatcher(_ match: Route.ValueMatch) -> Envoy_Config_Route_V3_HeaderMatcher {
        var matcher = Envoy_Config_Route_V3_HeaderMatcher()
        matcher.name = match.name
        matcher.stringMatch = stringMatcher(match)
        return matcher
    }

    static func stringMatcher(_ match: Route.ValueMatch) -> Envoy_Type_Matcher_V3_StringMatcher {
        var matcher = Envoy_Type_Matcher_V3_StringMatcher()
        switch match.kind {
        case .exact: matcher.exact = match.value
        case .regularExpression: matcher.safeRegex.regex = match.value
        case .suffix: matcher.suffix = match.value
        }
        return matcher
    }
}
