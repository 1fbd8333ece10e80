import EnvoyAPI
import Foundation
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
    static func routeConfigurationResource(_ ir: HTTPListener, memo: inout TranslationMemo) throws -> Resource {
        var withoutHosts = ir
        withoutHosts.virtualHosts = []
        var whole = try routeConfiguration(withoutHosts)
        var options = BinaryEncodingOptions()
        options.useDeterministicOrdering = true
        var head = RouteConfiguration()
        head.name = whole.name
        whole.name = ""
        var bytes: [UInt8] = try head.serializedBytes(options: options)
        // Hosts the memo lacks (all of them on a first load) encode on every core.
        var last = memo.parts.virtualHosts[ir.name]?.hosts ?? .init()
        let kept = ir.virtualHosts.indices.map { last.made(for: ir.virtualHosts[$0], at: $0) }
        let missing = ir.virtualHosts.indices.filter { kept[$0] == nil }.map { ir.virtualHosts[$0] }
        let hostOptions = options
        var made = Parallel.results(missing) { host -> [UInt8] in
            try virtualHost(host).serializedBytes(options: hostOptions)
        }.makeIterator()
        // Where each host's encoding lies in the result: the memo keeps slices of the resource's
        // own bytes, not a second copy of them.
        var placed: [Range<Int>] = []
        placed.reserveCapacity(ir.virtualHosts.count)
        for kept in kept {
            let length: Int
            if let kept {
                SourceMetadata.Wire.field(virtualHostsField, kept, into: &bytes)
                length = kept.count
                memo.reused += 1
            } else {
                let encoded = try made.next()!.get()
                SourceMetadata.Wire.field(virtualHostsField, encoded, into: &bytes)
                length = encoded.count
            }
            placed.append(bytes.count - length..<bytes.count)
        }
        bytes += try whole.serializedBytes(options: options) as [UInt8]
        let data = Data(bytes)
        let hosts = zip(ir.virtualHosts, placed).map { host, range in
            TranslationMemo.Part(ir: host, made: data[range])
        }
        memo.parts.virtualHosts[ir.name] = (.init(hosts), memo.generation)
        return Resource(RouteConfiguration.self, name: ir.name, encoded: data)
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
