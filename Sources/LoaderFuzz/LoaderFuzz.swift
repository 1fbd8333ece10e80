import CFuzzDriver
import Foundation
import GatewayAPI
import GatewayTranslator
import XDSTranslator

/// One input through everything a file goes through before Envoy: YAML loading and validation,
/// translation to the IR with statuses, and translation to xDS resources. A crash, a hang or a
/// sanitizer report here is a bug; diagnostics are fine.
///
/// Built normally (`swift build --product loader-fuzz`) it replays files given as arguments, so a
/// crashing input found by libFuzzer stays a regression test. Built with
/// `-sanitize=fuzzer -DFUZZING` (scripts/fuzz) libFuzzer drives it.
@_cdecl("LLVMFuzzerTestOneInput")
public func loaderFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    // The file reader refuses what is not UTF-8 before anything parses it.
    guard let text = String(validating: UnsafeBufferPointer(start: data, count: size), as: UTF8.self) else { return 0 }
    let resources = ResourceSet.load([(path: "fuzz.yaml", contents: text)])
    for config in GatewayTranslator.translate(resources).configs {
        _ = try? SnapshotTranslator.snapshot(config)
    }
    return 0
}

@main
struct LoaderFuzzMain {
    static func main() throws {
        #if FUZZING
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(
            LLVMFuzzerRunDriver(&argc, &argv) { data, size in loaderFuzz(data ?? UnsafePointer(bitPattern: 1)!, size) })
        #else
        let paths = CommandLine.arguments.dropFirst()
        guard !paths.isEmpty else {
            FileHandle.standardError.write(
                Data("usage: loader-fuzz FILE... (replays inputs; scripts/fuzz runs libFuzzer)\n".utf8))
            exit(64)
        }
        for path in paths {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            _ = bytes.withUnsafeBufferPointer { loaderFuzz($0.baseAddress ?? UnsafePointer(bitPattern: 1)!, $0.count) }
        }
        print("replayed \(paths.count) inputs")
        #endif
    }
}
