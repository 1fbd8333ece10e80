import CLibYAML

/// libyaml's emitter, writing one block-style document to memory: UTF-8, indent 2, no line
/// width, non-ASCII escaped. libyaml picks each scalar's style (plain where YAML allows it,
/// quoted otherwise) unless asked for double quotes.
struct YAMLEmitter: ~Copyable {
    /// What libyaml has written; its output handler appends here.
    private final class Output {
        var bytes: [UInt8] = []
    }

    private let emitter: UnsafeMutablePointer<yaml_emitter_t>
    private let output = Output()

    init() throws(CanonicalTextError) {
        emitter = .allocate(capacity: 1)
        guard yaml_emitter_initialize(emitter) == 1 else {
            emitter.deallocate()
            throw CanonicalTextError(message: "the YAML emitter: out of memory")
        }
        yaml_emitter_set_output(
            emitter,
            { data, buffer, size in
                guard let data, let buffer else { return 0 }
                let output = Unmanaged<Output>.fromOpaque(data).takeUnretainedValue()
                output.bytes.append(contentsOf: UnsafeBufferPointer(start: buffer, count: size))
                return 1
            }, Unmanaged.passUnretained(output).toOpaque())
        yaml_emitter_set_encoding(emitter, YAML_UTF8_ENCODING)
        yaml_emitter_set_indent(emitter, 2)
        yaml_emitter_set_width(emitter, -1)
        yaml_emitter_set_unicode(emitter, 0)
        yaml_emitter_set_break(emitter, YAML_LN_BREAK)
    }

    deinit {
        yaml_emitter_delete(emitter)
        emitter.deallocate()
    }

    /// What was written so far (all of it, after `document`).
    var text: String { withExtendedLifetime(output) { String(decoding: output.bytes, as: UTF8.self) } }

    typealias Content = (inout YAMLEmitter) throws(CanonicalTextError) -> Void

    /// One stream holding one document whose content `body` emits.
    mutating func document(_ body: Content) throws(CanonicalTextError) {
        let inDocument: Content = { emitter throws(CanonicalTextError) in
            try emitter.nested(
                { yaml_document_start_event_initialize(&$0, nil, nil, nil, 1) },
                { yaml_document_end_event_initialize(&$0, 1) }, body)
        }
        try nested(
            { yaml_stream_start_event_initialize(&$0, YAML_UTF8_ENCODING) }, { yaml_stream_end_event_initialize(&$0) },
            inDocument)
    }

    mutating func mapping(_ body: Content) throws(CanonicalTextError) {
        try nested(
            { yaml_mapping_start_event_initialize(&$0, nil, nil, 1, YAML_BLOCK_MAPPING_STYLE) },
            { yaml_mapping_end_event_initialize(&$0) }, body)
    }

    mutating func sequence(_ body: Content) throws(CanonicalTextError) {
        try nested(
            { yaml_sequence_start_event_initialize(&$0, nil, nil, 1, YAML_BLOCK_SEQUENCE_STYLE) },
            { yaml_sequence_end_event_initialize(&$0) }, body)
    }

    /// A start event, what `body` emits, the matching end event. (Making an event without a
    /// value to copy cannot fail.)
    private mutating func nested(
        _ start: (inout yaml_event_t) -> Int32, _ end: (inout yaml_event_t) -> Int32, _ body: Content
    ) throws(CanonicalTextError) {
        var event = yaml_event_t()
        _ = start(&event)
        try emit(&event)
        try body(&self)
        _ = end(&event)
        try emit(&event)
    }

    /// A scalar, implicitly a string or whatever it reads as; `quoted` asks for double quotes.
    mutating func scalar(_ text: String, quoted: Bool) throws(CanonicalTextError) {
        var event = yaml_event_t()
        var text = text
        let style = quoted ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_ANY_SCALAR_STYLE
        // libyaml copies the value into the event; it wants a pointer even for "".
        var zero: UInt8 = 0
        let made = text.withUTF8 { bytes in
            withUnsafePointer(to: &zero) { fallback in
                yaml_scalar_event_initialize(
                    &event, nil, nil, bytes.baseAddress ?? fallback, Int32(bytes.count), 1, 1, style)
            }
        }
        guard made == 1 else { throw CanonicalTextError(message: "the YAML emitter: out of memory") }
        try emit(&event)
    }

    /// libyaml takes the event (and frees it) whether or not it succeeds.
    private mutating func emit(_ event: inout yaml_event_t) throws(CanonicalTextError) {
        guard yaml_emitter_emit(emitter, &event) == 1 else {
            let problem = emitter.pointee.problem.map { String(cString: $0) } ?? "unknown error"
            throw CanonicalTextError(message: "the YAML emitter: \(problem)")
        }
    }
}
