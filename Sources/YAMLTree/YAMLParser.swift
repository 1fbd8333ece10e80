import CLibYAML

/// Why a stream could not be read, and where: 1-based, as editors count.
public struct YAMLError: Error, Sendable, Equatable {
    public var line: Int
    public var column: Int
    /// What libyaml found, with what it was reading at the time ("did not find expected key while
    /// parsing a block mapping"), or the duplicate keys of one mapping.
    public var message: String

    public init(line: Int, column: Int, message: String) {
        self.line = line
        self.column = column
        self.message = message
    }
}

extension YAMLTree {
    /// Reads every document of `text` with libyaml's event parser. Reading stops at the first
    /// error: the documents before it are kept, and the error says where it is.
    ///
    /// Anchors belong to their document, as YAML says: an alias cannot name an anchor of an
    /// earlier document. Keys repeated in one mapping are an error, as Kubernetes makes them.
    public static func parse(_ text: String) -> (tree: YAMLTree, error: YAMLError?) {
        var text = text
        return text.withUTF8 { bytes in
            var composer = Composer()
            let error = composer.read(bytes)
            return (YAMLTree(composer.builder), error)
        }
    }

    private struct Composer {
        var builder = Builder()
        /// Children of the containers still open, innermost last.
        var pending: [UInt32] = []
        /// Open containers: their record, and where their children start in `pending`.
        var open: [(index: UInt32, start: Int)] = []
        var anchors: [String: UInt32] = [:]

        mutating func read(_ bytes: UnsafeBufferPointer<UInt8>) -> YAMLError? {
            var parser = yaml_parser_t()
            guard yaml_parser_initialize(&parser) == 1 else {
                return YAMLError(line: 1, column: 1, message: "out of memory")
            }
            defer { yaml_parser_delete(&parser) }
            yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
            // libyaml needs a pointer even for empty input.
            let empty: [UInt8] = [0]
            return empty.withUnsafeBufferPointer { fallback in
                let base = bytes.baseAddress ?? fallback.baseAddress!
                yaml_parser_set_input_string(&parser, base, bytes.count)
                return events(&parser, bytes)
            }
        }

        private mutating func events(_ parser: inout yaml_parser_t, _ bytes: UnsafeBufferPointer<UInt8>) -> YAMLError? {
            var event = yaml_event_t()
            while true {
                guard yaml_parser_parse(&parser, &event) == 1 else { return Self.error(parser, bytes) }
                defer { yaml_event_delete(&event) }
                let line = Int(event.start_mark.line) + 1
                let column = Int(event.start_mark.column) + 1
                switch event.type {
                case YAML_STREAM_END_EVENT:
                    return nil
                case YAML_DOCUMENT_START_EVENT:
                    anchors.removeAll(keepingCapacity: true)
                case YAML_SCALAR_EVENT:
                    let scalar = event.data.scalar
                    let value = String(
                        decoding: UnsafeBufferPointer(start: scalar.value, count: scalar.length), as: UTF8.self)
                    var flags: UInt8 = 0
                    if scalar.style == YAML_PLAIN_SCALAR_STYLE {
                        flags |= YAMLTree.plain
                        if let tag = scalar.tag, Self.isStringTag(tag) { flags |= YAMLTree.explicitString }
                    } else {
                        flags |= YAMLTree.explicitString
                    }
                    if scalar.anchor != nil { flags |= YAMLTree.anchored }
                    let index = builder.scalar(value, flags: flags, line: line, column: column)
                    anchor(scalar.anchor, index)
                    add(index)
                case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                    let isMapping = event.type == YAML_MAPPING_START_EVENT
                    let anchorName = isMapping ? event.data.mapping_start.anchor : event.data.sequence_start.anchor
                    let index = builder.begin(
                        isMapping ? .mapping : .sequence, flags: anchorName == nil ? 0 : YAMLTree.anchored, line: line,
                        column: column)
                    anchor(anchorName, index)
                    open.append((index, pending.count))
                case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                    let (index, start) = open.removeLast()
                    if event.type == YAML_MAPPING_END_EVENT, let error = duplicates(pending[start...]) { return error }
                    builder.end(index, children: pending[start...])
                    pending.removeSubrange(start...)
                    add(index)
                case YAML_ALIAS_EVENT:
                    let name = String(cString: event.data.alias.anchor)
                    guard let index = anchors[name] else {
                        return YAMLError(line: line, column: column, message: "found undefined alias \(name)")
                    }
                    add(index)
                default:
                    break
                }
            }
        }

        /// A finished node goes to the container that is open, or is a document.
        private mutating func add(_ index: UInt32) {
            if open.isEmpty {
                builder.roots.append(index)
            } else {
                pending.append(index)
            }
        }

        private mutating func anchor(_ name: UnsafeMutablePointer<yaml_char_t>?, _ index: UInt32) {
            guard let name else { return }
            anchors[String(cString: name)] = index
        }

        /// The mapping's repeated scalar keys, reported where the first repeat is written.
        private func duplicates(_ children: ArraySlice<UInt32>) -> YAMLError? {
            let pairs = children.count / 2
            guard pairs > 1 else { return nil }
            func key(_ pair: Int) -> String? {
                let record = builder.records[Int(children[children.startIndex + 2 * pair])]
                return record.kind == .scalar ? builder.texts[Int(record.first)] : nil
            }
            // Most mappings are small: compare their keys pairwise rather than build a set.
            var repeated: [Int] = []
            if pairs <= 16 {
                for later in 1..<pairs {
                    guard let name = key(later) else { continue }
                    for earlier in 0..<later where key(earlier) == name {
                        repeated.append(later)
                        break
                    }
                }
            } else {
                var seen = Set<String>(minimumCapacity: pairs)
                for pair in 0..<pairs {
                    if let name = key(pair), !seen.insert(name).inserted { repeated.append(pair) }
                }
            }
            guard let first = repeated.first else { return nil }
            var names: [String] = []
            for pair in repeated {
                if let name = key(pair), !names.contains(name) { names.append(name) }
            }
            let record = builder.records[Int(children[children.startIndex + 2 * first])]
            return YAMLError(
                line: Int(record.line), column: Int(record.column),
                message: "duplicate keys \(names.joined(separator: ", ")) in one mapping")
        }

        private static func isStringTag(_ tag: UnsafeMutablePointer<yaml_char_t>) -> Bool {
            String(cString: tag) == "tag:yaml.org,2002:str"
        }

        private static func error(_ parser: yaml_parser_t, _ bytes: UnsafeBufferPointer<UInt8>) -> YAMLError {
            let problem = parser.problem.map { String(cString: $0) } ?? "cannot read"
            switch parser.error {
            case YAML_MEMORY_ERROR:
                return YAMLError(line: 1, column: 1, message: "out of memory")
            case YAML_READER_ERROR:
                // A byte offset: count lines and characters up to it.
                let offset = min(parser.problem_offset, bytes.count)
                var line = 1
                var lineStart = 0
                for position in 0..<offset where bytes[position] == UInt8(ascii: "\n") {
                    line += 1
                    lineStart = position + 1
                }
                let column =
                    String(decoding: UnsafeBufferPointer(rebasing: bytes[lineStart..<offset]), as: UTF8.self)
                    .unicodeScalars.count + 1
                return YAMLError(line: line, column: column, message: problem)
            default:
                let context = parser.context.map { " " + String(cString: $0) } ?? ""
                return YAMLError(
                    line: Int(parser.problem_mark.line) + 1, column: Int(parser.problem_mark.column) + 1,
                    message: problem + context)
            }
        }
    }
}
