// Types of the modules below that ControlPlane's users need as they are: the `/status` document,
// the Envoy bootstrap and where Envoy finds the rate limit service. Re-exported so that the command line depends on ControlPlane alone.
@_exported import AdminAPI
@_exported import Explain

@_exported import struct GatewayIR.GlobalRateLimitService
@_exported import struct Lint.Finding
@_exported import enum Lint.Linter
@_exported import struct XDSServer.ADSServerConfiguration
@_exported import struct XDSServer.EnvoyBootstrap
@_exported import struct XDSServer.PushPacing
