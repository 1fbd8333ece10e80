import EnvoyAPI
import XDSCache

/// The gRPC edge: protobuf messages in and out of the state machines' value types.
/// Resources are not re-serialized here; their packed bytes are shared from the snapshot.

extension SotWRequest {
    init(_ request: Envoy_Service_Discovery_V3_DiscoveryRequest) {
        self.init(
            typeURL: request.typeURL, versionInfo: request.versionInfo, responseNonce: request.responseNonce,
            resourceNames: request.resourceNames,
            errorDetail: request.hasErrorDetail ? ErrorDetail(request.errorDetail) : nil)
    }
}

extension DeltaRequest {
    init(_ request: Envoy_Service_Discovery_V3_DeltaDiscoveryRequest) {
        self.init(
            typeURL: request.typeURL, responseNonce: request.responseNonce,
            subscribe: request.resourceNamesSubscribe, unsubscribe: request.resourceNamesUnsubscribe,
            initialResourceVersions: request.initialResourceVersions,
            errorDetail: request.hasErrorDetail ? ErrorDetail(request.errorDetail) : nil)
    }
}

extension ErrorDetail {
    init(_ status: Google_Rpc_Status) {
        self.init(code: status.code, message: status.message)
    }
}

extension SotWResponse {
    var message: Envoy_Service_Discovery_V3_DiscoveryResponse {
        var message = Envoy_Service_Discovery_V3_DiscoveryResponse()
        message.typeURL = type.typeURL
        message.versionInfo = versionInfo
        message.nonce = nonce
        message.resources = resources.map(\.packed)
        return message
    }
}

extension DeltaResponse {
    var message: Envoy_Service_Discovery_V3_DeltaDiscoveryResponse {
        var message = Envoy_Service_Discovery_V3_DeltaDiscoveryResponse()
        message.typeURL = type.typeURL
        message.systemVersionInfo = systemVersionInfo
        message.nonce = nonce
        message.resources = resources.map(\.deltaResource)
        message.removedResources = removedResources
        return message
    }
}
