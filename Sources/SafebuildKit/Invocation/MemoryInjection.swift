/// Memory defaults applied to a protected command line: a pure function, argv in, argv out, plus the decisions
/// that shaped it. The user's own flags always win; injected flags go right after the subcommand, never after the
/// image (everything after the image is the container's own command line).
package enum MemoryInjection {
    package struct Result: Equatable, Sendable {
        package var arguments: [String]
        /// Variables to set in docker's environment (`DOCKER_BUILDKIT=0`).
        package var environment: [String: String]
        /// What was added or kept, and why, for the dry run and the journal.
        package var decisions: [String]
        /// The memory limit in effect after injection, in bytes (the user's or the policy's), if known.
        package var memory: UInt64?
        /// Whether the builder that will run enforces the limit (false: BuildKit or buildx will ignore it).
        package var enforced: Bool
        /// The decision the user must be warned of: a memory limit that the builder will not enforce.
        package var notice: String? = nil
        /// Why nothing may run: the user's `--memory` is above the host's ceiling and the host refuses that.
        package var refusal: String? = nil
    }

    /// `builder` is what decides docker's own builder (`BuilderFacts`); a build is never moved from BuildKit to the
    /// classic builder when BuildKit is docker's choice or the Dockerfile or the command line needs it.
    package static func apply(
        _ limits: ResolvedLimits, to commandLine: DockerCommandLine, environment: [String: String],
        builder: BuilderFacts = .unknown
    ) -> Result {
        guard let command = commandLine.protected else {
            return Result(arguments: commandLine.arguments, environment: [:], decisions: [], memory: nil, enforced: true)
        }
        let options = SubcommandOptions(commandLine)
        let userMemory = options.value("--memory")
        let userSwap = options.value("--memory-swap")
        let isBuild = command != .run
        let enforcement = limits.enforcement ?? .classic

        if case .build(.buildx) = command {
            // Recorded as `memory_limit_enforced: false`, and said once on stderr before docker starts (even when
            // docker then fails, as a docker without the buildx plugin does).
            let limit = userMemory.map { "your --memory \($0)" }
                ?? limits.memory.map { "the policy's memory limit \(Size.format($0))" } ?? "no memory limit"
            return Result(
                arguments: commandLine.arguments, environment: [:],
                decisions: ["buildx build: no memory flags added; BuildKit ignores -m/--memory-swap (moby/buildkit#593)"],
                memory: userMemory.flatMap(Size.bytes), enforced: false,
                notice: "\(limit) is not enforced for docker buildx build: buildx always builds with BuildKit, which "
                    + "ignores -m/--memory-swap on RUN steps (moby/buildkit#593), so safebuild adds no memory flags")
        }
        if isBuild && enforcement == .off {
            return Result(
                arguments: commandLine.arguments, environment: [:],
                decisions: ["build: policy build.enforce is off; no memory flags added"],
                memory: userMemory.flatMap(Size.bytes), enforced: false)
        }

        var injected: [String] = []
        var decisions: [String] = []
        var memory: UInt64?
        var lowerTo: UInt64?
        if let m = userMemory, let ceiling = limits.ceiling, let bytes = Size.bytes(m), bytes == 0 || bytes > ceiling {
            // docker reads --memory 0 as no limit at all.
            let what = "your --memory \(m) is above the host's ceiling \(Size.format(ceiling)) (\(limits.ceilingSource))"
            switch limits.memoryFlag {
            case .allow:
                decisions.append("\(what); kept, as the host allows (protection.memory_flag: allow)")
            case .clamp:
                lowerTo = ceiling
                decisions.append("\(what); lowered to \(Size.format(ceiling)) (protection.memory_flag: clamp)")
            case .refuse:
                return Result(
                    arguments: commandLine.arguments, environment: [:], decisions: decisions, memory: nil, enforced: true,
                    refusal: "--memory \(m) is above the host's ceiling \(Size.format(ceiling)) (\(limits.ceilingSource)); "
                        + "give at most --memory \(Size.format(ceiling)), or none (protection.memory_flag: refuse)")
            }
        }
        switch (userMemory, userSwap) {
        case (nil, nil):
            if let m = limits.memory {
                memory = m
                injected += ["--memory", Size.format(m)]
                if let swap = limits.memorySwap { injected += ["--memory-swap", swapText(swap)] }
                decisions.append("added \(injected.joined(separator: " "))")
            } else {
                decisions.append("no memory limit: the policy sets none for \(command.name)")
            }
        case (let m?, nil):
            memory = Size.bytes(m)
            if let bytes = memory, let swap = limits.memorySwap(forMemory: bytes) {
                // The user's own spelling when the rule means "no swap", so that docker sees equal values.
                let text = swap == Int64(clamping: bytes) ? m : swapText(swap)
                injected += ["--memory-swap", text]
                decisions.append("your --memory \(m) is kept; added --memory-swap \(text) by the policy's swap rule")
            } else {
                decisions.append("your --memory \(m) is kept")
            }
        case (nil, _?):
            decisions.append("your --memory-swap without --memory is left for docker to judge")
        case (let m?, _?):
            memory = Size.bytes(m)
            decisions.append("your --memory \(m) and --memory-swap are kept")
        }

        if !options.has("--shm-size"), let shm = limits.shmSize {
            injected += ["--shm-size", Size.format(shm)]
            decisions.append("added --shm-size \(Size.format(shm))")
        }

        var env: [String: String] = [:]
        var enforced = true
        var notice: String?
        if isBuild && (memory != nil || userSwap != nil) {
            let choice = builderDecision(enforcement, builder: builder, options: options, environment: environment)
            env = choice.environment
            enforced = choice.enforced
            notice = choice.notice
            decisions += choice.decisions
        }

        if let notice { decisions.append(notice) }
        var arguments = commandLine.arguments
        arguments.insert(contentsOf: injected, at: commandLine.commandArgumentsIndex)
        if let lowerTo {
            // After the user's own flag, which docker would otherwise keep (the last of a repeated flag wins).
            arguments = raising(
                DockerCommandLine(arguments), to: lowerTo, memorySwap: limits.memorySwap(forMemory: lowerTo))
            memory = lowerTo
        }
        return Result(
            arguments: arguments, environment: env, decisions: decisions, memory: memory, enforced: enforced,
            notice: notice)
    }

    /// What a build with a memory limit does about its builder.
    struct BuilderDecision: Equatable {
        var environment: [String: String] = [:]
        var enforced: Bool
        var notice: String?
        var decisions: [String] = []
    }

    /// Under `classic`: where docker builds with the classic builder, it enforces the limit; where docker's choice is
    /// BuildKit, or the Dockerfile or the command line needs BuildKit, BuildKit is kept, with one warning and
    /// `memory_limit_enforced: false`; where docker's choice is not known, `DOCKER_BUILDKIT=0` selects the classic
    /// builder only when the Dockerfile was read and needs nothing it lacks. Under `notice`: docker's choice, with a
    /// warning when it is not the classic builder.
    static func builderDecision(
        _ enforcement: BuildEnforcement, builder facts: BuilderFacts, options: SubcommandOptions,
        environment: [String: String]
    ) -> BuilderDecision {
        let setting = environment["DOCKER_BUILDKIT"]
        let choice = BuilderChoice.docker(facts, setting: setting)
        var needs = facts.dockerfile?.uses.map { "Dockerfile line \($0.line): \($0.words)" } ?? []
        needs += buildKitFlags.filter { options.has($0) }.map { "\($0) on the command line" }
        let needsText = needs.prefix(3).joined(separator: ", ") + (needs.count > 3 ? " and \(needs.count - 3) more" : "")
        let unenforced = "BuildKit does not enforce the memory limit (moby/buildkit#593)"
        let userSetting = setting.map { BuilderChoice.parseBool($0) } ?? nil
        switch choice.builder {
        case .classic:
            var decision = BuilderDecision(
                enforced: true,
                decisions: ["the classic builder enforces the memory limit on RUN steps: \(choice.reason)"])
            if !needs.isEmpty {
                decision.decisions.append("the build uses what the classic builder lacks (\(needsText)), but docker chose it, not safebuild")
            }
            return decision
        case .buildKit:
            if userSetting == true {
                return BuilderDecision(
                    enforced: false,
                    notice: "DOCKER_BUILDKIT=\(setting ?? "") is yours: BuildKit will not enforce the memory limit (moby/buildkit#593)")
            }
            if enforcement == .notice {
                return BuilderDecision(
                    enforced: false,
                    notice: "the memory limit may not be enforced: BuildKit ignores -m/--memory-swap (policy build.enforce: notice)",
                    decisions: ["docker builds with BuildKit: \(choice.reason)"])
            }
            return BuilderDecision(
                enforced: false,
                notice: "BuildKit is docker's builder here and safebuild keeps it: \(unenforced) (\(choice.reason))")
        case .fails:
            return BuilderDecision(enforced: false, decisions: ["docker will refuse this build: \(choice.reason)"])
        case .unknown:
            if enforcement == .notice {
                return BuilderDecision(
                    enforced: false,
                    notice: "the memory limit may not be enforced: BuildKit ignores -m/--memory-swap (policy build.enforce: notice)",
                    decisions: ["docker's builder is not known: \(choice.reason)"])
            }
            if needs.isEmpty, facts.dockerfile != nil {
                return BuilderDecision(
                    environment: ["DOCKER_BUILDKIT": "0"], enforced: true,
                    decisions: [
                        "DOCKER_BUILDKIT=0: the classic builder enforces the memory limit on RUN steps, BuildKit would ignore it; docker's own builder is not known (\(choice.reason)) and the Dockerfile uses nothing the classic builder lacks (policy build.enforce: classic)"
                    ])
            }
            let why = needs.isEmpty
                ? "the Dockerfile could not be read (\(facts.dockerfileUnread ?? "not read"))"
                : "the build needs BuildKit (\(needsText))"
            return BuilderDecision(
                enforced: false,
                notice: "safebuild keeps docker's builder: \(why) and docker's own builder is not known (\(choice.reason)); the memory limit is enforced only if it is the classic builder")
        }
    }

    /// `docker build` flags only BuildKit honours: the classic builder of docker 20.10 ignores `--secret`, `--ssh`
    /// and `--output` (docker/cli cli/command/image/build.go annotates them "buildkit"; 23+'s classic builder does not
    /// know them), and the others are buildx's.
    static let buildKitFlags = [
        "--secret", "--ssh", "--output", "--cache-to", "--build-context", "--push", "--load", "--attest", "--sbom",
        "--provenance", "--call", "--check",
    ]

    static func swapText(_ value: Int64) -> String {
        value < 0 ? "-1" : Size.format(UInt64(value))
    }

    /// A command line whose memory limit is raised to `bytes` (after an OOM kill): the new `--memory` and
    /// `--memory-swap` go last among the options (docker keeps the last value of a repeated flag), so that they
    /// override the user's and the policy's, in whatever spelling those were given. `memorySwap` is the swap rule's
    /// answer for the new limit; an unlimited `--memory-swap -1` already on the line stays unlimited.
    package static func raising(_ commandLine: DockerCommandLine, to bytes: UInt64, memorySwap: Int64?) -> [String] {
        let options = SubcommandOptions(commandLine)
        var flags = ["--memory", Size.format(bytes)]
        if options.value("--memory-swap") == "-1" {
            flags += ["--memory-swap", "-1"]
        } else if let swap = memorySwap {
            flags += ["--memory-swap", swapText(swap)]
        } else if options.value("--memory-swap") != nil {
            flags += ["--memory-swap", Size.format(bytes)]
        }
        var arguments = commandLine.arguments
        let at = commandLine.protected == .run ? (options.positional ?? arguments.count) : arguments.count
        arguments.insert(contentsOf: flags, at: at)
        return arguments
    }
}
