/// Kubernetes' canonical spelling of a byte quantity, as Envoy Gateway's messages print one
/// (`1000G` is `1T`, `2048Ki` is `2Mi`): the largest suffix of the written kind (binary or
/// decimal) that keeps the number whole.
enum Quantity {
    static func canonical(_ bytes: Int, binary: Bool) -> String {
        let (base, suffixes) =
            binary ? (1024, ["Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]) : (1000, ["k", "M", "G", "T", "P", "E"])
        var value = bytes
        var suffix = ""
        for next in suffixes where value != 0 && value % base == 0 {
            value /= base
            suffix = next
        }
        return "\(value)\(suffix)"
    }
}
