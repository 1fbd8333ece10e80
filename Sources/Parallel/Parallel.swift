import Dispatch
import Synchronization

/// Work on every core for parts that do not depend on each other: reading and decoding files,
/// checking their stamps, making clusters and virtual hosts. Elements go to the cores in
/// chunks, not one by one: a lock and a task per element would cost more than a small one takes.
public enum Parallel {
    /// `transform` of each element, in order. Up to `minimumChunk` elements are transformed on
    /// this thread; more go out in chunks of at least that many (and at most 64 chunks).
    @inlinable
    public static func map<Element: Sendable, Value: Sendable>(
        _ elements: [Element], minimumChunk: Int = 1, _ transform: @Sendable (Element) -> Value
    ) -> [Value] {
        guard elements.count > max(1, minimumChunk) else { return elements.map(transform) }
        let chunk = max(minimumChunk, elements.count / 64, 1)
        let results = Mutex([Value?](repeating: nil, count: elements.count))
        DispatchQueue.concurrentPerform(iterations: (elements.count + chunk - 1) / chunk) { index in
            let range = index * chunk..<min(elements.count, (index + 1) * chunk)
            let done = range.map { transform(elements[$0]) }
            results.withLock { results in
                for (position, value) in zip(range, done) { results[position] = value }
            }
        }
        return results.withLock { $0.map { $0! } }
    }

    /// `transform` of each element, in order, each as its result: an error stays with its element.
    @inlinable
    public static func results<Element: Sendable, Value: Sendable>(
        _ elements: [Element], minimumChunk: Int = 1, _ transform: @Sendable (Element) throws -> Value
    ) -> [Result<Value, any Error>] {
        map(elements, minimumChunk: minimumChunk) { element in Result { try transform(element) } }
    }
}
