import Foundation
import GatewayAPI

/// Finds and reads the operator's configuration files: `*.yaml`, `*.yml` and `*.json` under the
/// given paths (directories recursively, in name order, so every run sees the same order).
public enum ConfigFiles {
    public struct ReadError: Error, CustomStringConvertible {
        public let description: String
    }

    static let extensions: Set<String> = ["yaml", "yml", "json"]

    public static func list(_ paths: [String]) throws -> [String] {
        var files: [String] = []
        let manager = FileManager.default
        for path in paths {
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw ReadError(description: "\(path): no such file or directory")
            }
            guard isDirectory.boolValue else {
                files.append(path)
                continue
            }
            guard let walker = manager.enumerator(atPath: path) else {
                throw ReadError(description: "\(path): cannot list the directory")
            }
            var found: [String] = []
            for case let relative as String in walker {
                // Hidden names anywhere in the path are skipped: editor swap files, and a
                // ConfigMap's `..data` and `..2026_…` internals (its visible files link into them).
                if relative.split(separator: "/").contains(where: { $0.hasPrefix(".") }) { continue }
                if extensions.contains((relative as NSString).pathExtension.lowercased()) {
                    found.append((path as NSString).appendingPathComponent(relative))
                }
            }
            files += found.sorted()
        }
        return files
    }

    /// Reads and decodes every file under `paths`.
    public static func load(_ paths: [String]) throws -> ResourceSet {
        let files = try list(paths).map { path in
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ReadError(description: "\(path): cannot read the file")
            }
            return (path: path, contents: String(decoding: data, as: UTF8.self))
        }
        return ResourceSet.load(files)
    }
}
