import GatewayIR

/// Gateway API's route precedence within a virtual host (Envoy takes the first match):
/// exact paths, then regular expressions, then prefixes longest first; then a method match, then
/// more header matches, then more query parameter matches. Ties keep their order, which is the
/// order of the routes and their rules.
enum RoutePrecedence {
    static func sorted(_ routes: [Route]) -> [Route] {
        routes.enumerated().sorted { lhs, rhs in
            let (a, b) = (key(lhs.element), key(rhs.element))
            if a != b { return a.lexicographicallyPrecedes(b) }
            return lhs.offset < rhs.offset
        }.map(\.element)
    }

    /// Smaller sorts first.
    private static func key(_ route: Route) -> [Int] {
        let (kind, length): (Int, Int) =
            switch route.path {
            case .exact(let value): (0, value.count)
            case .regularExpression(let value): (1, value.count)
            case .prefix(let value): (2, value.count)
            }
        return [kind, -length, route.method == nil ? 1 : 0, -route.headers.count, -route.queryParams.count]
    }
}
