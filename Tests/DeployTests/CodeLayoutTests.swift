import Foundation
import Testing

/// The code `serve` runs to start and load is laid out together (Package.swift's `layout` and
/// the switchboard target's ordering file, written by scripts/hot-functions). The kernel maps a
/// binary's code 64 KiB around each page first run, so the same functions scattered over the text
/// kept about 7 MiB more of it resident at 1000 routes (README, "Start-up code side by side").
@Suite("Code layout")
struct CodeLayoutTests {
    /// Mangled-name prefixes of the modules built with a section per function: every module
    /// `switchboard` links of ours, EnvoyAPI included.
    static let ownPrefixes = (ModuleBoundaryTests.served + ["EnvoyAPI"]).map { "$s\($0.utf8.count)\($0)" }

    @Test(
        "the linker lays out our functions in hot-functions.txt in the list's order",
        .enabled(if: tool("nm") != nil || onCI, "no nm (apt install binutils)"))
    func hotFunctionsInOrder() throws {
        let nm = try #require(tool("nm"), "nm is missing: apt install binutils")
        let listed = try read("Sources/switchboard/hot-functions.txt").split(separator: "\n")
        // The binary's code symbols: "address type name".
        var addresses: [Substring: UInt64] = [:]
        let symbols = try output(of: nm, ["--defined-only", switchboardBinary.path])
        for line in symbols.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 3, "tTwW".contains(fields[1]), let address = UInt64(fields[0], radix: 16) else {
                continue
            }
            if addresses[fields[2]] == nil { addresses[fields[2]] = address }
        }
        #expect(addresses.count > 10_000, "nm found no switchboard: \(symbols.prefix(200))")
        // Each of ours sits in a section of its own and moves alone; a dependency's internal
        // functions share one section per file and move with it, so only ours have a strict order.
        let ours = listed.filter { name in Self.ownPrefixes.contains { name.hasPrefix($0) } }.compactMap {
            addresses[$0]
        }
        #expect(ours.count >= 200, "only \(ours.count) listed functions of ours are in this build")
        let misplaced = zip(ours, ours.dropFirst()).count { $1 < $0 }
        // SwiftPM does not watch the list: after editing it, delete the built switchboard to relink.
        #expect(misplaced == 0, "\(misplaced) of \(ours.count) listed functions come before the one listed before them")
    }
}
