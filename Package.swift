// swift-tools-version:6.2
import PackageDescription

/// Our targets' settings. Under `LIANDONG_STRICT=1` (set by `.ci/run`) they build with warnings as
/// errors; without it a newer compiler's new warning does not stop anyone's build.
var swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]
if Context.environment["LIANDONG_STRICT"] == "1" {
    swiftSettings.append(.unsafeFlags(["-warnings-as-errors"]))
}

let package = Package(
    name: "liandong",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "liandong", targets: ["liandong"]),
        .library(name: "LiandongAdapterKit", targets: ["LiandongAdapterKit"]),
        .library(name: "LiandongTestKit", targets: ["LiandongTestKit"]),
        .library(name: "LiandongTestSupport", targets: ["LiandongTestSupport"]),
    ],
    dependencies: [
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
    ],
    targets: [
        // Pure values: records, identifiers, codes, coordinates, divisions, masking.
        .target(
            name: "LiandongModel", dependencies: [.product(name: "Crypto", package: "swift-crypto")], swiftSettings: swiftSettings
        ),
        // libxml2's XML Schema validator (CAP 1.2 documents against the OASIS schema).
        .systemLibrary(name: "CLibXML2", pkgConfig: "libxml-2.0", providers: [.apt(["libxml2-dev"])]),
        .systemLibrary(name: "CMalloc"),
        // Documents (JSON/XML/CSV), encodings, schemas and the YAML mapping language.
        .target(
            name: "LiandongMapping",
            dependencies: ["LiandongModel", "CLibXML2", .product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
        // The PostgreSQL store: migrations, ingest transaction, audit chain, quarantine, queries.
        .target(
            name: "LiandongHub",
            dependencies: [
                "LiandongModel",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.copy("Migrations")],
            swiftSettings: swiftSettings
        ),
        // Adapter protocols and the declarative transports an agency folder's adapter.yaml names:
        // HTTP (paging, auth, signing, retries, pacing), drop folders and another database's tables.
        .target(
            name: "LiandongAdapterKit",
            dependencies: [
                "LiandongModel", "LiandongMapping",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The engine: pull -> map -> ingest.
        .target(
            name: "LiandongSync",
            dependencies: [
                "LiandongHub", "LiandongAdapterKit", "LiandongMapping", "LiandongModel",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The composition root: the configuration file and the catalog of agency folders (Adapters/),
        // where a Swift transport would register.
        .target(
            name: "LiandongConfiguration",
            dependencies: [
                "LiandongModel", "LiandongMapping", "LiandongHub", "LiandongAdapterKit", "LiandongSync",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        // Simulated agency systems with injectable faults: the built-in agencies, and any agency folder
        // served from its sample pages.
        .target(
            name: "LiandongSimulator",
            dependencies: [
                "LiandongModel", "LiandongMapping", "LiandongAdapterKit", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"), .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Light helpers for every test target and adapter author: paths, scratch files, mapping
        // fixtures, the CLI runner, waiting, tags. No database.
        .target(name: "LiandongTestKit", dependencies: ["LiandongMapping"], swiftSettings: swiftSettings),
        // The test PostgreSQL, SQL from outside the hub, simulators and their adapters.
        .target(
            name: "LiandongTestSupport",
            dependencies: [
                "LiandongTestKit", "LiandongModel", "LiandongMapping", "LiandongHub", "LiandongSync", "LiandongConfiguration", "LiandongSimulator", "LiandongAdapterKit",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // HTTP: /healthz, /readyz and /metrics for operations; the admin console (Mustache pages) and its
        // JSON API, with logins, sessions, roles and personal data masked.
        .target(
            name: "LiandongServer",
            dependencies: [
                "LiandongHub", "LiandongSync", "LiandongMapping", "LiandongModel",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.copy("Templates"), .copy("Assets"), .copy("openapi.yaml")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "liandong",
            dependencies: [
                "LiandongSync", "LiandongConfiguration", "LiandongSimulator", "LiandongServer", "LiandongAdapterKit", "CMalloc",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "LiandongModelTests", dependencies: ["LiandongModel", "LiandongTestKit"], swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "LiandongMappingTests", dependencies: ["LiandongMapping", "LiandongTestKit"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "LiandongAdapterKitTests",
            dependencies: ["LiandongAdapterKit", "LiandongMapping", "LiandongTestKit", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "LiandongHubTests",
            dependencies: ["LiandongHub", "LiandongMapping", "LiandongSync", "LiandongTestKit", "LiandongTestSupport", .product(name: "PostgresNIO", package: "postgres-nio")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "LiandongConsoleTests",
            dependencies: [
                "LiandongServer", "LiandongHub", "LiandongModel", "LiandongMapping", "LiandongSync", "LiandongSimulator", "LiandongTestKit",
                "LiandongTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"), .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"), .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "LiandongEndToEndTests",
            dependencies: [
                "LiandongSync", "LiandongConfiguration", "LiandongMapping", "LiandongSimulator", "LiandongTestKit", "LiandongTestSupport",
                "liandong", "LiandongAdapterKit",
                .product(name: "Hummingbird", package: "hummingbird"), .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"), .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
