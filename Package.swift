// swift-tools-version:6.2
import PackageDescription

let package = Package(
    name: "failoverctl",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "failoverctl", targets: ["failoverctl"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // Domain and pure decision logic: Foundation only.
        .target(name: "FailoverCore"),
        // Reading and validating YAML config into FailoverCore's model.
        .target(
            name: "FailoverConfig",
            dependencies: ["FailoverCore", .product(name: "Yams", package: "Yams")]
        ),
        // libcurl: the only module that includes curl.h, plus a C shim for variadic calls.
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .target(name: "CurlShim", dependencies: ["CCurl"]),
        // C library calls the Glibc module does not export (mallopt).
        .target(name: "CHostShim"),
        // The guard process every command is started under: it kills the command's process
        // group when the controller dies (fork, poll on a lifeline pipe and the child's pidfd).
        .target(name: "CSpawnShim"),
        // SHA-256 and HMAC-SHA256 from OpenSSL's libcrypto for SigV4 (no swift-crypto/BoringSSL build).
        .target(name: "CCryptoShim", linkerSettings: [.linkedLibrary("crypto")]),
        // One outbound HTTP engine (curl multi on one thread) for probes, APIs and the CLI.
        .target(name: "CurlHTTP", dependencies: ["CCurl", "CurlShim"]),
        // libpq (PostgreSQL client): the only module that includes libpq-fe.h.
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        // Blocking libpq connections on dedicated threads, bounded and cancellable (postgres plugin and check).
        // FailoverCore for the shared model of what a server is (DatabaseObservation).
        .target(name: "PGWire", dependencies: ["CLibPQ", "FailoverCore"]),
        .target(name: "Probes", dependencies: ["FailoverCore", "CurlHTTP", "PGWire"]),
        .target(name: "Coordination", dependencies: ["FailoverCore", "CurlHTTP"]),
        // Alerts: rendering for PagerDuty, Slack and webhooks, and delivery from the outbox.
        .target(name: "Alerting", dependencies: ["FailoverCore", "CurlHTTP"]),
        // Action plugins (exec, haproxy, powerdns, cloudflare), the step runner and the pre hook.
        .target(
            name: "Actions",
            dependencies: [
                "FailoverCore", "CurlHTTP", "CCryptoShim", "CSpawnShim", "PGWire",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "EventLog",
            dependencies: ["FailoverCore", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .target(
            name: "Controller",
            dependencies: [
                "FailoverCore", "FailoverConfig", "Probes", "Coordination", "EventLog", "CurlHTTP", "Actions", "Alerting",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                // The /metrics registry; swift-metrics' CoreMetrics comes with it.
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        .executableTarget(
            name: "failoverctl",
            dependencies: [
                "Controller", "FailoverCore", "FailoverConfig", "EventLog", "CurlHTTP", "Probes", "CHostShim", "Actions",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Test helper: writes events until killed (crash-safety test of the event log).
        .executableTarget(
            name: "eventlog-crash-writer",
            dependencies: ["EventLog", "FailoverCore"],
            path: "Sources/EventLogCrashWriter"
        ),
        // Test helper: runs one exec step and waits (killed by the test: its command must die with it).
        .executableTarget(
            name: "exec-orphan-helper",
            dependencies: ["Actions", "FailoverCore"],
            path: "Sources/ExecOrphanHelper"
        ),
        // Benchmark driver: N HTTP probes or N targets on a schedule, reporting CPU and RSS.
        .executableTarget(
            name: "probe-bench",
            dependencies: ["Probes", "CurlHTTP", "FailoverCore"],
            path: "Sources/ProbeBench"
        ),
        // Benchmark driver: quorum verdict to first plan step, through a real controller runtime.
        .executableTarget(
            name: "failover-bench",
            dependencies: [
                "Controller", "Actions", "EventLog", "FailoverCore", "FailoverTesting",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/FailoverBench"
        ),
        // Test kit: manual clock, recording fakes, scenario runner, server harness.
        .target(
            name: "FailoverTesting",
            dependencies: ["FailoverCore", "Coordination", "PGWire", .product(name: "Yams", package: "Yams")]
        ),
        .testTarget(
            name: "FailoverCoreTests",
            dependencies: ["FailoverCore", "FailoverConfig", "FailoverTesting", "Coordination"],
            resources: [.copy("Scenarios"), .copy("BadConfigs"), .copy("GroupScenarios"), .copy("LeadershipScenarios")]
        ),
        // Probes against real nginx / TCP listeners / ICMP on loopback.
        .testTarget(
            name: "ProbesTests",
            dependencies: ["FailoverCore", "Probes", "CurlHTTP", "FailoverTesting", "PGWire"]
        ),
        // Exec plugin against real child processes; the step runner with recording plugins.
        .testTarget(
            name: "ActionsTests",
            dependencies: ["Actions", "FailoverCore", "FailoverTesting", "PGWire"]
        ),
        // Alert rules, rendering, and delivery to contract servers on loopback.
        .testTarget(
            name: "AlertingTests",
            dependencies: ["Alerting", "FailoverCore", "FailoverTesting", "CurlHTTP"]
        ),
        .testTarget(
            name: "EventLogTests",
            dependencies: ["FailoverCore", "EventLog", "FailoverTesting", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        // The controller's loops on a manual clock with scripted probes and an in-memory log.
        .testTarget(
            name: "ControllerTests",
            dependencies: ["Controller", "FailoverCore", "EventLog", "Coordination", "FailoverTesting"]
        ),
        // The controller and the CLI binary end to end against real servers.
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "FailoverCore", "FailoverConfig", "Probes", "CurlHTTP", "EventLog", "Controller",
                "FailoverTesting",
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
