import GatewayIR

/// Gateway API's route precedence within a virtual host (Envoy takes the first match):
/// exact paths, then regular expressions, then prefixes longest first; then a method match, then
/// more header matches, then more query parameter matches. Ties keep their order, which is the
/// order of the routes and their rules.
enum RoutePrecedence {
    static func sorted(_ routes: [Route]) -> [Route] {
        guard routes.count > 1 else { return routes }
        // Keys worked out once, and positions sorted rather than routes: a Route is a large value.
        let keys = routes.map(key)
        return routes.indices.sorted { a, b in
            keys[a] != keys[b] ? keys[a] < keys[b] : a < b
        }.map { routes[$0] }
    }

    /// Smaller sorts first.
    private static func key(_ route: Route) -> Key {
        // Lengths in bytes, as Envoy Gateway (Go) measures them; counting characters also
        // walked each path.
        let (kind, length): (Int, Int) =
            switch route.path {
            case .exact(let value): (0, value.utf8.count)
            case .regularExpression(let value): (1, value.utf8.count)
            case .prefix(let value): (2, value.utf8.count)
            }
        return Key(
            kind: kind, length: -length, method: route.method == nil ? 1 : 0, headers: -route.headers.count,
            queryParams: -route.queryParams.count)
    }

    /// Compared field by field, in declaration order.
    private struct Key: Equatable, Comparable {
        var kind: Int
        var length: Int
        var method: Int
        var headers: Int
        var queryParams: Int

        static func < (lhs: Key, rhs: Key) -> Bool {
            (lhs.kind, lhs.length, lhs.method, lhs.headers, lhs.queryParams)
                < (rhs.kind, rhs.length, rhs.method, rhs.headers, rhs.queryParams)
        }
    }
}
