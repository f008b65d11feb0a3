// swift-tools-version:6.0
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

// Linux only: safebuild reads /proc and cgroups, uses signalfd, prctl and posix_spawn, and supervises a Linux docker.
// No library product: SafebuildKit is the logic behind the two executables, shared with the tests through `package`
// access.
let package = Package(
    name: "safebuild",
    products: [
        .executable(name: "safebuild", targets: ["safebuild"]),
        .executable(name: "docker-fault", targets: ["docker-fault"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        // safebuild's own commands only (doctor, policy, journal, retry): never on the docker path.
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // C shims for what Swift cannot call directly (variadic ioctl, pseudo-terminals, signalfd).
        .target(name: "CSafebuild"),
        // The plain docker commands exec'd before Swift starts (a C constructor): pass-through at the cost of a C
        // exec wrapper. Linked into the executable, and into the unit tests that hold it to safebuild's own answer.
        .target(name: "PassThroughFront"),
        .target(
            name: "SafebuildKit",
            dependencies: [
                "CSafebuild", .product(name: "Yams", package: "Yams"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            resources: [.embedInCode("Resources/default-policy.yml")],
            swiftSettings: strict
        ),
        .executableTarget(name: "safebuild", dependencies: ["PassThroughFront", "SafebuildKit"], swiftSettings: strict),
        // The fault-injection front used by tests and the recovery benchmark (see Scripts/).
        .executableTarget(name: "docker-fault", dependencies: ["SafebuildKit"], swiftSettings: strict),
        .target(name: "SafebuildTestSupport", dependencies: ["SafebuildKit"], swiftSettings: strict),
        .testTarget(
            name: "SafebuildKitTests",
            dependencies: ["PassThroughFront", "SafebuildKit", "SafebuildTestSupport"],
            exclude: ["Fixtures"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "EngineTests",
            dependencies: ["SafebuildKit", "SafebuildTestSupport"],
            swiftSettings: strict
        ),
    ]
)
