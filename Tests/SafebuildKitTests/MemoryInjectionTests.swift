import Testing
@testable import SafebuildKit

/// argv in, argv out: the policy's memory defaults in every spelling docker accepts.
@Suite struct MemoryInjectionTests {
    static let host: UInt64 = 16 << 30

    /// What the policy resolves to for one command, as `Policy.limits(for:)` returns it.
    static func limits(
        memory: UInt64? = 4 << 30, swap: SwapRule? = .noSwap, shm: UInt64? = nil, enforcement: BuildEnforcement? = nil
    ) -> ResolvedLimits {
        ResolvedLimits(
            memory: memory, memorySwap: memory.flatMap { m in swap?.memorySwap(memory: m, hostMemory: host) },
            swapRule: swap, shmSize: shm, enforcement: enforcement, hostMemory: host, decisions: [])
    }

    static let plan = limits()

    func inject(
        _ line: String, _ plan: ResolvedLimits = plan, env: [String: String] = [:],
        builder: BuilderFacts = SupervisionPlanTests.classicDocker
    ) -> MemoryInjection.Result {
        MemoryInjection.apply(
            plan, to: DockerCommandLine(line.split(separator: " ").map(String.init)), environment: env, builder: builder)
    }

    static let runCases: [(String, String)] = [
        // No memory flag: the policy's limit and swap rule go right after the subcommand.
        ("run img", "run --memory 4g --memory-swap 4g img"),
        ("container run --rm img", "container run --memory 4g --memory-swap 4g --rm img"),
        ("-H unix:///x.sock run img", "-H unix:///x.sock run --memory 4g --memory-swap 4g img"),
        // The container's own arguments are never read or touched.
        ("run img sh -c echo -m 1g", "run --memory 4g --memory-swap 4g img sh -c echo -m 1g"),
        ("run --rm img --memory=1g", "run --memory 4g --memory-swap 4g --rm img --memory=1g"),
        // The user's -m in every spelling wins; the policy's swap rule applies to the user's value.
        ("run -m 1g img", "run --memory-swap 1g -m 1g img"),
        ("run -m=1g img", "run --memory-swap 1g -m=1g img"),
        ("run -m1g img", "run --memory-swap 1g -m1g img"),
        ("run --memory 1g img", "run --memory-swap 1g --memory 1g img"),
        ("run --memory=1g img", "run --memory-swap 1g --memory=1g img"),
        ("run -itm 1g img", "run --memory-swap 1g -itm 1g img"),
        ("run -itm1g img", "run --memory-swap 1g -itm1g img"),
        // Both given: nothing to add.
        ("run -m 1g --memory-swap 2g img", "run -m 1g --memory-swap 2g img"),
        ("run --memory-swap=2g --memory=1g img", "run --memory-swap=2g --memory=1g img"),
        // --memory-swap alone is the user's error for docker to report.
        ("run --memory-swap 2g img", "run --memory-swap 2g img"),
        // Flags that take values are not mistaken for the image.
        ("run -e A=1 -v /a:/b --name x img", "run --memory 4g --memory-swap 4g -e A=1 -v /a:/b --name x img"),
        ("run -h host --rm img", "run --memory 4g --memory-swap 4g -h host --rm img"),
    ]

    @Test(arguments: runCases)
    func run(_ given: String, _ expected: String) {
        #expect(inject(given).arguments.joined(separator: " ") == expected)
    }

    @Test(arguments: [
        (SwapRule.noSwap, "--memory-swap 4g"),
        (.unlimited, "--memory-swap -1"),
        (.size(.bytes(6 << 30)), "--memory-swap 6g"),
        (.size(.bytes(1 << 30)), "--memory-swap 4g"),  // below memory: no swap rather than a docker error
        (.size(.share(50)), "--memory-swap 8g"),  // half of a 16g host
    ])
    func swapRules(_ swap: SwapRule, _ expected: String) {
        let result = inject("run img", Self.limits(swap: swap))
        #expect(result.arguments.joined(separator: " ") == "run --memory 4g \(expected) img")
    }

    @Test func noSwapRuleLeavesDockersDefault() {
        let plan = Self.limits(swap: nil)
        #expect(inject("run img", plan).arguments == ["run", "--memory", "4g", "img"])
        #expect(inject("run -m 1g img", plan).arguments == ["run", "-m", "1g", "img"])
    }

    @Test func noPolicyLimitInjectsNothing() {
        let result = inject("run img", Self.limits(memory: nil))
        #expect(result.arguments == ["run", "img"])
        #expect(result.decisions == ["no memory limit: the policy sets none for run"])
    }

    @Test func buildKeepsDockersClassicBuilderWhichEnforcesTheLimit() {
        let result = inject("build -t app .", Self.limits(shm: 256 << 20, enforcement: .classic))
        #expect(result.arguments == ["build", "--memory", "4g", "--memory-swap", "4g", "--shm-size", "256m", "-t", "app", "."])
        #expect(result.environment.isEmpty)
        #expect(result.enforced)
        #expect(result.notice == nil)
    }

    @Test func buildKeepsTheUsersBuildKitAndSaysTheLimitIsNotEnforced() {
        let result = inject("build .", Self.plan, env: ["DOCKER_BUILDKIT": "1"])
        #expect(result.environment == [:])
        #expect(!result.enforced)
        #expect(result.decisions.last == "DOCKER_BUILDKIT=1 is yours: BuildKit will not enforce the memory limit (moby/buildkit#593)")
    }

    @Test func buildNoticeModeKeepsTheBuilder() {
        let result = inject("build .", Self.limits(enforcement: .notice), builder: BuilderChoiceTests.modern)
        #expect(result.environment == [:])
        #expect(!result.enforced)
        #expect(result.arguments.prefix(3) == ["build", "--memory", "4g"])
        #expect(result.notice == "the memory limit may not be enforced: BuildKit ignores -m/--memory-swap (policy build.enforce: notice)")
    }

    @Test func buildOffInjectsNothing() {
        #expect(inject("build -t a .", Self.limits(enforcement: .off)).arguments == ["build", "-t", "a", "."])
    }

    @Test func buildxIsNeverGivenLimitsItIgnores() {
        let result = inject("buildx build -t a .")
        #expect(result.arguments == ["buildx", "build", "-t", "a", "."])
        #expect(!result.enforced)
        // The journal's memory_limit_enforced: false is also said on stderr, naming whose limit and why.
        #expect(result.notice == "the policy's memory limit 4g is not enforced for docker buildx build: buildx always builds with BuildKit, which ignores -m/--memory-swap on RUN steps (moby/buildkit#593), so safebuild adds no memory flags")
        #expect(inject("buildx b -m 2g .").notice?.hasPrefix("your --memory 2g is not enforced for docker buildx build") == true)
    }

    @Test("the policy's shm_size reaches docker run as --shm-size, after the memory flags; the user's own wins")
    func runShmSize() {
        let result = inject("run --rm img sh", Self.limits(shm: 2 << 30))
        #expect(result.arguments == ["run", "--memory", "4g", "--memory-swap", "4g", "--shm-size", "2g", "--rm", "img", "sh"])
        #expect(result.decisions.contains("added --shm-size 2g"))
        #expect(inject("run --shm-size 1g img", Self.limits(shm: 2 << 30)).arguments == ["run", "--memory", "4g", "--memory-swap", "4g", "--shm-size", "1g", "img"])
    }

    @Test func buildUserShmSizeWins() {
        let result = inject("build --shm-size=1g .", Self.limits(shm: 256 << 20))
        #expect(!result.arguments.contains("256m"))
    }

    @Test(arguments: [
        ("run -m 64m --rm img sh -c x", "run -m 64m --rm --memory 128m --memory-swap 128m img sh -c x"),
        ("run -itm64m img", "run -itm64m --memory 128m --memory-swap 128m img"),
        ("build -m 64m -t a .", "build -m 64m -t a . --memory 128m --memory-swap 128m"),
    ])
    func raisingGoesLastAmongTheOptions(_ given: String, _ expected: String) {
        let line = DockerCommandLine(given.split(separator: " ").map(String.init))
        #expect(MemoryInjection.raising(line, to: 128 << 20, memorySwap: 128 << 20).joined(separator: " ") == expected)
    }
}

@Suite struct SubcommandOptionsTests {
    @Test(arguments: [
        ("run -d --name web -p 80:80 img cmd --x", "img"),
        ("run -it img", "img"),
        ("run --rm=true img", "img"),
        ("run --sig-proxy=false -e X img", "img"),
        ("run -- img", "img"),
    ])
    func findsTheImage(_ line: String, _ image: String) {
        let cl = DockerCommandLine(line.split(separator: " ").map(String.init))
        let options = SubcommandOptions(cl)
        #expect(options.positional.map { cl.arguments[$0] } == image)
    }

    @Test func buildReadsFlagsAfterTheContext() {
        let cl = DockerCommandLine(["build", ".", "-t", "a:1", "--tag=b", "-f", "x/Dockerfile"])
        let options = SubcommandOptions(cl)
        #expect(options.positional == 1)
        #expect(options.values("--tag") == ["a:1", "b"])
        #expect(options.value("--file") == "x/Dockerfile")
    }
}

@Suite struct HelpIsDockersTests {
    @Test(arguments: [
        ("build --help", false), ("build -h .", false), ("run --help", false), ("image build -q -h", false),
        ("run -h myhost img", true), ("run img app --help", true), ("run img -h", true), ("build . --help", false),
    ])
    func helpIsPassedThrough(_ line: String, _ protected: Bool) {
        #expect((DockerCommandLine(line.split(separator: " ").map(String.init)).protected != nil) == protected)
    }
}
