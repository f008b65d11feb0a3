import Glibc
@testable import SafebuildKit
import Testing

// MARK: - Helpers

private func parse(_ text: String, file: String = "p.yml") -> Result<Policy, PolicyError> {
    PolicyParser.parse(text, file: file, over: PolicyLoader.builtIn)
}

private func policy(_ text: String, file: String = "p.yml") throws -> Policy {
    try parse(text, file: file).get()
}

private func errors(_ text: String) -> [String] {
    switch parse(text) {
    case .success: return []
    case .failure(let error): return error.diagnostics.map(\.description)
    }
}

/// A fresh temporary directory.
private func temporaryDirectory() -> String {
    var template = Array("/tmp/safebuild-policy-XXXXXX".utf8CString)
    let path = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    return String(cString: path!)
}

private func write(_ text: String, to path: String) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    precondition(fd >= 0)
    _ = text.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
    close(fd)
}

private let gib = Size.gib
private let mib = Size.mib

// MARK: - Sizes

@Suite struct PolicySizeTests {
    /// docker/go-units size_test.go TestRAMInBytes cases, plus the other units.
    static let units: [(String, UInt64)] = [
        ("32", UInt64(32)), ("32b", 32), ("32B", 32), ("32k", 32 * 1024), ("32K", 32 * 1024), ("32kb", 32 * 1024),
        ("32Kb", 32 * 1024), ("32Kib", 32 * 1024), ("32KIB", 32 * 1024), ("32m", 32 * mib), ("32Mb", 32 * mib),
        ("32MiB", 32 * mib), ("32g", 32 * gib), ("32Gb", 32 * gib), ("32GB", 32 * gib), ("32t", 32 * Size.tib),
        ("32Tb", 32 * Size.tib), ("32Pb", 32 * Size.pib), ("32PB", 32 * Size.pib), ("32P", 32 * Size.pib),
        ("32.3", 32), ("32.3 mb", UInt64(32.3 * Double(mib))), ("0.3MB", UInt64(0.3 * Double(mib))),
        ("1.5g", 1536 * mib), ("6m", 6 * mib), ("0", 0),
    ]

    @Test(arguments: units)
    func dockerUnits(text: String, bytes: UInt64) {
        #expect(Size.parse(text) == .bytes(bytes))
    }

    /// go-units rejects these too (size_test.go assertError cases), and a share outside (0, 100].
    @Test(arguments: ["", "hello", "-32", " 32 ", "32m b", "32bm", ".3k", "32x", "4 g b", "0%", "101%", "-5%", "%", "1.2.3m"])
    func rejected(text: String) {
        #expect(Size.parse(text) == nil)
    }

    static let shares: [(String, UInt64, UInt64)] = [
        ("25%", 16 * gib, 4 * gib), ("12.5%", 8 * gib, 1 * gib), ("100%", 3 * gib, 3 * gib), ("50%", 3, 1),
        ("4g", 1 * gib, 4 * gib),
    ]

    @Test(arguments: shares)
    func shareOfHostMemory(text: String, host: UInt64, bytes: UInt64) {
        #expect(Size.parse(text)?.bytes(hostMemory: host) == bytes)
    }

    static let spellings: [(UInt64, String)] = [(4 * gib, "4g"), (512 * mib, "512m"), (1536 * 1024, "1536k"), (100, "100b"), (0, "0")]

    @Test(arguments: spellings)
    func shortestSpelling(bytes: UInt64, text: String) {
        #expect(Size.bytes(bytes).description == text)
    }

    @Test func swapRules() {
        let memory = 4 * gib
        #expect(SwapRule.noSwap.memorySwap(memory: memory, hostMemory: 16 * gib) == Int64(4 * gib))
        #expect(SwapRule.unlimited.memorySwap(memory: memory, hostMemory: 16 * gib) == -1)
        #expect(SwapRule.size(.bytes(8 * gib)).memorySwap(memory: memory, hostMemory: 16 * gib) == Int64(8 * gib))
        #expect(SwapRule.size(.share(50)).memorySwap(memory: memory, hostMemory: 16 * gib) == Int64(8 * gib))
        // Never below memory: docker refuses that.
        #expect(SwapRule.size(.bytes(2 * gib)).memorySwap(memory: memory, hostMemory: 16 * gib) == Int64(4 * gib))
    }

    static let swaps: [(String, SwapRule)] = [
        ("none", SwapRule.noSwap), ("no", .noSwap), ("off", .noSwap), ("-1", .unlimited), ("unlimited", .unlimited),
        ("8g", .size(.bytes(8 * gib))), ("50%", .size(.share(50))),
    ]

    @Test(arguments: swaps)
    func swapSpellings(text: String, rule: SwapRule) throws {
        let p = try policy("run:\n  memory: 4g\n  swap: \(text)\n")
        #expect(p.run.swap.value == rule)
    }
}

// MARK: - Globs

@Suite struct PolicyGlobTests {
    @Test(arguments: [
        ("ml/*", "ml/trainer", true), ("ml/*", "ml/a/b", false), ("ml/**", "ml/a/b", true), ("ml/**", "ml", false),
        ("**/models/**", "/src/team/models/bert", true), ("**/models/**", "/src/models", false),
        ("**/Dockerfile", "Dockerfile", true), ("**/Dockerfile", "/a/b/Dockerfile", true),
        ("/src/**/Dockerfile.gpu", "/src/Dockerfile.gpu", true), ("python:3.?", "python:3.9", true),
        ("python:3.?", "python:3.10", false), ("app-[0-9]*", "app-7x", true), ("app-[!0-9]*", "app-7x", false),
        ("app-[^a-z]", "app-Q", true), ("nightly/*", "nightly/build", true), ("nightly/*", "nightly", false),
        ("a\\*b", "a*b", true), ("a\\*b", "axb", false), ("[]x]", "]", true), ("*", "", true), ("?", "/", false),
    ])
    func matches(pattern: String, text: String, expected: Bool) throws {
        #expect(try Glob(pattern).matches(text) == expected)
    }

    @Test(arguments: [
        ("busybox", "busybox:latest"), ("busybox", "docker.io/library/busybox"),
        ("busybox", "docker.io/library/busybox:latest"), ("docker.io/library/busybox:latest", "busybox"),
        ("busybox:latest", "busybox"), ("ml/trainer:v2", "ml/*"), ("ml/trainer:v2", "docker.io/ml/*"),
        ("registry.example.com:5000/ml/x", "registry.example.com:5000/ml/*"), ("python:3.12-slim", "python:3.*"),
    ])
    func imageSpellings(image: String, pattern: String) throws {
        let glob = try Glob(pattern)
        #expect(ImageReference.spellings(image).contains { glob.matches($0) })
    }

    @Test(arguments: [("busybox:1.36", "busybox"), ("ml/trainer", "ml"), ("registry.example.com/ml/x", "ml/*")])
    func imageNonMatches(image: String, pattern: String) throws {
        let glob = try Glob(pattern)
        #expect(!ImageReference.spellings(image).contains { glob.matches($0) })
    }
}

// MARK: - Matching and precedence

@Suite struct PolicyMatchTests {
    static let text = """
        run:
          memory: 1g
          swap: none
        build:
          memory: 2g
          swap: 3g
        rules:
          - name: ml images
            match: {image: "ml/*"}
            memory: 12g
          - match: {job: "nightly/*"}
            memory: 16g
            swap: unlimited
          - match: {context: "**/models/**", command: build}
            memory: 25%
            shm_size: 1g
          - match: {dockerfile: "**/Dockerfile.gpu"}
            enforce: notice

        """

    @Test func defaultsWithoutRules() throws {
        let limits = try policy(Self.text).limits(for: MatchContext(command: .run, images: ["busybox"], hostMemory: 16 * gib))
        #expect(limits.memory == 1 * gib)
        #expect(limits.memorySwap == Int64(1 * gib))
        #expect(limits.enforcement == nil)
        #expect(limits.decisions.map(\.sentence) == [
            "memory 1g from run.memory at p.yml:2",
            "swap none (--memory-swap 1g, equal to memory) from run.swap at p.yml:3",
        ])
    }

    @Test func laterRuleWins() throws {
        let context = MatchContext(command: .run, images: ["ml/trainer:v2"], job: "nightly/train", hostMemory: 64 * gib)
        let limits = try policy(Self.text).limits(for: context)
        #expect(limits.memory == 16 * gib)
        #expect(limits.memorySwap == -1)
        #expect(limits.decisions.map(\.sentence) == [
            "memory 16g from rule 2 (job nightly/*) at p.yml:12",
            "swap unlimited (--memory-swap -1) from rule 2 (job nightly/*) at p.yml:13",
        ])
    }

    @Test func ruleOnlyForItsCommand() throws {
        let p = try policy(Self.text)
        let run = p.limits(for: MatchContext(command: .run, images: ["x"], contextPath: "/src/models/bert", hostMemory: 16 * gib))
        #expect(run.memory == 1 * gib)
        let build = p.limits(
            for: MatchContext(command: .build, images: ["bert:dev"], contextPath: "/src/models/bert/", hostMemory: 16 * gib))
        #expect(build.memory == 4 * gib)
        #expect(build.shmSize == 1 * gib)
        #expect(build.enforcement == .classic)
        #expect(build.decisions.map(\.sentence) == [
            "build enforce classic from build.enforce at built-in default:48",
            "memory 4g (25% of 16g host memory) from rule 3 (context **/models/**, command build) at p.yml:15",
            "swap 3g is below memory 4g, so --memory-swap 4g (no swap) from build.swap at p.yml:6",
            "shm_size 1g from rule 3 (context **/models/**, command build) at p.yml:16",
        ])
    }

    @Test func buildTagsAndDockerfile() throws {
        let p = try policy(Self.text)
        let limits = p.limits(
            for: MatchContext(
                command: .build, images: ["app:1", "ml/base:gpu"], contextPath: "/src/app",
                dockerfilePath: "/src/app/docker/Dockerfile.gpu", hostMemory: 16 * gib))
        #expect(limits.memory == 12 * gib)
        #expect(limits.enforcement == .notice)
        #expect(limits.memorySwap == Int64(12 * gib))
    }

    @Test func userMemoryGetsTheSwapRule() throws {
        let limits = try policy(Self.text).limits(for: MatchContext(command: .run, images: ["busybox"], hostMemory: 16 * gib))
        #expect(limits.memorySwap(forMemory: 64 * mib) == Int64(64 * mib))
    }

    @Test func enforceOffAddsNothing() throws {
        let limits = try policy("build:\n  enforce: off\n").limits(for: MatchContext(command: .build, hostMemory: 16 * gib))
        #expect(limits.memory == nil && limits.memorySwap == nil && limits.shmSize == nil && limits.swapRule == nil)
        #expect(limits.decisions.map(\.sentence) == [
            "build enforce off from build.enforce at p.yml:2: no memory flags are added to builds"
        ])
    }

    @Test func unlimitedMemoryAddsNoFlags() throws {
        let limits = try policy("run:\n  memory: unlimited\n").limits(for: MatchContext(command: .run, hostMemory: 16 * gib))
        #expect(limits.memory == nil && limits.memorySwap == nil)
        #expect(limits.swapRule == SwapRule.noSwap)
        #expect(limits.decisions.map(\.sentence) == ["memory unlimited (no --memory added) from run.memory at p.yml:2"])
    }

    @Test func tinyShareIsRaisedToDockersMinimum() throws {
        let limits = try policy("run:\n  memory: 1%\n").limits(for: MatchContext(command: .run, hostMemory: 100 * mib))
        #expect(limits.memory == 6 * mib)
        #expect(limits.decisions.first?.sentence == "memory 1m (1% of 100m host memory), raised to docker's minimum 6m from run.memory at p.yml:2")
    }
}

// MARK: - Lookup, layering, sources

@Suite struct PolicyLoaderTests {
    let project = "run:\n  memory: 3g\n"
    let host = "run:\n  memory: 5g\n"

    func setUp() -> (cwd: String, hostPath: String, explicit: String) {
        let dir = temporaryDirectory()
        mkdir(dir + "/work", 0o755)
        write(project, to: dir + "/work/safebuild.yml")
        write(host, to: dir + "/host.yml")
        write("run:\n  memory: 7g\n", to: dir + "/explicit.yml")
        return (dir + "/work", dir + "/host.yml", dir + "/explicit.yml")
    }

    @Test func optionFirst() throws {
        let (cwd, hostPath, explicit) = setUp()
        var options = SafebuildOptions()
        options.policyPath = explicit
        let loaded = try PolicyLoader.load(options: options, environment: [:], currentDirectory: cwd, hostPath: hostPath)
        #expect(loaded.file == explicit && loaded.origin == .option)
        #expect(loaded.policy.run.memory.value == .limit(.bytes(7 * gib)))
        let viaVariable = try PolicyLoader.load(
            options: options, environment: ["SAFEBUILD_POLICY": explicit], currentDirectory: cwd, hostPath: hostPath)
        #expect(viaVariable.origin == .variable)
    }

    @Test func projectThenHostThenBuiltIn() throws {
        let (cwd, hostPath, _) = setUp()
        let loaded = try PolicyLoader.load(options: SafebuildOptions(), environment: [:], currentDirectory: cwd, hostPath: hostPath)
        #expect(loaded.file == cwd + "/safebuild.yml" && loaded.origin == .project)
        #expect(loaded.files.map(\.layer) == [.host, .project])
        #expect(loaded.policy.run.memory.value == .limit(.bytes(3 * gib)))
        #expect(loaded.policy.run.memory.source.layer == .project)
        #expect(loaded.policy.run.maxMemory.value == .limit(.bytes(5 * gib)))
        #expect(loaded.policy.run.maxMemory.source.description == hostPath + ":2")

        unlink(cwd + "/safebuild.yml")
        let fromHost = try PolicyLoader.load(options: SafebuildOptions(), environment: [:], currentDirectory: cwd, hostPath: hostPath)
        #expect(fromHost.file == hostPath && fromHost.origin == .host)
        #expect(fromHost.policy.run.memory.value == .limit(.bytes(5 * gib)))

        unlink(hostPath)
        let builtIn = try PolicyLoader.load(options: SafebuildOptions(), environment: [:], currentDirectory: cwd, hostPath: hostPath)
        #expect(builtIn.file == nil && builtIn.origin == .builtIn)
        #expect(builtIn.policy == PolicyLoader.settlingCeilings(PolicyLoader.builtIn))
        #expect(builtIn.policy.run.maxMemory.value == PolicyLoader.builtIn.run.memory.value)
    }

    @Test func relativeOptionIsFromTheCurrentDirectory() throws {
        let (cwd, hostPath, _) = setUp()
        var options = SafebuildOptions()
        options.policyPath = "safebuild.yml"
        let loaded = try PolicyLoader.load(options: options, environment: [:], currentDirectory: cwd, hostPath: hostPath)
        #expect(loaded.file == cwd + "/safebuild.yml")
    }

    @Test func missingExplicitFileIsExit66() {
        let (cwd, hostPath, _) = setUp()
        var options = SafebuildOptions()
        options.policyPath = "/nonexistent/policy.yml"
        #expect(throws: SafebuildError(.noInput, "policy file /nonexistent/policy.yml (from SAFEBUILD_POLICY) does not exist; create it, or unset SAFEBUILD_POLICY to use the default lookup")) {
            try PolicyLoader.load(
                options: options, environment: ["SAFEBUILD_POLICY": "/nonexistent/policy.yml"], currentDirectory: cwd,
                hostPath: hostPath)
        }
        #expect(SafebuildError.ExitCode.noInput.rawValue == 66)
    }

    @Test func invalidFileIsExit78WithEveryProblem() {
        let (cwd, hostPath, _) = setUp()
        write("run:\n  memroy: 4g\n  swap: lots\n", to: cwd + "/safebuild.yml")
        let file = cwd + "/safebuild.yml"
        #expect(throws: SafebuildError(.policy, """
            policy \(file) is invalid (2 errors); fix it (check with 'safebuild policy check \(file)') or choose another with --sb-policy; nothing ran
            \(file):2:3: error: unknown key 'memroy' in run; did you mean 'memory'?
            \(file):3:9: error: run.swap is 'lots', not a size; expected a size such as 512m, 4g or 25% (of host memory); units b, k, m, g (binary)
            """)) {
            try PolicyLoader.load(options: SafebuildOptions(), environment: [:], currentDirectory: cwd, hostPath: hostPath)
        }
        #expect(SafebuildError.ExitCode.policy.rawValue == 78)
    }

    @Test func layeringKeepsTheSourceOfEveryValue() throws {
        let p = try policy("run:\n  memory: 3g\nretry:\n  ladders:\n    oom_container: []\n", file: "/srv/safebuild.yml")
        #expect(p.run.memory.source.description == "/srv/safebuild.yml:2")
        #expect(p.run.swap == PolicyLoader.builtIn.run.swap)
        #expect(p.run.swap.source.description == "built-in default:24")
        #expect(p.retry.ladders[.oomContainer]?.value == Ladder([]))
        #expect(p.retry.ladders[.oomContainer]?.source.description == "/srv/safebuild.yml:5")
        #expect(p.retry.ladders[.storageENOMEM] == PolicyLoader.builtIn.retry.ladders[.storageENOMEM])
    }

    /// Every value of the built-in default is set by Config/default-policy.yml (none is left at the skeleton's line 0).
    @Test func builtInIsComplete() {
        func walk(_ item: PolicyShow.Item, _ path: String) -> [String] {
            switch item {
            case .value(_, _, let source, _): return source.line == 0 ? [path] : []
            case .map(let fields, _): return fields.flatMap { walk($0.1, path + "." + $0.0) }
            case .list(let items): return items.flatMap { walk($0, path + "[]") }
            }
        }
        let unset = PolicyShow.tree(PolicyLoader.builtIn, hostMemory: nil).flatMap { walk($0.1, $0.0) }
        #expect(unset == [])
        #expect(Set(PolicyLoader.builtIn.retry.ladders.keys) == Set(FailureClass.allCases))
    }

    @Test(arguments: ["shared-build-host.yml", "ml-images.yml", "ci-strict.yml"])
    func examplesAreValid(name: String) throws {
        let path = String(#filePath.prefix(upTo: #filePath.range(of: "/Tests/")!.lowerBound)) + "/Config/examples/" + name
        let result = try PolicyLoader.check(path)
        #expect(throws: Never.self) { try result.result.get() }
        // The project's example sets only what a project may.
        if name == "ml-images.yml" {
            #expect(try PolicyLoader.check(path, layer: .project, hostPath: "/nonexistent").warnings == [])
        }
    }
}

// MARK: - Typed values

@Suite struct PolicyTypedValueTests {
    /// Ladders hold failure classes and remedies, not names.
    @Test func laddersAreTyped() throws {
        let p = try policy("retry:\n  ladders:\n    disk_full: [drop_caches, [compact_memory, prune_build_cache]]\n")
        #expect(p.ladder(for: .diskFull) == Ladder([[.dropCaches], [.compactMemory, .pruneBuildCache]]))
        #expect(RetrySettings(policy: p).ladder(for: .diskFull).remedies(forRetry: 2) == [.compactMemory, .pruneBuildCache])
        #expect(p.ladder(for: .oomContainer) == Ladder([[.raiseMemory]]))
    }

    /// The policy's actions are the ones pre-flight decides with.
    @Test func thresholdActionsReachPreflight() throws {
        let p = try policy("preflight:\n  min_available: {value: 1g, action: refuse}\n  max_pressure: off\n")
        let thresholds = p.thresholds(hostMemory: 16 * gib)
        #expect(thresholds.first == Preflight.Threshold(.minAvailable(bytes: 1 * gib), .refuse))
        #expect(!thresholds.contains { $0.key == "max_pressure" })
    }

    /// docker's `until` filter reads Go durations; a bare number would be a Unix timestamp there.
    @Test(arguments: [("24h", "24h"), ("90", "1m30s"), ("1d", "24h"), ("0s", "0s"), ("90m", "1h30m")])
    func pruneUntilIsAGoDuration(text: String, docker: String) throws {
        let p = try policy("remedies:\n  prune_until: \(text)\n")
        #expect(RemedySettings(policy: p, hostMemory: 16 * gib).pruneUntil == docker)
    }

    /// The schema declares each key once: no two keys write the same value, and each says what it is for.
    @Test func schemaDeclaresEachKeyOnce() {
        var locations: [AnyKeyPath] = []
        var undocumented: [String] = []
        func walk<Root>(_ section: PolicySection<Root>, _ path: String) {
            for key in section.keys {
                let keyPath = path.isEmpty ? key.name : path + "." + key.name
                if key.help.isEmpty { undocumented.append(keyPath) }
                if let location = key.location { locations.append(location) }
                if case .section(let inner) = key.shape { walk(inner, keyPath) }
            }
        }
        walk(PolicySchema.policy, "")
        walk(PolicySchema.rules.section, "rules[]")
        walk(PolicySchema.signatures.section, "signatures[]")
        #expect(undocumented == [])
        #expect(Set(locations).count == locations.count)
    }
}

// MARK: - Malformed policies: what the user sees

@Suite struct PolicyValidationTests {
    @Test(arguments: [
        ("run:\n  memroy: 4g\n", "p.yml:2:3: error: unknown key 'memroy' in run; did you mean 'memory'?"),
        ("runn:\n  memory: 4g\n", "p.yml:1:1: error: unknown key 'runn' in the policy; did you mean 'run'?"),
        ("limits:\n  memory: 4g\n", "p.yml:1:1: error: unknown key 'limits' in the policy; expected one of version, run, build, rules, preflight, retry, remedies, journal, admission, signatures, docker, protection"),
        ("memory: 4g\n", "p.yml:1:1: error: unknown key 'memory' in the policy; expected it under run: or build: (or in a rule)"),
        ("run: 4g\n", "p.yml:1:6: error: run is '4g'; expected a mapping with keys memory, swap, shm_size, max_memory"),
        ("run:\n  memory: four\n", "p.yml:2:11: error: run.memory is 'four', not a size; expected a size such as 512m, 4g or 25% (of host memory); units b, k, m, g (binary)"),
        ("run:\n  memory: 4q\n", "p.yml:2:11: error: run.memory is '4q', not a size; expected a size such as 512m, 4g or 25% (of host memory); units b, k, m, g (binary)"),
        ("run:\n  memory: 3m\n", "p.yml:2:11: error: run.memory 3m is below docker's minimum memory limit of 6m (\"Minimum memory limit allowed is 6MB\"); expected at least 6m, or unlimited"),
        ("run:\n  memory: -1g\n", "p.yml:2:11: error: run.memory is negative ('-1g'); expected a size such as 512m, 4g or 25% (of host memory)"),
        ("run:\n  memory: 150%\n", "p.yml:2:11: error: run.memory is '150%', not a share of host memory; expected a share such as 25% (more than 0%, at most 100%)"),
        ("run:\n  memory: 4g\n  swap: 2g\n", "p.yml:3:9: error: run.swap 2g is below memory 4g (p.yml:2); docker refuses a --memory-swap below --memory; expected swap of at least the memory limit (memory plus swap), none for no swap, or unlimited"),
        ("build:\n  swap: 10%\n", "p.yml:2:9: error: build.swap 10% is below memory 25% (built-in default:33); docker refuses a --memory-swap below --memory; expected swap of at least the memory limit (memory plus swap), none for no swap, or unlimited"),
        ("run:\n  memory: 4g\n  memory: 5g\n", "p.yml:3:3: error: key 'memory' is given twice in the same mapping (first at line 2); expected each key once; remove one of them"),
        ("run:\n  memory: [4g]\n", "p.yml:2:11: error: run.memory is a list; expected a size such as 512m, 4g or 25% (of host memory), or unlimited"),
        ("run:\n  memory:\n", "p.yml:2:10: error: run.memory has no value; expected a size such as 512m, 4g or 25% (of host memory), or unlimited"),
        ("run:\n  memory: 4g\n swap: none\n", "p.yml:3:2: error: invalid YAML: did not find expected key (while parsing a block mapping at line 1, column 1); expected valid YAML (check indentation, ':' and quotes)"),
        ("run: {memory: 4g\n", "p.yml:2:1: error: invalid YAML: did not find expected ',' or '}' (while parsing a flow mapping at line 1, column 6); expected valid YAML (check indentation, ':' and quotes)"),
        ("build:\n  enforce: clasic\n", "p.yml:2:12: error: build.enforce is 'clasic'; did you mean 'classic'?"),
        ("run:\n  enforce: notice\n", "p.yml:2:3: error: unknown key 'enforce' in run; expected it under build: (only builds have a builder to choose)"),
        ("rules:\n  - memory: 4g\n", "p.yml:2:5: error: rule 1 has no 'match', so it would apply to everything; expected match: with at least one of image, context, dockerfile, job, command (defaults for everything belong under run: or build:)"),
        ("rules:\n  - match: {}\n    memory: 4g\n", "p.yml:2:12: error: rule 1.match is empty, so the rule would apply to everything; expected at least one of image, context, dockerfile, job, command"),
        ("rules:\n  - match: {image: \"ml/*\"}\n", "p.yml:2:5: error: rule 1 sets nothing; expected at least one of memory, swap, shm_size, enforce"),
        ("rules:\n  - match: {command: deploy}\n    memory: 4g\n", "p.yml:2:22: error: rule 1.match.command is 'deploy'; expected one of run, build"),
        ("rules:\n  - match: {command: run, context: \"/src/**\"}\n    memory: 4g\n", "p.yml:2:22: error: rule 1 can never match: context and dockerfile belong to builds, but command is 'run'; expected command: build, or no context/dockerfile"),
        ("rules:\n  - match: {image: \"ml/[z-a]*\"}\n    memory: 4g\n", "p.yml:2:20: error: rule 1.match.image: range 'z-a' in glob 'ml/[z-a]*' is reversed and matches nothing; expected a glob with *, **, ?, [a-z]"),
        ("rules:\n  - match: {image: \"ml/[abc\"}\n    memory: 4g\n", "p.yml:2:20: error: rule 1.match.image: '[' in glob 'ml/[abc' is never closed with ']'; expected a glob with *, **, ?, [a-z]"),
        ("rules:\n  - match: {image: \"ML/*\"}\n    memory: 4g\n", "p.yml:2:20: error: rule 1.match.image 'ML/*' can never match: repository names are lower case; expected an image glob such as 'ml/*' or 'python:3.*'"),
        ("rules:\n  - match: {image: \"ml/**x\"}\n    memory: 4g\n", "p.yml:2:20: error: rule 1.match.image: '**' in glob 'ml/**x' must be a whole path component, as in 'ml/**' or '**/Dockerfile'; expected a glob with *, **, ?, [a-z]"),
        ("rules:\n  - match: {job: \"\"}\n    memory: 4g\n", "p.yml:2:18: error: rule 1.match.job: an empty glob matches nothing; expected a glob with *, **, ?, [a-z]"),
        ("rules:\n  - match: {imgae: \"ml/*\"}\n    memory: 4g\n", "p.yml:2:13: error: unknown key 'imgae' in rule 1.match; did you mean 'image'?"),
        ("rules:\n  - match: {image: \"ml/*\"}\n    memory: 12g\n    swap: 8g\n", "p.yml:4:11: error: rule 1.swap 8g is below memory 12g (p.yml:3); docker refuses a --memory-swap below --memory; expected swap of at least the memory limit (memory plus swap), none for no swap, or unlimited"),
        ("rules:\n  - match: {image: \"ml/*\", command: run}\n    enforce: notice\n", "p.yml:3:14: error: rule 1.enforce applies only to builds, but the rule matches only 'run'; expected command: build, or no enforce"),
        ("rules:\n  match: {image: \"ml/*\"}\n", "p.yml:2:3: error: rules is a mapping; expected a list of rules, each '- match: {…}' with settings"),
        ("preflight:\n  max_pressure: {value: 140, action: wait}\n", "p.yml:2:25: error: preflight.max_pressure.value is 140%, above 100%; expected a percentage from 0 to 100, such as 20 or 20%"),
        ("preflight:\n  min_available: {value: 1g, action: panic}\n", "p.yml:2:38: error: preflight.min_available.action is 'panic'; expected one of warn, remediate, wait, refuse"),
        ("preflight:\n  min_free_disk: 10%\n", "p.yml:2:18: error: preflight.min_free_disk is '10%', but a share of host memory does not apply here; expected a size such as 512m or 10g"),
        ("preflight:\n  min_free_blocks: {value: {order: 12, count: 4}}\n", "p.yml:2:36: error: preflight.min_free_blocks.value.order is 12, out of range; expected a whole number from 0 to 10"),
        ("preflight:\n  wait_timeout: -5\n", "p.yml:2:17: error: preflight.wait_timeout is negative ('-5'); expected a duration such as 30, 30s, 5m or 1h30m, at most 1h"),
        ("preflight:\n  engine_timeout: soon\n", "p.yml:2:19: error: preflight.engine_timeout is 'soon', not a duration; expected a duration such as 30, 30s, 5m or 1h30m, more than 0, at most 5m"),
        ("retry:\n  max_attempts: 0\n", "p.yml:2:17: error: retry.max_attempts is 0, out of range; expected a whole number from 1 to 100"),
        ("retry:\n  backoff: {initial: 1m, max: 10s}\n", "p.yml:2:31: error: retry.backoff.max 10s is below retry.backoff.initial 1m; expected max of at least initial"),
        ("retry:\n  backoff: {jitter: 2}\n", "p.yml:2:21: error: retry.backoff.jitter is 2, out of range; expected a fraction from 0 to 1, such as 0.2"),
        ("retry:\n  ladders:\n    network_enomen: [[drop_caches]]\n", "p.yml:3:5: error: unknown failure class 'network_enomen' in retry.ladders; did you mean 'network_enomem'?"),
        ("retry:\n  ladders:\n    network_enomem: [[drop_cache]]\n", "p.yml:3:23: error: unknown remedy 'drop_cache' in retry.ladders.network_enomem; did you mean 'drop_caches'?"),
        ("remedies:\n  drop_caches: maybe\n", "p.yml:2:16: error: remedies.drop_caches is 'maybe', not true or false; expected true or false"),
        ("remedies:\n  lock_dir: run/safebuild\n", "p.yml:2:13: error: remedies.lock_dir is 'run/safebuild', a relative path; expected an absolute path"),
        ("journal:\n  keep: -1\n", "p.yml:2:9: error: journal.keep is negative (-1); expected a whole number from 0 to 1000"),
        ("signatures:\n  - {class: storage_enomem}\n", "p.yml:2:5: error: signature 1 needs a class and exactly one of contains or pattern; expected {class: storage_enomem, contains: \"…\"}"),
        ("signatures:\n  - {class: storage_enomem, pattern: \"([a-z\"}\n", "p.yml:2:38: error: signature 1.pattern '([a-z' is not a valid regular expression; expected a regular expression such as 'cannot allocate memory.*overlay'"),
        ("signatures:\n  - {class: disk_ful, contains: \"no space\"}\n", "p.yml:2:13: error: unknown failure class 'disk_ful' in signature 1; did you mean 'disk_full'?"),
        ("docker:\n  stop_grace: 1x\n", "p.yml:2:15: error: docker.stop_grace is '1x', not a duration; expected a duration such as 30, 30s, 5m or 1h30m, at most 1m"),
        ("version: 2\n", "p.yml:1:10: error: version is '2'; this safebuild reads version 1; expected 1"),
        ("- run\n- build\n", "p.yml:1:1: error: the policy is a list; expected a mapping with keys version, run, build, rules, preflight, retry, remedies, journal, admission, signatures, docker, protection"),
        ("run:\n  memory: 4g\n\tswap: none\n", "p.yml:3:1: error: invalid YAML: found a tab character that violates indentation (while scanning a plain scalar at line 2, column 11); expected valid YAML (check indentation, ':' and quotes)"),
    ])
    func malformed(text: String, message: String) {
        #expect(errors(text) == [message])
    }

    /// Failure classes and remedies are read into their enums: an unknown one is refused with the closest name, or
    /// with every name when none is close.
    @Test(arguments: [
        ("retry:\n  ladders:\n    oom_containr: [[raise_memory]]\n", "p.yml:3:5: error: unknown failure class 'oom_containr' in retry.ladders; did you mean 'oom_container'?"),
        ("retry:\n  ladders:\n    banana: [[drop_caches]]\n", "p.yml:3:5: error: unknown failure class 'banana' in retry.ladders; expected one of daemon_lost, daemon_unreachable, disk_full, network_enomem, not_memory, oom_build_step, oom_container, page_allocation, process_enomem, storage_enomem"),
        ("retry:\n  ladders:\n    disk_full: [prune_build_cach]\n", "p.yml:3:17: error: unknown remedy 'prune_build_cach' in retry.ladders.disk_full; did you mean 'prune_build_cache'?"),
        ("retry:\n  ladders:\n    disk_full: [[reboot]]\n", "p.yml:3:18: error: unknown remedy 'reboot' in retry.ladders.disk_full; expected one of compact_memory, drop_caches, free_disk, prune_build_cache, prune_dangling_images, raise_memory, wait_for_memory"),
        ("signatures:\n  - {class: oom_buildstep, pattern: \"x\"}\n", "p.yml:2:13: error: unknown failure class 'oom_buildstep' in signature 1; did you mean 'oom_build_step'?"),
        ("signatures:\n  - {class: kaput, contains: \"x\"}\n", "p.yml:2:13: error: unknown failure class 'kaput' in signature 1; expected one of daemon_lost, daemon_unreachable, disk_full, network_enomem, not_memory, oom_build_step, oom_container, page_allocation, process_enomem, storage_enomem"),
        ("signatures:\n  - {class: storage_enomem, contains: \"\"}\n", "p.yml:2:39: error: signature 1.contains is empty, so it would match every line; expected the text docker prints"),
    ])
    func unknownNames(text: String, message: String) {
        #expect(errors(text) == [message])
    }

    /// Absurd durations and sizes are refused with what the limit is, instead of overflowing later (a stop_grace of
    /// 2^63 s used to stop `policy show` with SIGILL).
    @Test(arguments: [
        ("docker:\n  stop_grace: 9223372036854775808\n", "p.yml:2:15: error: docker.stop_grace is '9223372036854775808', longer than 1m, the most it may be; expected a duration such as 30, 30s, 5m or 1h30m, at most 1m"),
        ("retry:\n  cooldown: 3651d\n", "p.yml:2:13: error: retry.cooldown is '3651d', longer than 24h, the most it may be; expected a duration such as 30, 30s, 5m or 1h30m, at most 24h"),
        ("retry:\n  deadline: 99999999999999999999999h\n", "p.yml:2:13: error: retry.deadline is '99999999999999999999999h', longer than 24h, the most it may be; expected a duration such as 30, 30s, 5m or 1h30m, more than 0, at most 24h"),
        ("remedies:\n  prune_until: 1e300\n", "p.yml:2:16: error: remedies.prune_until is '1e300', not a duration; expected a duration such as 30, 30s, 5m or 1h30m, at most 8760h"),
        ("retry:\n  deadline: 1h30\n", "p.yml:2:13: error: retry.deadline is '1h30', not a duration; expected a duration such as 30, 30s, 5m or 1h30m, more than 0, at most 24h"),
        ("run:\n  memory: 99999999999999999999\n", "p.yml:2:11: error: run.memory is '99999999999999999999', larger than 8p (2^53 bytes), the most safebuild takes; expected a size such as 512m, 4g or 25% (of host memory)"),
        ("journal:\n  max_size: 16383p\n", "p.yml:2:13: error: journal.max_size is '16383p', larger than 8p (2^53 bytes), the most safebuild takes; expected a size such as 512m or 10g"),
        ("retry:\n  raise_memory: {cap: 1025p}\n", "p.yml:2:23: error: retry.raise_memory.cap is '1025p', larger than 8p (2^53 bytes), the most safebuild takes; expected a size such as 512m, 4g or 25% (of host memory)"),
        ("preflight:\n  min_free_disk: {value: 2000000000000000000000k}\n", "p.yml:2:26: error: preflight.min_free_disk.value is '2000000000000000000000k', larger than 8p (2^53 bytes), the most safebuild takes; expected a size such as 512m or 10g"),
    ])
    func outOfBounds(text: String, message: String) {
        #expect(errors(text) == [message])
    }

    @Test func largestValuesAreTaken() throws {
        let p = try policy(
            "retry:\n  raise_memory: {cap: 8p}\n  cooldown: 24h\npreflight:\n  wait_timeout: 1h\ndocker:\n  stop_grace: 1m\n")
        #expect(p.retry.raiseMemory.cap.value == .bytes(1 << 53))
        #expect(p.retry.cooldown.value == 86_400)
        #expect(p.preflight.waitTimeout.value == 3_600)
        #expect(p.docker.stopGrace.value == 60)
    }

    @Test func everyProblemIsReported() {
        let text = "run:\n  memory: lots\n  swop: none\nbuild:\n  enforce: never\n"
        #expect(errors(text) == [
            "p.yml:2:11: error: run.memory is 'lots', not a size; expected a size such as 512m, 4g or 25% (of host memory); units b, k, m, g (binary)",
            "p.yml:3:3: error: unknown key 'swop' in run; did you mean 'swap'?",
            "p.yml:5:12: error: build.enforce is 'never'; expected one of classic, notice, off",
        ])
    }

    @Test func emptyFileIsTheBuiltInDefault() throws {
        #expect(try policy("") == PolicyLoader.builtIn)
        #expect(try policy("# nothing here\n") == PolicyLoader.builtIn)
    }
}

// MARK: - safebuild policy show / check / path

@Suite struct PolicyCommandTests {
    /// `safebuild policy ARGUMENTS…` in `cwd`, with no host policy and 16 GiB of memory.
    func run(_ arguments: [String], cwd: String, options: SafebuildOptions = SafebuildOptions()) throws(SafebuildError) -> OwnRun {
        try runOwn(["policy"] + arguments, options: options, cwd: cwd)
    }

    @Test func checkValidAndInvalid() throws {
        let dir = temporaryDirectory()
        write("run:\n  memory: 2g\n", to: dir + "/good.yml")
        write("run:\n  memory: 2x\n", to: dir + "/bad.yml")
        let good = try run(["check", "good.yml"], cwd: dir)
        #expect(good.status == 0 && good.out == "good.yml: ok as a project policy\n" && good.err == "")
        let bad = try run(["check", "good.yml", "bad.yml"], cwd: dir)
        #expect(bad.status == 78)
        #expect(bad.out == "good.yml: ok as a project policy\n")
        #expect(bad.err == "bad.yml:2:11: error: run.memory is '2x', not a size; expected a size such as 512m, 4g or 25% (of host memory); units b, k, m, g (binary)\n")
        let missing = try run(["check", "gone.yml"], cwd: dir)
        #expect(missing.status == 66)
        #expect(missing.err == "safebuild: error: cannot read policy file \(dir)/gone.yml: No such file or directory\n")
    }

    @Test func showPrintsSources() throws {
        let dir = temporaryDirectory()
        write("run:\n  memory: 2g\nrules:\n  - match: {image: \"ml/*\"}\n    memory: 12g\n", to: dir + "/safebuild.yml")
        let shown = try run(["show"], cwd: dir)
        #expect(shown.status == 0)
        let lines = shown.out.split(separator: "\n").map(String.init)
        #expect(lines.first == "# effective policy: built-in default < project \(dir)/safebuild.yml")
        #expect(lines.contains("  memory: 2g                            # project \(dir)/safebuild.yml:2"))
        #expect(lines.contains("  memory: 25%                           # built-in default:33 (= 4g on this host)"))
        #expect(lines.contains("  - match:"))
        #expect(lines.contains("      image: \"ml/*\"                     # project \(dir)/safebuild.yml:4"))
        // No host policy: the built-in default is the host's layer, and its memory (25% = 4g) the ceiling.
        #expect(lines.contains("    memory: 12g                         # project \(dir)/safebuild.yml:5 (above the host's ceiling: lowered to run.max_memory 25%, build.max_memory 25%)"))
        let json = try run(["show", "--json"], cwd: dir)
        #expect(json.out.hasPrefix("{\"file\":\"\(dir)/safebuild.yml\",\"origin\":\"./safebuild.yml in the current directory\",\"layers\":[{\"layer\":\"project\",\"path\":\"\(dir)/safebuild.yml\",\"origin\":\"./safebuild.yml in the current directory\"}],\"warnings\":[],\"policy\":{\"run\":{\"memory\":{\"value\":\"2g\",\"source\":\"\(dir)/safebuild.yml:2\",\"layer\":\"project\"}"))
    }

    /// What `policy show` prints is itself a valid policy with the same values.
    @Test func showOutputIsAPolicy() throws {
        let dir = temporaryDirectory()
        let example = String(#filePath.prefix(upTo: #filePath.range(of: "/Tests/")!.lowerBound)) + "/Config/examples/ml-images.yml"
        var options = SafebuildOptions()
        options.policyPath = example
        let shown = try run(["show"], cwd: dir, options: options).out
        write(shown, to: dir + "/shown.yml")
        options.policyPath = dir + "/shown.yml"
        let again = try run(["show"], cwd: dir, options: options).out
        func values(_ text: String) -> [String] {
            text.split(separator: "\n").map { line in
                String(line.prefix { $0 != "#" }.reversed().drop { $0 == " " }.reversed())
            }.filter { !$0.isEmpty }
        }
        #expect(values(again) == values(shown))
        #expect(values(shown).contains("    memory: 12g"))
    }

    @Test func path() throws {
        let dir = temporaryDirectory()
        let none = try run(["path"], cwd: dir)
        #expect(none.out == "built-in: built-in default\n")
        #expect(none.err == "safebuild: no host policy at \(dir)/no-host-policy.yml\n")
        write("run:\n  memory: 2g\n", to: dir + "/safebuild.yml")
        write("run:\n  memory: 1g\n", to: dir + "/mine.yml")
        write("run:\n  memory: 4g\n", to: dir + "/no-host-policy.yml")
        var options = SafebuildOptions()
        options.policyPath = "mine.yml"
        let all = try run(["path"], cwd: dir, options: options)
        #expect(all.out == "built-in: built-in default\nhost: \(dir)/no-host-policy.yml\nproject: \(dir)/safebuild.yml\nuser: \(dir)/mine.yml\n")
        #expect(all.err == "safebuild: the user layer is chosen by --sb-policy\n")
    }

    /// A duration too long to show used to crash `policy show` (SIGILL); now the policy is refused before it is shown
    /// (in the host policy, the only one that sets docker.stop_grace).
    @Test func showWithAHugeDurationIsExit78() {
        let dir = temporaryDirectory()
        write("docker:\n  stop_grace: 9223372036854775808\n", to: dir + "/no-host-policy.yml")
        do {
            _ = try run(["show"], cwd: dir)
            Issue.record("policy show accepted it")
        } catch {
            #expect(error.status == .policy)
            #expect(error.message.hasSuffix("\n\(dir)/no-host-policy.yml:2:15: error: docker.stop_grace is '9223372036854775808', longer than 1m, the most it may be; expected a duration such as 30, 30s, 5m or 1h30m, at most 1m"))
        }
    }

    @Test func showWithBrokenPolicyIsExit78() {
        let dir = temporaryDirectory()
        write("run:\n  memory: 2x\n", to: dir + "/safebuild.yml")
        #expect(throws: SafebuildError.self) { try run(["show"], cwd: dir) }
        do { _ = try run(["show"], cwd: dir) } catch { #expect(error.status == .policy) }
    }

    /// The messages shown in README's policy section.
    @Test func readmeExample() throws {
        let dir = temporaryDirectory()
        write("""
            version: 1
            run:
              memroy: 2g
            rules:
              - name: ml images
                match: {image: "ml/*"}
                shm_size: 2g
                memory: 12g
                swap: 8g
              - name: upper
                memory: 4g
                match: {image: "ML/*"}

            """, to: dir + "/safebuild.yml")
        let checked = try run(["check", "safebuild.yml"], cwd: dir)
        #expect(checked.status == 78)
        #expect(checked.err == """
            safebuild.yml:3:3: error: unknown key 'memroy' in run; did you mean 'memory'?
            safebuild.yml:9:11: error: rule 1.swap 8g is below memory 12g (safebuild.yml:8); docker refuses a --memory-swap below --memory; expected swap of at least the memory limit (memory plus swap), none for no swap, or unlimited
            safebuild.yml:12:20: error: rule 2.match.image 'ML/*' can never match: repository names are lower case; expected an image glob such as 'ml/*' or 'python:3.*'

            """)
    }

    @Test func unknownSubcommand() {
        do {
            _ = try run(["chek"], cwd: "/")
            Issue.record("expected a usage error")
        } catch {
            #expect(error.status == .usage)
            #expect(error.message.hasPrefix("Unexpected argument 'chek'; did you mean 'check'?"))
        }
    }
}

// MARK: - Cost

/// Loading the built-in default and a typical file, and applying it: the issue's budget is 2 ms. A benchmark, not a
/// timed test: run with SAFEBUILD_BENCH=1 to print the numbers.
@Test(.enabled(if: getenv("SAFEBUILD_BENCH") != nil)) func policyLoadCost() throws {
    let path = String(#filePath.prefix(upTo: #filePath.range(of: "/Tests/")!.lowerBound)) + "/Config/examples/ml-images.yml"
    let text = try PolicyLoader.read(path, origin: nil)
    func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) * 1e6 + Double(t.tv_nsec) / 1e3
    }
    let rounds = 200
    var limits: ResolvedLimits?
    let context = MatchContext(command: .build, images: ["ml/base:1"], contextPath: "/src/models/x", hostMemory: 16 * gib)
    func measure(_ body: () throws -> Void) rethrows -> Int {
        let start = now()
        for _ in 0..<rounds { try body() }
        return Int((now() - start) / Double(rounds))
    }
    let yaml = try measure { _ = try PolicyParser.compose(PolicyLoader.builtInText) }
    let builtIn = try measure { _ = try PolicyParser.parse(PolicyLoader.builtInText, file: nil, over: .skeleton).get() }
    let file = try measure { _ = try PolicyParser.parse(text, file: path, over: PolicyLoader.builtIn).get() }
    let apply = measure { limits = PolicyLoader.builtIn.limits(for: context) }
    let total = try measure {
        let base = try PolicyParser.parse(PolicyLoader.builtInText, file: nil, over: .skeleton).get()
        limits = try PolicyParser.parse(text, file: path, over: base).get().limits(for: context)
    }
    print("policy: built-in \(builtIn) µs (of which YAML \(yaml) µs), ml-images.yml \(file) µs, limits \(apply) µs; all \(total) µs per command")
    #expect(limits?.memory == 4 * gib)
}

