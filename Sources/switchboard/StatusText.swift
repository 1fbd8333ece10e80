import ControlPlane
import FoundationEssentials

/// `switchboard status` as text, like `kubectl get -o wide`: the last reload, every resource
/// with its conditions, every connected Envoy with its ACK/NACK state per type.
enum StatusText {
    static func render(_ status: AdminStatus) -> String {
        var out = ""
        for problem in status.unwatched ?? [] { out += "WATCH   not watching: \(problem)\n" }
        if let reload = status.reload {
            out += "RELOAD  \(reload.outcome) at \(reload.at.formatted(.iso8601))\n"
            if let error = reload.error { out += "  error: \(error)\n" }
            for file in reload.lastKnownGood { out += "  last known good in effect: \(file)\n" }
            for diagnostic in reload.diagnostics { out += "  \(diagnostic)\n" }
        }
        out +=
            "\n"
            + table(
                ["KIND", "NAMESPACE/NAME", "PARENT", "CONDITIONS"], rows: resourceRows(status.resources))
        out +=
            "\n"
            + table(
                ["ENVOY", "GATEWAY", "STREAM", "CONNECTED", "CDS", "EDS", "SDS", "LDS", "RDS"],
                rows: status.envoys.map { envoy in
                    [
                        envoy.nodeID, envoy.nodeCluster, envoy.stream,
                        envoy.connectedSince.formatted(.iso8601),
                    ]
                        + ["cds", "eds", "sds", "lds", "rds"].map { type in
                            guard let state = envoy.types[type] else { return "-" }
                            if let message = state.nackMessage { return "NACK \(message)" }
                            guard let sent = state.sent else { return "-" }
                            return state.acked == sent ? "ACK \(sent.prefix(8))" : "sent \(sent.prefix(8))"
                        }
                })
        let certificates = certificateRows(status.resources)
        if !certificates.isEmpty {
            out += "\n" + table(["SECRET", "EXPIRES", "LISTENERS"], rows: certificates)
        }
        return out
    }

    /// One row per certificate a listener presents; `renew soon` when fewer than 14 days are left.
    static func certificateRows(_ resources: JSONValue?) -> [[String]] {
        guard case .object(let report) = resources, case .array(let items) = report["certificates"] else { return [] }
        return items.compactMap { item in
            guard case .object(let certificate) = item, case .string(let secret) = certificate["secret"],
                case .string(let notAfter) = certificate["notAfter"]
            else { return nil }
            var listeners: [String] = []
            if case .array(let names) = certificate["listeners"] {
                for case .string(let name) in names { listeners.append(name) }
            }
            var soon = ""
            if case .bool(true) = certificate["expiresSoon"] { soon = " (renew soon)" }
            return [secret, notAfter + soon, listeners.joined(separator: ",")]
        }
    }

    /// One row per Gateway, per route parent and per policy ancestor.
    static func resourceRows(_ resources: JSONValue?) -> [[String]] {
        guard case .object(let report) = resources else { return [] }
        var rows: [[String]] = []
        func conditions(_ value: JSONValue?) -> String {
            guard case .array(let items) = value else { return "" }
            return items.compactMap { item -> String? in
                guard case .object(let condition) = item, case .string(let type) = condition["type"],
                    case .string(let status) = condition["status"], case .string(let reason) = condition["reason"]
                else { return nil }
                return "\(type)=\(status)(\(reason))"
            }.joined(separator: " ")
        }
        /// `namespace/name`; a parentRef without a namespace is in its route's.
        func name(_ object: [String: JSONValue], in home: String? = nil) -> String {
            guard case .string(let name) = object["name"] else { return "" }
            if case .string(let namespace) = object["namespace"] { return "\(namespace)/\(name)" }
            return home.map { "\($0)/\(name)" } ?? ""
        }
        if case .array(let gateways) = report["gateways"] {
            for case .object(let gateway) in gateways {
                rows.append(["Gateway", name(gateway), "", conditions(gateway["conditions"])])
                guard case .array(let listeners) = gateway["listeners"] else { continue }
                for case .object(let listener) in listeners {
                    guard case .string(let section) = listener["name"] else { continue }
                    rows.append(["Listener", name(gateway) + "/" + section, "", conditions(listener["conditions"])])
                }
            }
        }
        for (kind, key, parentsKey, refKey) in [
            ("HTTPRoute", "httpRoutes", "parents", "parentRef"), ("GRPCRoute", "grpcRoutes", "parents", "parentRef"),
            ("TLSRoute", "tlsRoutes", "parents", "parentRef"), ("TCPRoute", "tcpRoutes", "parents", "parentRef"),
            ("UDPRoute", "udpRoutes", "parents", "parentRef"),
            ("BackendTrafficPolicy", "backendTrafficPolicies", "ancestors", "ancestorRef"),
            ("BackendTLSPolicy", "backendTLSPolicies", "ancestors", "ancestorRef"),
        ] {
            guard case .array(let items) = report[key] else { continue }
            for case .object(let item) in items {
                guard case .array(let parents) = item[parentsKey], !parents.isEmpty else {
                    rows.append([kind, name(item), "-", "no target found"])
                    continue
                }
                for case .object(let parent) in parents {
                    var parentName = ""
                    if case .object(let ref) = parent[refKey] {
                        parentName = name(
                            ref, in: { if case .string(let ns) = item["namespace"] { ns } else { nil } }())
                        if case .string(let section) = ref["sectionName"] { parentName += "/\(section)" }
                    }
                    rows.append([kind, name(item), parentName, conditions(parent["conditions"])])
                }
            }
        }
        return rows
    }

    static func table(_ header: [String], rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] + 2 - cell.count)
            }.joined()
        }.joined(separator: "\n") + "\n"
    }
}
