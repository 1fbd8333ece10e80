import Parallel
import Testing

@Suite("Work on every core")
struct ParallelTests {
    struct Odd: Error, Equatable {
        var value: Int
    }

    @Test("results come back in order, each error with its own element", arguments: [1, 16, 256])
    func orderAndErrors(minimumChunk: Int) {
        for count in [0, 1, 2, 15, 16, 17, 63, 64, 65, 257, 1000] {
            let results = Parallel.results(Array(0..<count), minimumChunk: minimumChunk) { value in
                if value % 7 == 3 { throw Odd(value: value) }
                return value * 2
            }
            #expect(results.count == count)
            for (value, result) in results.enumerated() {
                switch result {
                case .success(let doubled): #expect(value % 7 != 3 && doubled == value * 2)
                case .failure(let error): #expect(error as? Odd == Odd(value: value))
                }
            }
            #expect(
                Parallel.map(Array(0..<count), minimumChunk: minimumChunk) { "\($0)" } == (0..<count).map { "\($0)" })
        }
    }
}
