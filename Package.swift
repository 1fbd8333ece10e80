// swift-tools-version: 6.2
import PackageDescription

// Every function of our modules in a section of its own, so that the linker can put the ones
// `serve` runs side by side (see the switchboard target).
let layout: [SwiftSetting] = [.unsafeFlags(["-Xfrontend", "-function-sections"])]

// Our own targets: Swift 6 language mode, and on CI every warning is an error (docs/architecture.md).
let strict: [SwiftSetting] =
    [.swiftLanguageMode(.v6)] + (Context.environment["CI"] == "true" ? [.treatAllWarnings(as: .error)] : [])
    + layout

// Exact versions: these are the ones mirrored on our build machines and CI; no others resolve.
let package = Package(
    name: "Switchboard",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "XDSCache", targets: ["XDSCache"]),
        .library(name: "XDSServer", targets: ["XDSServer"]),
        .executable(name: "switchboard", targets: ["switchboard"]),
        .executable(name: "xds-bench", targets: ["XDSBenchmark"]),
        .executable(name: "translate-bench", targets: ["TranslationBenchmark"]),
        .executable(name: "reload-bench", targets: ["ReloadBenchmark"]),
        .executable(name: "ads-load", targets: ["ADSLoadBenchmark"]),
        .executable(name: "ratelimit-bench", targets: ["RateLimitBenchmark"]),
        .executable(name: "loader-fuzz", targets: ["LoaderFuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/grpc/grpc-swift-2", exact: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", exact: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", exact: "2.4.1"),
        // No default traits: `BinaryDelimitedStreams` imports all of Foundation (see CanonicalText).
        .package(url: "https://github.com/apple/swift-protobuf", exact: "1.39.0", traits: []),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-nio", exact: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-http2", exact: "1.46.0"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", exact: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", exact: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
        // No default traits: `FullFoundation` links all of Foundation, `ConfigurationSupport` swift-configuration.
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1", traits: []),
        .package(url: "https://github.com/swift-server/swift-prometheus", exact: "2.4.1"),
        .package(url: "https://github.com/apple/swift-certificates", exact: "1.21.1"),
        // Already in the graph through swift-certificates; named for PEM documents.
        .package(url: "https://github.com/apple/swift-asn1", exact: "1.7.4"),
        // Already in the graph through grpc-swift-nio-transport; named for the admin server's TLS.
        .package(url: "https://github.com/apple/swift-nio-ssl", exact: "2.37.6"),
        // Already in the graph through hummingbird; the admin client's HTTP and the tests'
        // (ControlPlane's AdminClient and XDSTesting's HTTP say why not URLSession).
        .package(url: "https://github.com/swift-server/async-http-client", exact: "1.37.0"),
    ],
    targets: [
        // Generated from proto/ by proto/generate.sh; never edited by hand.
        .target(
            name: "EnvoyAPI",
            dependencies: [
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)] + layout
        ),
        .target(
            name: "XDSCache",
            dependencies: [
                "EnvoyAPI",
                "Parallel",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "XDSServer",
            dependencies: [
                "XDSCache", "EnvoyAPI",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "XDSTesting",
            dependencies: [
                "XDSCache", "XDSServer", "EnvoyAPI", "AdminAPI", "RedisClient", "GatewayIR",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCInProcessTransport", package: "grpc-swift-2"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "GatewayAPI",
            dependencies: ["RegexEngine", "Parallel", "YAMLTree"],
            swiftSettings: strict
        ),
        // libyaml (Debian libyaml-dev), the C YAML parser and emitter; Yams's Swift layer would
        // bring all of Foundation (and ICU) into every process.
        .systemLibrary(name: "CLibYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        // libyaml's events composed into one flat tree with positions (a tree of node objects cost
        // two thirds of decoding), and what a plain scalar reads as.
        .target(name: "YAMLTree", dependencies: ["CLibYAML"], swiftSettings: strict),
        .target(name: "GatewayIR", swiftSettings: strict),
        // Work on every core for independent parts (files, clusters, virtual hosts).
        .target(name: "Parallel", swiftSettings: strict),
        // JSON → sorted, block-style YAML: goldens and `switchboard translate` read alike.
        .target(name: "CanonicalText", dependencies: ["YAMLTree", "CLibYAML"], swiftSettings: strict),
        // The admin server's `/status` document, for the server, the CLI and tests alike.
        .target(name: "AdminAPI", swiftSettings: strict),
        // RE2 (Debian libre2-dev), the engine Envoy matches regular expressions with, behind a C
        // function, and the Swift that asks it whether Envoy will take a pattern.
        .target(name: "CRE2", linkerSettings: [.linkedLibrary("re2")]),
        .target(name: "RegexEngine", dependencies: ["CRE2"], swiftSettings: strict),
        // Certificates and private keys, checked as Envoy will load them (swift-certificates).
        .target(
            name: "TLSCertificates",
            dependencies: [
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: strict),
        .target(
            name: "GatewayTranslator",
            dependencies: ["GatewayAPI", "GatewayIR", "Parallel", "RegexEngine", "TLSCertificates"],
            swiftSettings: strict),
        .target(
            name: "XDSTranslator",
            dependencies: [
                "GatewayIR", "XDSCache", "EnvoyAPI", "Parallel",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            swiftSettings: strict
        ),
        // Best-practice checks on a loaded configuration (`switchboard lint`).
        .target(name: "Lint", dependencies: ["GatewayAPI"], swiftSettings: strict),
        // What applies to a route rule or a request, and why (`switchboard explain`).
        .target(
            name: "Explain", dependencies: ["GatewayAPI", "GatewayIR", "GatewayTranslator", "RegexEngine"],
            swiftSettings: strict),
        .target(
            name: "ControlPlane",
            dependencies: [
                "RateLimitService", "Lint", "Explain",
                "TLSCertificates",
                "GatewayAPI", "GatewayIR", "GatewayTranslator", "XDSTranslator", "XDSServer", "XDSCache", "EnvoyAPI",
                "Parallel",
                "CHeap",
                "AdminAPI", "CanonicalText",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: strict
        ),
        // The CLI: arguments in, ControlPlane does the rest.
        .executableTarget(
            name: "switchboard",
            dependencies: [
                "ControlPlane",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["hot-functions.txt"],
            swiftSettings: strict,
            // The toolchain's lld, with relative relocations packed (DT_RELR, glibc 2.36+): the
            // table the loader reads once at start is 0.5 MB instead of 2.5, and stays resident.
            // The functions `serve` runs to start and load go first, side by side, in the order
            // of hot-functions.txt (written by scripts/hot-functions): the kernel maps a binary's
            // code 64 KiB around each page first run, so code run once and scattered keeps most
            // of the text resident. Names the build no longer has are passed over.
            linkerSettings: [
                .unsafeFlags([
                    "-use-ld=lld", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs",
                    "-Xlinker",
                    "--symbol-ordering-file=\(Context.packageDirectory)/Sources/switchboard/hot-functions.txt",
                    "-Xlinker", "--no-warn-symbol-ordering",
                ])
            ]
        ),
        .executableTarget(
            name: "XDSBenchmark",
            dependencies: [
                "XDSCache", "XDSServer", "XDSTesting", "CHeap",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "RateLimitBenchmark",
            dependencies: [
                "RateLimitService", "EnvoyAPI", "XDSTesting",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "TranslationBenchmark",
            dependencies: [
                "ControlPlane", "XDSCache", "XDSTesting", "GatewayTranslator", "XDSTranslator",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "ReloadBenchmark",
            dependencies: [
                "ControlPlane", "XDSCache", "XDSServer", "XDSTesting",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "ADSLoadBenchmark",
            dependencies: [
                "XDSCache", "XDSServer", "XDSTesting", "EnvoyAPI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
            ],
            swiftSettings: strict
        ),
        // glibc's malloc_trim and mallinfo2, which the Glibc module does not import.
        // A small Redis client (RESP2 over SwiftNIO) for the rate limit service's shared counters:
        // no Swift Redis client is among our dependencies.
        .target(
            name: "RedisClient",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict),
        // Envoy's rate limit service for global rate limits: fixed windows counted in memory or in
        // Redis, limits from the translated configuration.
        .target(
            name: "RateLimitService",
            dependencies: [
                "RedisClient", "GatewayIR", "EnvoyAPI", .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Metrics", package: "swift-metrics"), .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict),
        .target(name: "CHeap"),
        // The fuzz target: replays inputs; scripts/fuzz builds it with libFuzzer.
        .target(name: "CFuzzDriver"),
        .executableTarget(
            name: "LoaderFuzz", dependencies: ["GatewayAPI", "GatewayTranslator", "XDSTranslator", "CFuzzDriver"],
            swiftSettings: strict),
        .testTarget(name: "XDSCacheTests", dependencies: ["XDSCache", "XDSTesting"], swiftSettings: strict),
        .testTarget(
            name: "XDSServerTests",
            dependencies: [
                "XDSServer", "XDSTesting", "EnvoyAPI",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "GatewayAPITests", dependencies: ["GatewayAPI", "YAMLTree", .product(name: "Yams", package: "Yams")],
            swiftSettings: strict),
        .testTarget(
            name: "RateLimitServiceTests",
            dependencies: [
                "RateLimitService", "RedisClient", "XDSTesting", "GatewayIR", "EnvoyAPI", "XDSTranslator",
                .product(name: "Yams", package: "Yams"), .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "RedisClientTests",
            dependencies: [
                "RedisClient", "XDSTesting", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict),
        .testTarget(name: "LintTests", dependencies: ["Lint", "GatewayAPI", "XDSTesting"], swiftSettings: strict),
        .testTarget(
            name: "ExplainTests", dependencies: ["Explain", "GatewayAPI", "ControlPlane", "XDSTesting"],
            swiftSettings: strict),
        .testTarget(name: "RegexEngineTests", dependencies: ["RegexEngine"], swiftSettings: strict),
        // Goldens in two stages, as Envoy Gateway keeps them (Tests/Goldens): YAML → IR + status here,
        // IR → xDS in XDSTranslatorTests.
        .testTarget(
            name: "GatewayTranslatorTests",
            dependencies: [
                "GatewayTranslator", "GatewayAPI", "GatewayIR", "XDSTesting", "CanonicalText",
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "XDSTranslatorTests",
            dependencies: [
                "XDSTranslator", "Parallel", "GatewayTranslator", "GatewayAPI", "GatewayIR", "XDSCache", "XDSTesting",
                "CanonicalText",
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "SwitchboardCLITests",
            dependencies: ["XDSTesting", "EnvoyAPI", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            swiftSettings: strict),
        .testTarget(
            name: "ControlPlaneTests",
            dependencies: [
                "ControlPlane", "XDSCache", "XDSServer", "XDSTesting", "EnvoyAPI",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "DeployTests",
            dependencies: ["ControlPlane", "GatewayAPI", "XDSTesting", .product(name: "Yams", package: "Yams")],
            swiftSettings: strict),
        .testTarget(
            name: "EnvoyEndToEndTests",
            dependencies: [
                "ControlPlane", "XDSServer", "XDSTesting", "XDSTranslator", "GatewayTranslator", "GatewayAPI",
                "GatewayIR", "RateLimitService", "EnvoyAPI", "XDSCache", "Explain",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                "AdminAPI", "YAMLTree", .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strict),
    ]
)
