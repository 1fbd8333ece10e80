/// A YAML stream as one flat, immutable tree: every node a fixed-size record in one array, every
/// container's children a run of indices in another, every scalar's text in a third. Reading a
/// file this way costs a few arrays, where a tree of nodes costs objects, tags and arrays per
/// node (Yams's composer was two thirds of decoding ten thousand route files).
///
/// An alias is its anchor's node again: the index repeats, and nothing is copied.
public final class YAMLTree: Sendable {
    struct Record: Sendable {
        var kind: YAMLNode.Kind
        var flags: UInt8
        /// 1-based, as editors count; 0 for a node built in code (no position).
        var line: UInt32
        var column: UInt32
        /// A scalar's index into `texts`; a container's first index into `children`.
        var first: UInt32
        /// A container's children (a mapping's keys and values, interleaved).
        var count: UInt32
    }

    static let plain: UInt8 = 1
    static let explicitString: UInt8 = 2
    static let anchored: UInt8 = 4

    let records: [Record]
    let children: [UInt32]
    let texts: [String]
    let roots: [UInt32]

    init(_ builder: consuming Builder) {
        records = builder.records
        children = builder.children
        texts = builder.texts
        roots = builder.roots
    }

    /// The stream's documents, in order.
    public var documents: [YAMLNode] { roots.map { YAMLNode(tree: self, index: Int($0)) } }

    /// Collects records while a stream is read or a tree is built in code.
    struct Builder {
        var records: [Record] = []
        var children: [UInt32] = []
        var texts: [String] = []
        var roots: [UInt32] = []

        mutating func scalar(_ text: String, flags: UInt8, line: Int = 0, column: Int = 0) -> UInt32 {
            let index = UInt32(records.count)
            records.append(
                Record(
                    kind: .scalar, flags: flags, line: UInt32(clamping: line), column: UInt32(clamping: column),
                    first: UInt32(texts.count), count: 0))
            texts.append(text)
            return index
        }

        /// A container's record, whose children `end` fills in: records stay in document order.
        mutating func begin(_ kind: YAMLNode.Kind, flags: UInt8, line: Int = 0, column: Int = 0) -> UInt32 {
            let index = UInt32(records.count)
            records.append(
                Record(
                    kind: kind, flags: flags, line: UInt32(clamping: line), column: UInt32(clamping: column), first: 0,
                    count: 0))
            return index
        }

        mutating func end(_ container: UInt32, children items: ArraySlice<UInt32>) {
            records[Int(container)].first = UInt32(children.count)
            records[Int(container)].count = UInt32(items.count)
            children.append(contentsOf: items)
        }
    }
}

/// One node of a `YAMLTree`: a scalar, a mapping or a sequence, with where it is written.
public struct YAMLNode: Sendable {
    public enum Kind: UInt8, Sendable { case scalar, mapping, sequence }

    public let tree: YAMLTree
    let index: Int

    init(tree: YAMLTree, index: Int) {
        self.tree = tree
        self.index = index
    }

    private var record: YAMLTree.Record { tree.records[index] }

    public var kind: Kind { record.kind }
    /// 1-based; nil for a node built in code rather than read.
    public var line: Int? { record.line == 0 ? nil : Int(record.line) }
    public var column: Int? { record.line == 0 ? nil : Int(record.column) }

    /// This node's place in its tree: an alias's node has its anchor's identity.
    public var identity: Int { index }
    /// Whether the node carries an anchor (`&name`), so aliases may repeat it.
    public var isAnchored: Bool { record.flags & YAMLTree.anchored != 0 }

    /// A scalar's text as written (escapes resolved); nil for a mapping or a sequence.
    public var text: String? {
        let record = record
        return record.kind == .scalar ? tree.texts[Int(record.first)] : nil
    }

    /// A plain scalar: unquoted, not a block scalar. Only these can read as numbers or booleans.
    public var isPlain: Bool { record.kind == .scalar && record.flags & YAMLTree.plain != 0 }
    /// A scalar that is a string whatever it spells: quoted, a block scalar, or tagged `!!str`.
    public var isExplicitString: Bool { record.kind == .scalar && record.flags & YAMLTree.explicitString != 0 }

    /// A mapping's pairs, in the order written.
    public var pairs: Pairs { Pairs(node: self) }
    /// A sequence's items; empty for anything else.
    public var items: Items { Items(node: self) }

    /// The value under the scalar key `key` in a mapping (the first, should keys repeat).
    public func value(forKey key: String) -> YAMLNode? {
        let record = record
        guard record.kind == .mapping else { return nil }
        let tree = tree
        var position = Int(record.first)
        let end = position + Int(record.count)
        while position < end {
            let keyRecord = tree.records[Int(tree.children[position])]
            if keyRecord.kind == .scalar, tree.texts[Int(keyRecord.first)] == key {
                return YAMLNode(tree: tree, index: Int(tree.children[position + 1]))
            }
            position += 2
        }
        return nil
    }

    public struct Pairs: RandomAccessCollection, Sendable {
        let node: YAMLNode
        public var startIndex: Int { 0 }
        public var endIndex: Int { node.kind == .mapping ? Int(node.record.count) / 2 : 0 }
        public subscript(position: Int) -> (key: YAMLNode, value: YAMLNode) {
            let first = Int(node.record.first) + 2 * position
            let tree = node.tree
            return (
                YAMLNode(tree: tree, index: Int(tree.children[first])),
                YAMLNode(tree: tree, index: Int(tree.children[first + 1]))
            )
        }
    }

    public struct Items: RandomAccessCollection, Sendable {
        let node: YAMLNode
        public var startIndex: Int { 0 }
        public var endIndex: Int { node.kind == .sequence ? Int(node.record.count) : 0 }
        public subscript(position: Int) -> YAMLNode {
            YAMLNode(tree: node.tree, index: Int(node.tree.children[Int(node.record.first) + position]))
        }
    }
}

/// A value to build a tree from in code (a merged document, a test's input).
public indirect enum YAMLValue: Sendable {
    case scalar(String, plain: Bool)
    case mapping([(key: String, value: YAMLValue)])
    case sequence([YAMLValue])

    /// This value as a tree's one document, without positions.
    public var node: YAMLNode {
        var builder = YAMLTree.Builder()
        builder.roots.append(Self.add(self, to: &builder))
        return YAMLTree(builder).documents[0]
    }

    private static func add(_ value: YAMLValue, to builder: inout YAMLTree.Builder) -> UInt32 {
        switch value {
        case .scalar(let text, let plain):
            return builder.scalar(text, flags: plain ? YAMLTree.plain : YAMLTree.explicitString)
        case .mapping(let pairs):
            let index = builder.begin(.mapping, flags: 0)
            var items: [UInt32] = []
            items.reserveCapacity(2 * pairs.count)
            for (key, value) in pairs {
                items.append(builder.scalar(key, flags: YAMLTree.plain))
                items.append(add(value, to: &builder))
            }
            builder.end(index, children: items[...])
            return index
        case .sequence(let values):
            let index = builder.begin(.sequence, flags: 0)
            let items = values.map { add($0, to: &builder) }
            builder.end(index, children: items[...])
            return index
        }
    }
}
