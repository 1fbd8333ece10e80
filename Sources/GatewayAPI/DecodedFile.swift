import Parallel

/// One file's objects, decoded on their own. Decoding is the costly part of a load (YAML parsing
/// and strict field checks), and it depends on nothing outside the file, so a reload keeps each
/// file's `DecodedFile` and decodes again only the files whose text changed; what spans files
/// (duplicate names, the order objects are kept in) is settled by `ResourceSet.assemble`.
public struct DecodedFile: Sendable {
    /// A decoded object, by kind. Indirect: an inline enum is as large as its largest case (a
    /// BackendTrafficPolicy, over a kilobyte), in every entry of every file; 31 MB at 10000 route
    /// files (heaptrack).
    indirect enum Object: Sendable, Equatable {
        case gatewayClass(GatewayClass)
        case gateway(Gateway)
        case httpRoute(HTTPRoute)
        case grpcRoute(GRPCRoute)
        case layer4Route(Layer4Route)
        case backend(Backend)
        case service(Service)
        case endpointSlice(EndpointSlice)
        case secret(Secret)
        case namespace(Namespace)
        case configMap(key: String, keys: Set<String>, data: [String: String])
        case clusterTrustBundle(name: String, bundle: String)
        case backendTLSPolicy(BackendTLSPolicy)
        case referenceGrant(ReferenceGrant)
        case backendTrafficPolicy(BackendTrafficPolicy)
    }

    /// An object of a known kind: kept, or dropped with its diagnostics when an earlier one has
    /// its name.
    struct Entry: Sendable {
        /// `<kind>/<namespace>/<name>`, made once: every reload's `assemble` keys it by this, and
        /// the ResourceSet's `metadata` shares the string. The three parts are read from it (none
        /// holds a "/"), not kept beside it: 48 bytes in each of 20000 entries at 10000 routes.
        var key: String
        var kind: Substring { key.prefix { $0 != "/" } }
        var namespaceAndName: Substring { key[key.index(after: key.firstIndex(of: "/")!)...] }
        var location: SourceLocation
        var labels: [String: String]
        var creationTimestamp: String
        /// Nil when the object did not decode (its diagnostics say why).
        var object: Object?
        /// What decoding this object found.
        var diagnostics: [Diagnostic]
    }

    public let path: String
    var entries: [Entry] = []
    /// Problems that belong to no kept object: YAML syntax, unknown kinds, wrong apiVersions,
    /// invalid names.
    var fileDiagnostics: [Diagnostic] = []

    /// Parses and decodes `contents`, read from `path`. Pure.
    public init(path: String, contents: String) {
        self.path = path
        let parsed = ManifestParser.parse(contents, file: path)
        let context = parsed.context
        for object in parsed.objects {
            guard let group = ResourceSet.knownKinds[object.kind] else {
                var message = "unknown kind \"\(object.kind)\""
                if let suggestion = Suggestion.closest(to: object.kind, in: ResourceSet.knownKinds.keys) {
                    message += " (did you mean \"\(suggestion)\"?)"
                }
                context.report(at: object.location, .unknownKind, "kind", message)
                continue
            }
            let apiGroup = object.apiVersion.split(separator: "/").dropLast().joined(separator: "/")
            if apiGroup != group {
                let expected = group.isEmpty ? "v1" : "\(group)/<version>"
                context.report(
                    at: object.location, .notAllowed, "apiVersion",
                    "\(object.kind) belongs to apiVersion \(expected), not \"\(object.apiVersion)\"")
                continue
            }
            let before = context.diagnostics.count
            let decoded = Self.decode(object)
            entries.append(
                Entry(
                    key: "\(object.kind)/\(object.namespace)/\(object.name)", location: object.location,
                    labels: object.labels, creationTimestamp: object.creationTimestamp,
                    object: context.diagnostics.count == before || decoded.keepsFlawed ? decoded.object : nil,
                    diagnostics: Array(context.diagnostics[before...])))
            context.removeDiagnostics(from: before)
        }
        fileDiagnostics = context.diagnostics
    }

    /// Takes from `earlier`, this file's last decoding, each object (and its key and labels)
    /// equal to the one of the same key here. An edit changes one object of a file, mostly: the
    /// assembled resources keep the earlier ones of the rest (`Assembly.replace`), and equal
    /// copies beside them here kept a few hundred bytes for every file ever edited.
    public mutating func share(with earlier: DecodedFile) {
        guard !earlier.entries.isEmpty else { return }
        let byKey = Dictionary(earlier.entries.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        for index in entries.indices {
            guard let kept = byKey[entries[index].key] else { continue }
            entries[index].key = kept.key
            if entries[index].labels == kept.labels { entries[index].labels = kept.labels }
            if let object = entries[index].object, let keptObject = kept.object, object == keptObject {
                entries[index].object = keptObject
            }
        }
    }

    /// The file's problems on its own, as a load of only this file reports them.
    public var diagnostics: [Diagnostic] { ResourceSet.assemble([self]).diagnostics }

    /// Decodes one object; `keepsFlawed` says whether the object stands despite diagnostics
    /// (most kinds keep what is valid). Policies with a schema error are left out whole, as the
    /// API server would refuse them: half a policy must never reach Envoy.
    private static func decode(_ object: ManifestObject) -> (object: Object?, keepsFlawed: Bool) {
        switch object.kind {
        case "GatewayClass": return (GatewayClass(object).map(Object.gatewayClass), true)
        case "GRPCRoute": return (GRPCRoute(object).map(Object.grpcRoute), true)
        case "Gateway": return (Gateway(object).map(Object.gateway), true)
        case "HTTPRoute": return (HTTPRoute(object).map(Object.httpRoute), true)
        case "TLSRoute", "TCPRoute", "UDPRoute":
            guard let kind = Layer4Route.Kind(rawValue: object.kind) else { return (nil, true) }
            return (Layer4Route(object, kind: kind).map(Object.layer4Route), true)
        case "Backend": return (Backend(object).map(Object.backend), true)
        case "Service": return (Service(object).map(Object.service), true)
        case "EndpointSlice": return (EndpointSlice(object).map(Object.endpointSlice), true)
        case "Secret": return (.secret(Secret(object)), true)
        case "Namespace": return (.namespace(Namespace(object)), true)
        case "ConfigMap":
            let data = object.fields.stringMap("data")
            let keys = Set(data.keys).union(object.fields.stringMap("binaryData").keys)
            return (.configMap(key: "\(object.namespace)/\(object.name)", keys: keys, data: data), true)
        case "ClusterTrustBundle":
            guard let spec = object.spec(allowing: ["trustBundle", "signerName"]),
                let bundle = spec.string("trustBundle", required: true)
            else { return (nil, true) }
            return (.clusterTrustBundle(name: object.name, bundle: bundle), true)
        case "BackendTLSPolicy": return (BackendTLSPolicy(object).map(Object.backendTLSPolicy), false)
        case "ReferenceGrant": return (ReferenceGrant(object).map(Object.referenceGrant), true)
        case "BackendTrafficPolicy": return (BackendTrafficPolicy(object).map(Object.backendTrafficPolicy), false)
        default: return (nil, true)
        }
    }

    /// Decodes `files` on every core: files do not depend on each other until they are assembled.
    public static func decodeAll(_ files: [(path: String, contents: String)]) -> [DecodedFile] {
        Parallel.map(files) { DecodedFile(path: $0.path, contents: $0.contents) }
    }
}

extension ResourceSet {
    /// Parses and decodes `files` (path, contents), and assembles them in the given order.
    public static func load(_ files: [(path: String, contents: String)]) -> ResourceSet {
        assemble(DecodedFile.decodeAll(files))
    }

    /// Puts decoded files together, in the given order: the first object of a kind and name
    /// wins, and each later one is a `duplicateName` problem at its own place.
    public static func assemble(_ files: [DecodedFile]) -> ResourceSet {
        Assembly(files).resources
    }
}

/// A ResourceSet put together from decoded files (`ResourceSet.assemble`), with where each
/// file's objects went, so that a reload can put a changed file's new objects in the places of
/// its old ones instead of assembling ten thousand files again.
public struct Assembly: Sendable {
    public private(set) var resources = ResourceSet()
    /// Each file's entries, in order: their keys and where their objects are.
    private var files: [[Place]] = []
    private var fileIndex: [String: Int] = [:]

    private struct Place: Sendable {
        var key: String
        /// The object's index in its kind's array; `keyed` for kinds kept by name (Secrets,
        /// ConfigMaps, ClusterTrustBundles), `none` for an object that did not decode, and
        /// `duplicate` for one dropped because its name came earlier.
        var slot: Int
        static let keyed = -1
        static let none = -2
        static let duplicate = -3
    }

    /// False when any file had problems (they are sorted together, not kept by file) or a path
    /// came twice: `replace` then gives up.
    private var patchable = true

    public init() {}

    public init(_ files: [DecodedFile]) {
        var set = ResourceSet()
        // Where each name was first defined, made only once a name comes twice: `metadata`
        // answers whether one has been seen.
        var firstDefined: [String: SourceLocation]?
        // Sized once: growing a dictionary of 20000 keys step by step was a fifth of this.
        set.metadata.reserveCapacity(files.reduce(0) { $0 + $1.entries.count })
        // The kinds there are one of for each route, sized once too: grown by doubling, the
        // arrays of 10000 routes and Backends held 2 MB of spare capacity (heaptrack).
        var counts: [Substring: Int] = [:]
        for file in files { for entry in file.entries { counts[entry.kind, default: 0] += 1 } }
        set.httpRoutes.reserveCapacity(counts["HTTPRoute"] ?? 0)
        set.grpcRoutes.reserveCapacity(counts["GRPCRoute"] ?? 0)
        set.backends.reserveCapacity(counts["Backend"] ?? 0)
        set.services.reserveCapacity(counts["Service"] ?? 0)
        set.endpointSlices.reserveCapacity(counts["EndpointSlice"] ?? 0)
        set.backendTrafficPolicies.reserveCapacity(counts["BackendTrafficPolicy"] ?? 0)
        self.files.reserveCapacity(files.count)
        fileIndex.reserveCapacity(files.count)
        for (fileIndex, file) in files.enumerated() {
            set.diagnostics += file.fileDiagnostics
            var places: [Place] = []
            places.reserveCapacity(file.entries.count)
            for (entryIndex, entry) in file.entries.enumerated() {
                if set.metadata[entry.key] != nil {
                    if firstDefined == nil {
                        firstDefined = [:]
                        let before = files[..<fileIndex].map(\.entries) + [Array(file.entries[..<entryIndex])]
                        for earlier in before.joined().reversed() { firstDefined![earlier.key] = earlier.location }
                    }
                    set.diagnostics.append(
                        Diagnostic(
                            location: entry.location, code: .duplicateName, field: "metadata.name",
                            message:
                                "\(entry.kind) \(entry.namespaceAndName) is already defined at \(firstDefined![entry.key]!)"
                        ))
                    places.append(Place(key: entry.key, slot: Place.duplicate))
                    continue
                }
                firstDefined?[entry.key] = entry.location
                set.metadata[entry.key] = (entry.labels, entry.creationTimestamp)
                set.diagnostics += entry.diagnostics
                places.append(Place(key: entry.key, slot: entry.object.map { Self.put($0, in: &set) } ?? Place.none))
            }
            self.files.append(places)
            if self.fileIndex.updateValue(fileIndex, forKey: file.path) != nil { patchable = false }
        }
        patchable = patchable && set.diagnostics.isEmpty
        set.diagnostics.sort()
        resources = set
    }

    /// Puts `object` in its kind's collection, at `slot` or appended; its index there, or
    /// `Place.keyed` for the kinds kept by name.
    private static func put(_ object: DecodedFile.Object, at slot: Int? = nil, in set: inout ResourceSet) -> Int {
        func put<T: Equatable>(_ value: T, _ array: inout [T]) -> Int {
            guard let slot else {
                array.append(value)
                return array.count - 1
            }
            // An equal value is left in place: writing it would copy an array the last
            // translation still holds, and the next one would compare all of it element by
            // element instead of seeing one buffer (a route file saved with its Backend as it was).
            if array[slot] != value { array[slot] = value }
            return slot
        }
        switch object {
        case .gatewayClass(let value): return put(value, &set.gatewayClasses)
        case .gateway(let value): return put(value, &set.gateways)
        case .httpRoute(let value): return put(value, &set.httpRoutes)
        case .grpcRoute(let value): return put(value, &set.grpcRoutes)
        case .layer4Route(let value): return put(value, &set.layer4Routes)
        case .backend(let value): return put(value, &set.backends)
        case .service(let value): return put(value, &set.services)
        case .endpointSlice(let value): return put(value, &set.endpointSlices)
        case .namespace(let value): return put(value, &set.namespaces)
        case .backendTLSPolicy(let value): return put(value, &set.backendTLSPolicies)
        case .referenceGrant(let value): return put(value, &set.referenceGrants)
        case .backendTrafficPolicy(let value): return put(value, &set.backendTrafficPolicies)
        case .secret(let secret): update(&set.secrets, "\(secret.namespace)/\(secret.name)", secret)
        case .configMap(let key, let keys, let data):
            update(&set.configMapKeys, key, keys)
            update(&set.configMapData, key, data)
        case .clusterTrustBundle(let name, let bundle): update(&set.clusterTrustBundles, name, bundle)
        }
        return Place.keyed
    }

    /// Sets `key` to `value` unless it is that already (as `put` leaves equal values in place).
    private static func update<Value: Equatable>(_ dictionary: inout [String: Value], _ key: String, _ value: Value) {
        if dictionary[key] != value { dictionary[key] = value }
    }

    /// Puts `file`'s objects in the places of the ones it had when assembled, when that gives
    /// what assembling every file again would: the file was assembled, it holds the same kinds
    /// and names in the same order, each decodes as before (or fails to as before), and no file
    /// has problems. False, with nothing changed, otherwise.
    public mutating func replace(_ file: DecodedFile) -> Bool {
        guard patchable, file.fileDiagnostics.isEmpty, let index = fileIndex[file.path] else { return false }
        let places = files[index]
        guard places.count == file.entries.count else { return false }
        for (place, entry) in zip(places, file.entries) {
            guard place.key == entry.key, entry.diagnostics.isEmpty, place.slot != Place.duplicate,
                (place.slot == Place.none) == (entry.object == nil)
            else { return false }
        }
        for (place, entry) in zip(places, file.entries) {
            // Left alone when equal, as `put` leaves equal objects: the last translation shares it.
            let kept = resources.metadata[entry.key]
            if kept?.labels != entry.labels || kept?.creationTimestamp != entry.creationTimestamp {
                resources.metadata[entry.key] = (entry.labels, entry.creationTimestamp)
            }
            guard let object = entry.object else { continue }
            _ = Self.put(object, at: place.slot == Place.keyed ? nil : place.slot, in: &resources)
        }
        return true
    }
}
