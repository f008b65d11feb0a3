/// Memory defaults applied to a protected command line: a pure function, argv in, argv out, plus the decisions
/// that shaped it. The user's own flags always win; injected flags go right after the subcommand, never after the
/// image (everything after the image is the container's own command line).
public enum MemoryInjection {
    /// What the policy asks for this command.
    public struct Plan: Equatable, Sendable {
        public var memory: UInt64?
        public var swap: Swap?
        public var shmSize: UInt64?
        public var buildEnforcement: BuildEnforcement
        /// Where each value came from, for the decisions ("rule 2 (ml/*) at /etc/safebuild/policy.yml:14").
        public var memorySource: String
        public var swapSource: String

        public init(
            memory: UInt64? = nil, swap: Swap? = nil, shmSize: UInt64? = nil,
            buildEnforcement: BuildEnforcement = .classic, memorySource: String = "policy", swapSource: String = "policy"
        ) {
            self.memory = memory
            self.swap = swap
            self.shmSize = shmSize
            self.buildEnforcement = buildEnforcement
            self.memorySource = memorySource
            self.swapSource = swapSource
        }
    }

    /// docker's `--memory-swap` is memory plus swap.
    public enum Swap: Equatable, Sendable {
        /// `--memory-swap` equal to `--memory`: no swap at all.
        case none
        /// `--memory-swap -1`.
        case unlimited
        /// `--memory-swap` of this many bytes (memory plus swap).
        case total(UInt64)
    }

    /// What to do where BuildKit would silently ignore `-m`/`--memory-swap` (moby/buildkit#593).
    public enum BuildEnforcement: String, Equatable, Sendable, CaseIterable {
        /// Select the classic builder (`DOCKER_BUILDKIT=0`), which enforces the limits on RUN steps, unless the user
        /// chose BuildKit explicitly.
        case classic
        /// Keep the builder; inject the flags and record that BuildKit may not enforce them.
        case notice
        /// Inject nothing into builds.
        case off
    }

    public struct Result: Equatable, Sendable {
        public var arguments: [String]
        /// Variables to set in docker's environment (`DOCKER_BUILDKIT=0`).
        public var environment: [String: String]
        public var decisions: [String]
        /// The memory limit in effect after injection, in bytes (the user's or the policy's), if known.
        public var memory: UInt64?
        /// Whether the limit is enforced by the builder that will run (false: BuildKit or buildx will ignore it).
        public var enforced: Bool
    }

    public static func apply(
        _ plan: Plan, to commandLine: DockerCommandLine, environment: [String: String]
    ) -> Result {
        guard let command = commandLine.protected else {
            return Result(arguments: commandLine.arguments, environment: [:], decisions: [], memory: nil, enforced: true)
        }
        let options = SubcommandOptions(commandLine)
        var injected: [String] = []
        var decisions: [String] = []
        var env: [String: String] = [:]

        if case .build(.buildx) = command {
            decisions.append(
                "buildx build: memory limits not injected; BuildKit ignores -m/--memory-swap (moby/buildkit#593)")
            return Result(
                arguments: commandLine.arguments, environment: [:], decisions: decisions,
                memory: options.value("--memory").flatMap(DockerSize.parse), enforced: false)
        }
        let isBuild = command != .run
        if isBuild && plan.buildEnforcement == .off {
            decisions.append("build: policy build.enforce is off; nothing injected")
            return Result(
                arguments: commandLine.arguments, environment: [:], decisions: decisions,
                memory: options.value("--memory").flatMap(DockerSize.parse), enforced: false)
        }

        let userMemory = options.value("--memory")
        let userSwap = options.value("--memory-swap")
        var memory: UInt64?
        switch (userMemory, userSwap) {
        case (nil, nil):
            if let m = plan.memory {
                memory = m
                injected += ["--memory", DockerSize.format(m)]
                decisions.append("--memory \(DockerSize.format(m)) from \(plan.memorySource)")
                if let swap = plan.swap {
                    let value = swapValue(swap, memory: m, decisions: &decisions, source: plan.swapSource)
                    injected += ["--memory-swap", value]
                }
            } else {
                decisions.append("no memory limit: the policy sets none for \(command.name)")
            }
        case (let m?, nil):
            memory = DockerSize.parse(m)
            decisions.append("your --memory \(m) is kept")
            if let swap = plan.swap, let bytes = memory {
                let value = swapValue(swap, memory: bytes, decisions: &decisions, source: plan.swapSource, given: m)
                injected += ["--memory-swap", value]
            }
        case (nil, _?):
            decisions.append("your --memory-swap without --memory is left for docker to judge")
        case (let m?, _?):
            memory = DockerSize.parse(m)
            decisions.append("your --memory \(m) and --memory-swap are kept")
        }

        if isBuild, !options.has("--shm-size"), let shm = plan.shmSize {
            injected += ["--shm-size", DockerSize.format(shm)]
            decisions.append("--shm-size \(DockerSize.format(shm)) from policy")
        }

        var enforced = true
        if isBuild && (memory != nil || userSwap != nil) {
            let choice = environment["DOCKER_BUILDKIT"].map { $0.lowercased() }
            let userChoseBuildKit = choice == "1" || choice == "true"
            let userChoseClassic = choice == "0" || choice == "false"
            switch plan.buildEnforcement {
            case .classic where userChoseBuildKit:
                enforced = false
                decisions.append("DOCKER_BUILDKIT=\(environment["DOCKER_BUILDKIT"]!) is yours: BuildKit will not enforce the memory limit (moby/buildkit#593)")
            case .classic where !userChoseClassic:
                env["DOCKER_BUILDKIT"] = "0"
                decisions.append("DOCKER_BUILDKIT=0: the classic builder enforces the memory limit on RUN steps, BuildKit would ignore it (policy build.enforce: classic)")
            case .notice where !userChoseClassic:
                enforced = false
                decisions.append("the memory limit may not be enforced: BuildKit ignores -m/--memory-swap (policy build.enforce: notice)")
            default:
                break
            }
        }

        var arguments = commandLine.arguments
        arguments.insert(contentsOf: injected, at: commandLine.commandArgumentsIndex)
        return Result(arguments: arguments, environment: env, decisions: decisions, memory: memory, enforced: enforced)
    }

    static func swapValue(
        _ swap: Swap, memory: UInt64, decisions: inout [String], source: String, given: String? = nil
    ) -> String {
        let memoryText = given ?? DockerSize.format(memory)
        switch swap {
        case .none:
            decisions.append("--memory-swap \(memoryText): no swap (\(source))")
            return memoryText
        case .unlimited:
            decisions.append("--memory-swap -1: unlimited swap (\(source))")
            return "-1"
        case .total(let total) where total >= memory:
            decisions.append("--memory-swap \(DockerSize.format(total)) from \(source)")
            return DockerSize.format(total)
        case .total(let total):
            decisions.append("--memory-swap \(memoryText): the policy's \(DockerSize.format(total)) is below the memory limit, so no swap")
            return memoryText
        }
    }

    /// A command line whose memory limit is raised to `bytes` (after an OOM kill): the new `--memory` and
    /// `--memory-swap` go last among the options (docker keeps the last value of a repeated flag), so that they
    /// override the user's and the policy's, in whatever spelling those were given.
    public static func raising(_ commandLine: DockerCommandLine, to bytes: UInt64, swap: Swap?) -> [String] {
        let options = SubcommandOptions(commandLine)
        var flags = ["--memory", DockerSize.format(bytes)]
        let hadSwap = options.value("--memory-swap")
        switch (swap, hadSwap) {
        case (.unlimited?, _), (nil, "-1"?):
            flags += ["--memory-swap", "-1"]
        case (_, _?), (.none?, nil), (.total?, nil):
            // Keep the same amount of swap room as before, relative to memory: none when it was none.
            flags += ["--memory-swap", DockerSize.format(bytes)]
        case (nil, nil):
            break
        }
        var arguments = commandLine.arguments
        let at = commandLine.protected == .run ? (options.positional ?? arguments.count) : arguments.count
        arguments.insert(contentsOf: flags, at: at)
        return arguments
    }
}

/// Sizes in docker's units, as docker's `units.RAMInBytes` reads them (binary multiples: 1k = 1024).
public enum DockerSize {
    /// `512`, `64m`, `1.5g`, `2GB`, `100 MiB`… → bytes; nil if docker would refuse it.
    public static func parse(_ text: String) -> UInt64? {
        var s = Substring(text)
        var digits = ""
        while let c = s.first, c.isNumber || c == "." {
            digits.append(c)
            s = s.dropFirst()
        }
        guard let number = Double(digits), number >= 0 else { return nil }
        if s.first == " " { s = s.dropFirst() }
        var unit = s.lowercased()
        if unit.hasSuffix("b") { unit.removeLast() }
        if unit.hasSuffix("i") { unit.removeLast() }
        let multipliers: [String: Double] = ["": 1, "k": 0x1p10, "m": 0x1p20, "g": 0x1p30, "t": 0x1p40, "p": 0x1p50]
        guard let multiplier = multipliers[unit] else { return nil }
        return UInt64(number * multiplier)
    }

    /// The shortest exact docker spelling: `4g`, `512m`, `6291456` (plain bytes when no unit divides it).
    public static func format(_ bytes: UInt64) -> String {
        for (suffix, shift) in [("t", 40), ("g", 30), ("m", 20), ("k", 10)] as [(String, UInt64)] {
            let unit: UInt64 = 1 << shift
            if bytes >= unit && bytes % unit == 0 { return "\(bytes / unit)\(suffix)" }
        }
        return "\(bytes)"
    }
}
