import Synchronization

/// One shared copy of each list of resource names that streams subscribe to. Every Envoy of a
/// Gateway asks for the same thousand load assignments; kept per stream, the names, their array
/// and their set cost a quarter of a megabyte a stream (measured with heaptrack at 1000
/// clusters). Interned, a stream keeps a reference to storage all of them share.
///
/// Bounded: past `limit` names held, everything is forgotten and interning starts again. Streams
/// keep what they hold, so forgetting costs a little sharing, never correctness: an interned
/// value is always equal to the one given.
final class NameInterner: Sendable {
    static let shared = NameInterner(limit: 500_000)

    /// A state-of-the-world request's names, and the set of them without the wildcard.
    struct List: Sendable {
        var names: [String]
        var set: Set<String>
        var wildcard: Bool
    }

    private struct State {
        var lists: [[String]: List] = [:]
        var sets: [Set<String>: Set<String>] = [:]
        var held = 0
    }

    private let limit: Int
    private let state = Mutex(State())

    init(limit: Int) {
        self.limit = limit
    }

    /// Names held now, for tests.
    var held: Int { state.withLock { $0.held } }

    func list(_ names: [String]) -> List {
        if let list = state.withLock({ $0.lists[names] }) { return list }
        let made = List(
            names: names, set: Set(names.filter { $0 != Subscription.wildcardName }),
            wildcard: names.contains(Subscription.wildcardName))
        return state.withLock { state in
            if let list = state.lists[names] { return list }
            reserve(names.count, in: &state)
            state.lists[names] = made
            return made
        }
    }

    func set(_ names: Set<String>) -> Set<String> {
        state.withLock { state in
            if let set = state.sets[names] { return set }
            reserve(names.count, in: &state)
            state.sets[names] = names
            return names
        }
    }

    private func reserve(_ count: Int, in state: inout State) {
        if state.held + count > limit { state = State() }
        state.held += count
    }
}
