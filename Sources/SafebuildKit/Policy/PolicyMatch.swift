/// What a protected command is, as far as the policy's rules care.
package struct MatchContext: Equatable, Sendable {
    package var command: Policy.CommandKind
    /// `run`: the image; `build`: every `-t`/`--tag`.
    package var images: [String]
    /// The build context as an absolute path (or a URL, or `-`), without a trailing `/`.
    package var contextPath: String?
    /// The Dockerfile as an absolute path (`-f`, else `<context>/Dockerfile`).
    package var dockerfilePath: String?
    /// `$JOB_NAME`.
    package var job: String?
    /// Bytes of host memory (MemTotal), for sizes given as a share.
    package var hostMemory: UInt64

    package init(
        command: Policy.CommandKind, images: [String] = [], contextPath: String? = nil, dockerfilePath: String? = nil,
        job: String? = nil, hostMemory: UInt64
    ) {
        self.command = command
        self.images = images
        self.contextPath = contextPath
        self.dockerfilePath = dockerfilePath
        self.job = job
        self.hostMemory = hostMemory
    }
}

/// One policy decision, for the dry run and the journal: `memory 12g from rule 2 (image ml/*) at
/// /etc/safebuild/policy.yml:14`.
package struct PolicyDecision: Equatable, Sendable, CustomStringConvertible {
    /// `memory`, `swap`, `shm_size`, `enforce`.
    package var setting: String
    /// The whole sentence.
    package var sentence: String
    package var source: PolicySource
    package var description: String { sentence }
}

/// The memory settings the policy gives one command. The user's own command-line flags win over all of them; that
/// is for the caller, which knows the command line.
package struct ResolvedLimits: Equatable, Sendable {
    /// `--memory` in bytes; `nil`: add none.
    package var memory: UInt64?
    /// `--memory-swap` in bytes, -1 for unlimited; `nil`: add none.
    package var memorySwap: Int64?
    /// The swap rule behind `memorySwap`, to apply to a user's own `-m` (see `memorySwap(forMemory:)`).
    package var swapRule: SwapRule?
    /// `--shm-size` in bytes; `nil`: add none.
    package var shmSize: UInt64?
    /// For builds: how to handle BuildKit ignoring the limits; `nil` for `run`.
    package var enforcement: BuildEnforcement?
    package var hostMemory: UInt64
    /// Every decision behind the values above, in order.
    package var decisions: [PolicyDecision]
    /// The host's ceiling for this command in bytes (`max_memory`); nil: unlimited.
    package var ceiling: UInt64? = nil
    /// `run.max_memory 4g at /etc/safebuild/policy.yml:5`: the ceiling, for messages.
    package var ceilingSource: String = ""
    /// What to do with a `-m` on the command line above the ceiling (`protection.memory_flag`).
    package var memoryFlag: MemoryFlagAction = .allow

    /// The `--memory-swap` for a user who gave `-m` but no `--memory-swap`: the policy's swap rule applied to the
    /// user's memory; `nil` when the policy has no swap rule for this command.
    package func memorySwap(forMemory bytes: UInt64) -> Int64? {
        swapRule?.memorySwap(memory: bytes, hostMemory: hostMemory)
    }
}

extension Policy {
    /// The host's ceiling for `command` (`max_memory`, settled by `PolicyLoader` to the host's own memory when the host
    /// policy leaves it empty); nil when there is none.
    package func ceiling(for command: CommandKind) -> Sourced<MemoryRule>? {
        let limits = command == .run ? run : build
        return limits.maxMemory.value.map { Sourced($0, limits.maxMemory.source, note: limits.maxMemory.note) }
    }

    /// Whether `value` is held to `ceiling`: set by any layer but the host's (the built-in default's too), and above
    /// it. A share and a size that cannot be compared (host memory unknown) count as above: the ceiling is the safe
    /// side.
    package static func isAbove(_ value: Sourced<MemoryRule>, _ ceiling: Sourced<MemoryRule>?, hostMemory: UInt64?) -> Bool {
        guard value.source.layer != .host, let ceiling, case .limit(let top) = ceiling.value else { return false }
        guard case .limit(let size) = value.value else { return true }
        return (Size.order(size, top, hostMemory: hostMemory) ?? 1) > 0
    }

    /// The memory settings for one command: the `run:` or `build:` defaults, then every matching rule in file order
    /// (a later rule overrides what an earlier one set). A limit from below the host's layer above the host's ceiling
    /// is lowered to it, and `enforce: off` from there, under a ceiling, is taken as `notice` (the flags stay); each
    /// with a decision that says so.
    package func limits(for context: MatchContext) -> ResolvedLimits {
        let section = context.command == .run ? run : build
        let sectionName = context.command.rawValue
        var memory = (section.memory, "\(sectionName).memory")
        var swap = (section.swap, "\(sectionName).swap")
        var shm: (Sourced<Size?>, String) = (section.shmSize, "\(sectionName).shm_size")
        var enforce = (buildEnforce, "build.enforce")
        for rule in rules where rule.matches(context) {
            if let m = rule.memory { memory = (m, rule.label) }
            if let s = rule.swap { swap = (s, rule.label) }
            if let s = rule.shmSize { shm = (Sourced(s.value, s.source), rule.label) }
            if let e = rule.enforce { enforce = (e, rule.label) }
        }
        let host = context.hostMemory
        var result = ResolvedLimits(
            memory: nil, memorySwap: nil, swapRule: nil, shmSize: nil, enforcement: nil, hostMemory: host,
            decisions: [])
        func say(_ setting: String, _ text: String, _ from: String, _ source: PolicySource) {
            result.decisions.append(
                PolicyDecision(setting: setting, sentence: "\(text) from \(from) at \(source)", source: source))
        }
        func shown(_ size: Size) -> String {
            if case .share = size { return "\(Size.format(size.bytes(hostMemory: host))) (\(size) of \(Size.format(host)) host memory)" }
            return size.description
        }

        let ceiling = self.ceiling(for: context.command)
        let ceilingName = "\(sectionName).max_memory"
        if let ceiling, case .limit(let top) = ceiling.value {
            result.ceiling = max(top.bytes(hostMemory: host), Size.dockerMinimumMemory)
            result.ceilingSource = "\(ceilingName) \(shown(top)) at \(ceiling.source)"
        }
        result.memoryFlag = protection.memoryFlag.value

        if context.command == .build {
            result.enforcement = enforce.0.value
            say("enforce", "build enforce \(enforce.0.value)", enforce.1, enforce.0.source)
            if enforce.0.value == .off {
                if enforce.0.source.layer.isBelowHost, result.ceiling != nil {
                    result.enforcement = .notice
                    result.decisions[result.decisions.count - 1].sentence +=
                        ", taken as notice: under the host's ceiling (\(result.ceilingSource)) builds keep their memory flags"
                } else {
                    result.decisions[result.decisions.count - 1].sentence += ": no memory flags are added to builds"
                    return result
                }
            }
        }

        let above = Policy.isAbove(memory.0, ceiling, hostMemory: host)
        switch (memory.0.value, above) {
        case (_, true):
            let bytes = result.ceiling ?? 0
            result.memory = bytes
            say("memory", "memory \(memory.0.value)", memory.1, memory.0.source)
            result.decisions[result.decisions.count - 1].sentence +=
                ", lowered to the host's ceiling \(Size.format(bytes)) (\(result.ceilingSource))"
        case (.unlimited, _):
            say("memory", "memory unlimited (no --memory added)", memory.1, memory.0.source)
        case (.limit(let size), _):
            var bytes = size.bytes(hostMemory: host)
            var text = "memory \(shown(size))"
            if bytes < Size.dockerMinimumMemory {
                bytes = Size.dockerMinimumMemory
                text += ", raised to docker's minimum 6m"
            }
            result.memory = bytes
            say("memory", text, memory.1, memory.0.source)
        }

        if let bytes = result.memory {
            result.swapRule = swap.0.value
            let value = swap.0.value.memorySwap(memory: bytes, hostMemory: host)
            result.memorySwap = value
            switch swap.0.value {
            case .noSwap:
                say("swap", "swap none (--memory-swap \(Size.format(bytes)), equal to memory)", swap.1, swap.0.source)
            case .unlimited:
                say("swap", "swap unlimited (--memory-swap -1)", swap.1, swap.0.source)
            case .size(let size):
                var text = "swap \(shown(size))"
                if size.bytes(hostMemory: host) < bytes {
                    text += " is below memory \(Size.format(bytes)), so --memory-swap \(Size.format(bytes)) (no swap)"
                } else {
                    text += " (--memory-swap \(Size.format(UInt64(value))))"
                }
                say("swap", text, swap.1, swap.0.source)
            }
        } else {
            // docker refuses --memory-swap without --memory; a user's own -m still gets the swap rule.
            result.swapRule = swap.0.value
        }

        if let size = shm.0.value {
            result.shmSize = size.bytes(hostMemory: host)
            say("shm_size", "shm_size \(shown(size))", shm.1, shm.0.source)
        }
        return result
    }
}

extension Policy.Rule {
    /// Whether every criterion the rule gives matches (an absent image, path or job never matches a glob).
    package func matches(_ context: MatchContext) -> Bool {
        if let command = match.command, command != context.command { return false }
        if let glob = match.image {
            let hit = context.images.contains { image in
                ImageReference.spellings(image).contains { glob.matches($0) }
            }
            if !hit { return false }
        }
        if let glob = match.context {
            guard let path = context.contextPath, glob.matches(Self.trimmed(path)) else { return false }
        }
        if let glob = match.dockerfile {
            guard let path = context.dockerfilePath, glob.matches(Self.trimmed(path)) else { return false }
        }
        if let glob = match.job {
            guard let job = context.job, glob.matches(job) else { return false }
        }
        return true
    }

    static func trimmed(_ path: String) -> String {
        var p = Substring(path)
        while p.count > 1, p.hasSuffix("/") { p = p.dropLast() }
        return String(p)
    }
}
