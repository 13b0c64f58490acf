// swift-tools-version:6.0
// TickBus: a shared-memory market-data bus with embedded models.
// One target per concern; dependencies flow one way (see Docs/ARCHITECTURE-NOTES.md).
import PackageDescription

let hot: [SwiftSetting] = [
    // Hot modules check exclusivity statically; the dynamic check costs a call per access.
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))
]

let package = Package(
    name: "tickbus",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "tickbus", targets: ["tickbus"]),
        .library(name: "TickBusCore", targets: ["TickBusCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // System libraries (liburing, libnuma, affinity), atomics and the C baseline ring.
        .target(
            name: "CTickBus",
            linkerSettings: [.linkedLibrary("uring"), .linkedLibrary("numa")]
        ),
        // Counts mallocs per thread by interposing glibc's allocator; linked into the executable.
        .target(name: "CMallocCounter"),
        // LightGBM's C API loaded with dlopen: the baseline of `tickbus bench model`.
        .target(name: "CLightGBMBaseline", linkerSettings: [.linkedLibrary("dl")]),
        // Segments, rings, message layouts, clocks.
        .target(name: "TickBusCore", dependencies: ["CTickBus"], swiftSettings: hot),
        // Order books (order-level and price-level). Debug builds (the tests) check the book's
        // invariants after every change; release builds compile the checks out.
        .target(
            name: "Book",
            dependencies: ["TickBusCore"],
            swiftSettings: hot + [.define("TICKBUS_INVARIANTS", .when(configuration: .debug))]
        ),
        // Market data sources: synthetic, ITCH 5.0, MoldUDP64, LOBSTER.
        .target(name: "Feed", dependencies: ["TickBusCore", "Book", "CTickBus", "CFeed"], swiftSettings: hot),
        // zlib reading of gzip ITCH files and the C baseline loop of `bench feed`.
        .target(name: "CFeed", linkerSettings: [.linkedLibrary("z")]),
        // Own orders matched against the order-level book in exchange time: latency, queue position,
        // partial fills, fees (Docs/EXECUTION.md). The same code runs in paper trading and backtests.
        .target(name: "Execution", dependencies: ["TickBusCore", "Book"], swiftSettings: hot),
        // The backtest's accounts and outputs: pnl.csv, report.json, report.html (Docs/EXECUTION.md,
        // "report.json"). Not a hot module: Foundation for JSON.
        .target(name: "BacktestReport", dependencies: ["TickBusCore", "Execution"]),
        // Feature definitions and incremental evaluation.
        .target(name: "Features", dependencies: ["TickBusCore", "Book"], swiftSettings: hot),
        // Model loaders (LightGBM, XGBoost, linear, ONNX MLP) and flat evaluators.
        .target(name: "Models", dependencies: [], swiftSettings: hot),
        // The strategy loop: ring in, features, models, decision records out; with an execution file,
        // the order policy, risk limits and the simulator (paper trading).
        .target(
            name: "Strategy",
            dependencies: ["TickBusCore", "Book", "Features", "Models", "Execution", "CTickBus"],
            swiftSettings: hot
        ),
        // libzstd (Debian's libzstd-dev) for the Parquet target's ZSTD pages.
        .target(name: "CZstd", linkerSettings: [.linkedLibrary("zstd")]),
        // Parquet files written natively (encoder, Thrift compact metadata, ZSTD) and read back
        // (Docs/PARQUET.md): the core and libzstd only.
        .target(name: "Parquet", dependencies: ["TickBusCore", "CZstd"], swiftSettings: hot),
        // `tickbus export`: journal rings as Parquet tables (Docs/PARQUET.md).
        .target(name: "Export", dependencies: ["TickBusCore", "Journal", "Parquet"], swiftSettings: hot),
        // Journals (io_uring writer, verifying reader).
        .target(name: "Journal", dependencies: ["TickBusCore", "CTickBus"]),
        // Replay: the journal market source, opening any source spec, the replay publisher, the
        // decision verifier and the offline feature table (shared by replay, demo and the backtest).
        .target(
            name: "Replay",
            dependencies: [
                "TickBusCore", "CTickBus", "Feed", "Features", "Journal", "Strategy", "Execution", "Book",
                "BacktestReport",
            ],
            swiftSettings: hot
        ),
        // Feature snapshots (content-addressed Parquet + manifest) and point-in-time lookup (Docs/FEATURESTORE.md).
        .target(
            name: "FeatureStore",
            dependencies: ["Features", "Feed", "Replay", "Journal", "Parquet", "Export", "Registry"]
        ),
        // `tickbus republish`: a ring as MoldUDP64 over UDP (multicast or unicast), with a
        // retransmission request server answering from a window and the journal (Docs/MULTIHOST.md).
        .target(name: "Republish", dependencies: ["TickBusCore", "CTickBus", "Feed", "Journal"], swiftSettings: hot),
        // Counters, histograms, /metrics and stat.
        .target(
            name: "Telemetry",
            dependencies: [
                "TickBusCore", "CTickBus",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // Every benchmark (`tickbus bench …`, `tickbus metrics --bench-scrape`), on the libraries it measures.
        .target(
            name: "Bench",
            dependencies: [
                "TickBusCore", "CTickBus", "CMallocCounter", "CLightGBMBaseline", "CFeed", "Book", "Feed", "Models",
                "Journal", "Features", "Strategy", "Execution", "Replay", "Export", "Republish",
                "Telemetry", .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            exclude: ["Drift"],
            swiftSettings: hot
        ),
        // The model registry: content-addressed versions, the hash-chained alias log, validation
        // gates (latency measured with Bench's percentiles) and Ed25519 approvals (Docs/REGISTRY.md).
        .target(
            name: "Registry",
            dependencies: [
                "Models", "Features", "Strategy", "Bench", "CTickBus", "BacktestReport",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Drift statistics against frozen baselines, and the drift monitor (Docs/DRIFT.md).
        .target(name: "Drift", dependencies: ["TickBusCore", "Features", "Registry"], swiftSettings: hot),
        // `tickbus bench drift` (Sources/Bench/Drift): its own target because Drift depends on Registry,
        // which depends on Bench (a Bench that imported Drift would be a cycle).
        .target(
            name: "DriftBench",
            dependencies: ["Drift", "Bench", "CMallocCounter", "CTickBus"],
            path: "Sources/Bench/Drift",
            swiftSettings: hot
        ),
        // The control server's submission frame (Docs/CONTROL.md): core only, so the fuzz build compiles it alone.
        .target(name: "ControlWire", dependencies: ["TickBusCore"]),
        // `tickbus control serve` (the one producer of ring `control`, checking against the registry) and its client.
        .target(name: "Control", dependencies: ["ControlWire", "Registry", "TickBusCore", "CTickBus"]),
        // The drift policy file (levels, thresholds, actions, canary settings) and its state over
        // windows: on the definitions' TOML subset only, so the fuzz build compiles its reader alone.
        .target(name: "DriftPolicy", dependencies: ["Features"]),
        // The drift monitor of `tickbus drift` (Docs/DRIFT.md): windows of a strategy's decisions, outcomes
        // from the market's books, the policy's actions through the control server, the paired canary
        // analysis, /metrics. Apart from `Drift`, whose statistics need none of control, journals or telemetry.
        .target(
            name: "DriftMonitor",
            dependencies: [
                "Drift", "DriftPolicy", "TickBusCore", "CTickBus", "Book", "Features", "Registry", "Control",
                "ControlWire", "Journal", "BacktestReport", "Telemetry",
            ]
        ),
        // `tickbus demo`: the whole session in child processes (through the tests' process harness),
        // replayed and checked (Foundation is fine here).
        .target(name: "Demo", dependencies: ["TickBusCore", "Journal", "TestSupport"]),
        .executableTarget(
            name: "tickbus",
            dependencies: [
                "TickBusCore", "Feed", "Book", "Features", "Models", "Strategy", "Journal", "Replay", "Demo",
                "Telemetry", "Bench", "Registry", "Control", "ControlWire", "Execution", "BacktestReport",
                "CMallocCounter", "CTickBus", "Drift", "DriftBench", "DriftPolicy", "DriftMonitor", "Export",
                "FeatureStore", "Republish",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Process harness shared by the test targets and the demo (Foundation is fine here).
        .target(name: "TestSupport", path: "Sources/TestSupport"),
        .testTarget(name: "TickBusCoreTests", dependencies: ["TickBusCore", "CTickBus", "TestSupport"]),
        .testTarget(
            name: "FeedTests",
            dependencies: ["Feed", "Book", "Bench", "TickBusCore", "TestSupport", "tickbus"]
        ),
        .testTarget(name: "BusProcessTests", dependencies: ["TestSupport", "tickbus"]),
        .testTarget(
            name: "RepublishTests",
            dependencies: ["Republish", "Feed", "Journal", "TickBusCore", "CTickBus", "TestSupport", "tickbus"]
        ),
        .testTarget(
            name: "ModelsTests",
            dependencies: ["Models", "Bench", "TestSupport", "tickbus"],
            exclude: ["Fixtures"]
        ),
        .testTarget(name: "FeaturesTests", dependencies: ["Features", "TickBusCore"]),
        .testTarget(
            name: "ExecutionTests",
            dependencies: ["Execution", "Book", "Feed", "Replay", "TickBusCore", "TestSupport", "tickbus"],
            exclude: ["reference_sim.py"]
        ),
        .testTarget(
            name: "StrategyTests",
            dependencies: [
                "Strategy", "Models", "Features", "Feed", "Book", "Execution", "TickBusCore", "TestSupport", "tickbus",
            ]
        ),
        .testTarget(name: "TelemetryTests", dependencies: ["Telemetry", "TickBusCore", "TestSupport", "tickbus"]),
        .testTarget(
            name: "JournalTests",
            dependencies: [
                "Journal", "Replay", "Strategy", "Execution", "TickBusCore", "Feed", "TestSupport", "tickbus",
            ],
            exclude: ["backtest_pnl_check.py"]
        ),
        .testTarget(
            name: "ParquetTests",
            dependencies: ["Parquet", "Export", "Journal", "TickBusCore", "TestSupport", "tickbus"],
            exclude: ["parquet_readers.py", "export_check.py"]
        ),
        .testTarget(
            name: "FeatureStoreTests",
            dependencies: ["FeatureStore", "Registry", "Parquet", "Journal", "TickBusCore", "TestSupport", "tickbus"],
            exclude: ["snapshot_check.py"]
        ),
        .testTarget(
            name: "BacktestReportTests",
            dependencies: ["BacktestReport", "Execution", "TickBusCore", "TestSupport"],
            exclude: ["Reference"]
        ),
        .testTarget(
            name: "RegistryTests",
            dependencies: ["Registry", "Models", "BacktestReport", "TestSupport", "tickbus"]
        ),
        .testTarget(
            name: "ControlTests",
            dependencies: [
                "Control", "ControlWire", "Registry", "Journal", "TickBusCore", "CTickBus", "TestSupport", "tickbus",
            ]
        ),
        .testTarget(
            name: "DriftTests",
            dependencies: [
                "Drift", "DriftPolicy", "DriftMonitor", "Registry", "Journal", "TickBusCore", "Features", "TestSupport",
                "tickbus",
            ],
            exclude: ["statistics_reference.py", "baseline_reference.py", "shift_itch.py"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
