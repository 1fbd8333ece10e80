import Dispatch
import Synchronization

/// Work on every core for parts that do not depend on each other.
enum Parallel {
    /// `transform` of each element, in order, each as its result: an error stays with its element.
    /// Chunks, not single elements, go to each core: a lock per element would cost more than a
    /// small one takes.
    static func map<Element: Sendable, Value: Sendable>(
        _ elements: [Element], _ transform: @Sendable (Element) throws -> Value
    ) -> [Result<Value, any Error>] {
        guard elements.count > 1 else { return elements.map { element in Result { try transform(element) } } }
        let results = Mutex([Result<Value, any Error>?](repeating: nil, count: elements.count))
        let chunk = max(1, elements.count / 64)
        let chunks = (elements.count + chunk - 1) / chunk
        DispatchQueue.concurrentPerform(iterations: chunks) { index in
            let range = index * chunk..<min(elements.count, (index + 1) * chunk)
            let done = range.map { position in Result { try transform(elements[position]) } }
            results.withLock { results in
                for (position, result) in zip(range, done) { results[position] = result }
            }
        }
        return results.withLock { $0.map { $0! } }
    }
}
