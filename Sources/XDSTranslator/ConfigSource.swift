import EnvoyAPI

extension Envoy_Config_Core_V3_ConfigSource {
    /// "Over the same ADS stream, v3": how every EDS and RDS reference Switchboard writes is resolved.
    static var adsV3: Self {
        var source = Self()
        source.ads = Envoy_Config_Core_V3_AggregatedConfigSource()
        source.resourceApiVersion = .v3
        return source
    }
}
