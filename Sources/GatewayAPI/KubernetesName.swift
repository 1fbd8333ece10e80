/// The API server's rules for `metadata.name` and `metadata.namespace`.
enum KubernetesName {
    enum Rule {
        /// RFC 1123 subdomain: most kinds' names.
        case subdomain
        /// RFC 1123 label: namespaces.
        case label
        /// RFC 1035 label: Services (their names become DNS labels).
        case dns1035Label
    }

    static func rule(forKind kind: String) -> Rule {
        switch kind {
        case "Namespace": .label
        case "Service": .dns1035Label
        default: .subdomain
        }
    }

    /// What is wrong with `name` under `rule`, in the API server's words; nil when it is valid.
    static func problem(_ name: String, rule: Rule) -> String? {
        if name.isEmpty { return nil }  // reported as missing
        func isLabel(_ text: Substring, letterFirst: Bool) -> Bool {
            StringFormat.isLabel(text, maxLength: rule == .subdomain ? .max : 63)
                && (!letterFirst
                    || text.utf8.first.map { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) } == true)
        }
        // Made only for a message: most names are valid, and shortening one was 2 % of decoding.
        var shown: String { "\"\(StringFormat.shorten(name))\"" }
        switch rule {
        case .subdomain:
            if name.utf8.count > 253 { return "\(shown) is too long: must be no more than 253 characters" }
            if name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy({
                isLabel($0, letterFirst: false)
            }) {
                return nil
            }
            return
                "\(shown) is not valid: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
                + "'-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com')"
        case .label:
            if name.utf8.count > 63 { return "\(shown) is too long: must be no more than 63 characters" }
            if isLabel(Substring(name), letterFirst: false) { return nil }
            return
                "\(shown) is not valid: a lowercase RFC 1123 label must consist of lower case alphanumeric characters "
                + "or '-', and must start and end with an alphanumeric character (e.g. 'my-name', or '123-abc')"
        case .dns1035Label:
            if name.utf8.count > 63 { return "\(shown) is too long: must be no more than 63 characters" }
            if isLabel(Substring(name), letterFirst: true) { return nil }
            return "\(shown) is not valid: a DNS-1035 label must consist of lower case alphanumeric characters or '-', "
                + "start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name', or 'abc-123')"
        }
    }
}
