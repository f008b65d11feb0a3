/// Where a policy value came from: the built-in default or a line of a policy file.
public struct PolicySource: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// The policy file, or `nil` for the built-in default (Config/default-policy.yml, compiled in).
    public var file: String?
    public var line: Int
    public var column: Int

    public init(file: String?, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public static let builtInName = "built-in default"

    /// `built-in default:12` or `/etc/safebuild/policy.yml:14`.
    public var description: String { "\(file ?? Self.builtInName):\(line)" }
    public var isBuiltIn: Bool { file == nil }
}

/// A policy value and where it was set.
public struct Sourced<Value: Equatable & Sendable>: Equatable, Sendable {
    public var value: Value
    public var source: PolicySource

    public init(_ value: Value, _ source: PolicySource) {
        self.value = value
        self.source = source
    }
}

/// What a pre-flight check does when its threshold is crossed.
public enum PreflightAction: String, Equatable, Sendable, CaseIterable, CustomStringConvertible {
    /// Say so on stderr and in the journal, then go ahead.
    case warn
    /// Apply the remedies (prune, drop caches, compact), check again, go ahead either way.
    case remediate
    /// Wait (up to `wait_timeout`) for the host to recover, then go ahead with a warning.
    case wait
    /// Do not start docker; exit 75.
    case refuse

    public var description: String { rawValue }
}

/// Free blocks of at least `2^order` pages, from /proc/buddyinfo.
public struct FreeBlocks: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var order: Int
    public var count: Int
    public var description: String { "{order: \(order), count: \(count)}" }
}

/// One pre-flight threshold: a value (`nil`: check disabled) and what to do when the host crosses it.
public struct Threshold<Value: Equatable & Sendable>: Equatable, Sendable {
    public var value: Sourced<Value?>
    public var action: Sourced<PreflightAction>
}

/// An extra failure signature: docker output containing `contains` (or matching the regular expression `pattern`)
/// is classified as `failureClass`.
public struct PolicySignature: Equatable, Sendable {
    public enum Text: Equatable, Sendable {
        case contains(String)
        case pattern(String)
    }
    public var failureClass: String
    public var text: Text
    public var source: PolicySource
}

/// The policy: memory defaults, rules, pre-flight thresholds, retry and remedy settings, journal, extra failure
/// signatures and docker settings. Every value carries its source. Built by `PolicyParser`, loaded by `PolicyLoader`.
public struct Policy: Equatable, Sendable {
    /// The protected command a rule or a lookup is about.
    public enum Command: String, Equatable, Sendable, CaseIterable {
        case run, build
    }

    /// Memory defaults for one command.
    public struct Limits: Equatable, Sendable {
        public var memory: Sourced<MemoryRule>
        public var swap: Sourced<SwapRule>
        /// `--shm-size`; `nil`: docker's default (64m).
        public var shmSize: Sourced<Size?>
    }

    /// A rule: when `match` matches, its settings override the defaults.
    public struct Rule: Equatable, Sendable {
        public struct Match: Equatable, Sendable {
            public var image: Glob?
            public var context: Glob?
            public var dockerfile: Glob?
            public var job: Glob?
            public var command: Command?
        }
        /// 1-based position in the file.
        public var number: Int
        public var name: String?
        public var match: Match
        public var memory: Sourced<MemoryRule>?
        public var swap: Sourced<SwapRule>?
        public var shmSize: Sourced<Size>?
        public var enforce: Sourced<BuildEnforcement>?
        public var source: PolicySource

        /// `rule 2 (image ml/*)`, or `rule 2 (gpu-jobs)` when named.
        public var label: String {
            if let name { return "rule \(number) (\(name))" }
            var parts: [String] = []
            if let g = match.image { parts.append("image \(g)") }
            if let g = match.context { parts.append("context \(g)") }
            if let g = match.dockerfile { parts.append("dockerfile \(g)") }
            if let g = match.job { parts.append("job \(g)") }
            if let c = match.command { parts.append("command \(c.rawValue)") }
            return "rule \(number) (\(parts.joined(separator: ", ")))"
        }
    }

    public struct Preflight: Equatable, Sendable {
        public var minAvailable: Threshold<Size>
        /// PSI memory `some avg10`, percent.
        public var maxPressure: Threshold<Double>
        public var maxBuildCache: Threshold<Size>
        public var minFreeDisk: Threshold<Size>
        public var minFreeBlocks: Threshold<FreeBlocks>
        /// Seconds the `wait` action waits at most.
        public var waitTimeout: Sourced<Double>
        /// Seconds any one daemon query may take.
        public var engineTimeout: Sourced<Double>
    }

    public struct Backoff: Equatable, Sendable {
        public var initial: Sourced<Double>
        public var max: Sourced<Double>
        /// Fraction (0…1) of each delay that is randomised.
        public var jitter: Sourced<Double>
    }

    public struct RaiseMemory: Equatable, Sendable {
        public var factor: Sourced<Double>
        public var cap: Sourced<Size>
    }

    public struct Retry: Equatable, Sendable {
        public var maxAttempts: Sourced<Int>
        public var backoff: Backoff
        /// Seconds from the first attempt after which no retry starts.
        public var deadline: Sourced<Double>
        public var raiseMemory: RaiseMemory
        /// Seconds between two applications of the same remedy, host-wide.
        public var cooldown: Sourced<Double>
        /// Failure class → remedy names per retry step.
        public var ladders: [String: Sourced<[[String]]>]
    }

    public struct Remedies: Equatable, Sendable {
        public var keepStorage: Sourced<Size>
        /// Docker duration text (`24h`) for `--filter until=…`.
        public var pruneUntil: Sourced<String>
        public var dropCaches: Sourced<Bool>
        public var compactMemory: Sourced<Bool>
        public var lockDirectory: Sourced<String>
    }

    public struct Journal: Equatable, Sendable {
        public var path: Sourced<String>
        public var maxSize: Sourced<Size>
        public var keep: Sourced<Int>
        /// Prometheus textfile; `nil`: none.
        public var metricsPath: Sourced<String?>
    }

    public struct Docker: Equatable, Sendable {
        /// The real docker; `nil`: found on PATH.
        public var path: Sourced<String?>
        /// Seconds between SIGTERM and SIGKILL when safebuild stops docker.
        public var stopGrace: Sourced<Double>
    }

    public var run: Limits
    public var build: Limits
    public var buildEnforce: Sourced<BuildEnforcement>
    public var rules: [Rule]
    public var preflight: Preflight
    public var retry: Retry
    public var remedies: Remedies
    public var journal: Journal
    public var signatures: [PolicySignature]
    public var docker: Docker

    /// Remedy names the retry ladders may use (filled in by the remedy helper).
    public static let knownRemedies: Set<String> = [
        "prune_build_cache", "prune_dangling_images", "drop_caches", "compact_memory", "wait_for_memory", "raise_memory",
    ]
    /// Failure class names ladders and signatures may use (filled in by the failure helper).
    public static let knownClasses: Set<String> = [
        "network_enomem", "storage_enomem", "process_enomem", "page_allocation", "oom_container", "oom_build_step",
        "daemon_unreachable", "disk_full", "not_memory",
    ]
}
