import EnvoyAPI
import GatewayIR
import SwiftProtobuf

extension ClusterTranslator {
    /// `loadAssignment(backend)` in protobuf's binary form, the very bytes SwiftProtobuf's
    /// deterministic encoding gives (`LoadAssignmentEncodingTests` compares them), written here
    /// in one pass. An endpoint is five messages deep, and SwiftProtobuf allocates each of them
    /// and works out each one's size again at every level it writes: a first load of ten thousand
    /// routes spent a third of its Envoy translation making load assignments.
    ///
    /// Fields go in field-number order, as SwiftProtobuf writes them; the source tag, which
    /// SourceMetadata attaches as an unknown field, goes last in its locality, as it does there.
    static func encodedLoadAssignment(_ backend: BackendCluster) throws -> [UInt8] {
        let healthCheckPort = backend.policy.healthCheck?.port
        // LbEndpoint.load_balancing_weight: UInt32Value{value: 1}.
        let endpointWeight = Wire.varintFieldSize(1, 1)
        struct Locality {
            var planned: PlannedLocality
            var region: String
            var metadata: [UInt8]?
            var socketMatch: [UInt8]?
            var localitySize: Int
            var endpointSizes: [Int]
            var weightSize: Int
            var size: Int
        }

        // Sizes first, from the inside out: each message's length comes before it.
        func socketAddressSize(_ endpoint: Endpoint) -> Int {
            (endpoint.host.isEmpty ? 0 : Wire.stringSize(2, endpoint.host.utf8.count))
                + Wire.varintFieldSize(3, endpoint.port)
        }
        func healthCheckConfigSize(_ port: Int) -> Int { port == 0 ? 0 : Wire.varintFieldSize(1, port) }
        func endpointSize(_ endpoint: Endpoint) -> Int {
            Wire.lengthSize(1, Wire.lengthSize(1, socketAddressSize(endpoint)))
                + (healthCheckPort.map { Wire.lengthSize(2, healthCheckConfigSize($0)) } ?? 0)
        }
        func lbEndpointSize(_ endpoint: Endpoint, socketMatch: [UInt8]?) -> Int {
            Wire.lengthSize(1, endpointSize(endpoint))
                + (endpoint.draining ? Wire.varintFieldSize(2, draining) : 0)
                + (socketMatch.map { Wire.lengthSize(3, $0.count) } ?? 0)
                + Wire.lengthSize(4, endpointWeight)
        }
        var options = BinaryEncodingOptions()
        options.useDeterministicOrdering = true
        let localities = try localities(backend).map { planned in
            let group = backend.groups[planned.group]
            let region = region(backend, planned.group)
            let metadata = group.metadata.map(SourceMetadata.encoded)
            let socketMatch: [UInt8]? = try UpstreamTLSSockets.endpointMetadata(backend, planned.group).map {
                try $0.serializedBytes(options: options)
            }
            let localitySize =
                (region.isEmpty ? 0 : Wire.stringSize(1, region.utf8.count))
                + (planned.zone.map { $0.isEmpty ? 0 : Wire.stringSize(2, $0.utf8.count) } ?? 0)
            let endpointSizes = planned.endpoints.map { lbEndpointSize($0, socketMatch: socketMatch) }
            let weightSize = planned.weight == 0 ? 0 : Wire.varintFieldSize(1, planned.weight)
            var size = Wire.lengthSize(1, localitySize) + Wire.lengthSize(3, weightSize)
            for endpoint in endpointSizes { size += Wire.lengthSize(2, endpoint) }
            if let metadata {
                size += SourceMetadata.localityKey.count + Wire.varintSize(metadata.count) + metadata.count
            }
            return Locality(
                planned: planned, region: region, metadata: metadata, socketMatch: socketMatch,
                localitySize: localitySize, endpointSizes: endpointSizes, weightSize: weightSize, size: size)
        }
        let name = backend.name
        var total = name.isEmpty ? 0 : Wire.stringSize(1, name.utf8.count)
        for locality in localities { total += Wire.lengthSize(2, locality.size) }

        var bytes: [UInt8] = []
        bytes.reserveCapacity(total)
        // ClusterLoadAssignment: cluster_name (1), endpoints (2).
        if !name.isEmpty { Wire.string(1, name, into: &bytes) }
        for locality in localities {
            // LocalityLbEndpoints: locality (1), lb_endpoints (2), load_balancing_weight (3).
            Wire.header(2, locality.size, into: &bytes)
            Wire.header(1, locality.localitySize, into: &bytes)
            if !locality.region.isEmpty { Wire.string(1, locality.region, into: &bytes) }
            if let zone = locality.planned.zone, !zone.isEmpty { Wire.string(2, zone, into: &bytes) }
            for (endpoint, size) in zip(locality.planned.endpoints, locality.endpointSizes) {
                // LbEndpoint: endpoint (1), health_status (2), metadata (3), load_balancing_weight (4).
                Wire.header(2, size, into: &bytes)
                Wire.header(1, endpointSize(endpoint), into: &bytes)
                // Endpoint: address (1) {socket_address (1) {address (2), port_value (3)}},
                // health_check_config (2) {port_value (1)}.
                let socketAddress = socketAddressSize(endpoint)
                Wire.header(1, Wire.lengthSize(1, socketAddress), into: &bytes)
                Wire.header(1, socketAddress, into: &bytes)
                if !endpoint.host.isEmpty { Wire.string(2, endpoint.host, into: &bytes) }
                Wire.varintField(3, endpoint.port, into: &bytes)
                if let healthCheckPort {
                    Wire.header(2, healthCheckConfigSize(healthCheckPort), into: &bytes)
                    if healthCheckPort != 0 { Wire.varintField(1, healthCheckPort, into: &bytes) }
                }
                if endpoint.draining { Wire.varintField(2, draining, into: &bytes) }
                if let socketMatch = locality.socketMatch { Wire.field(3, socketMatch, into: &bytes) }
                Wire.header(4, endpointWeight, into: &bytes)
                Wire.varintField(1, 1, into: &bytes)
            }
            Wire.header(3, locality.weightSize, into: &bytes)
            if locality.planned.weight != 0 { Wire.varintField(1, locality.planned.weight, into: &bytes) }
            if let metadata = locality.metadata {
                bytes += SourceMetadata.localityKey
                Wire.varint(metadata.count, into: &bytes)
                bytes += metadata
            }
        }
        return bytes
    }

    /// HealthStatus.DRAINING.
    private static let draining = Envoy_Config_Core_V3_HealthStatus.draining.rawValue
}
