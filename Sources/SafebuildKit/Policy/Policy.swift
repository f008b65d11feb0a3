/// One pre-flight threshold: a value (`nil`: check disabled) and what to do when the host crosses it.
package struct Threshold<Value: Equatable & Sendable>: Equatable, Sendable {
    package var value: Sourced<Value?>
    package var action: Sourced<PreflightAction>
}

/// The policy: memory defaults, rules, pre-flight thresholds, retry and remedy settings, journal, extra failure
/// signatures and docker settings. Every value carries its source. Built by `PolicyParser`, loaded by `PolicyLoader`.
package struct Policy: Equatable, Sendable {
    /// The protected command a rule or a lookup is about.
    package enum Command: String, Equatable, Sendable, CaseIterable {
        case run, build
    }

    /// Memory defaults for one command.
    package struct Limits: Equatable, Sendable {
        package var memory: Sourced<MemoryRule>
        package var swap: Sourced<SwapRule>
        /// `--shm-size`; `nil`: docker's default (64m).
        package var shmSize: Sourced<Size?>
    }

    /// A rule: when `match` matches, its settings override the defaults.
    package struct Rule: Equatable, Sendable {
        package struct Match: Equatable, Sendable {
            package var image: Glob?
            package var context: Glob?
            package var dockerfile: Glob?
            package var job: Glob?
            package var command: Command?
        }
        /// 1-based position in the file.
        package var number: Int
        package var name: String?
        package var match: Match
        package var memory: Sourced<MemoryRule>?
        package var swap: Sourced<SwapRule>?
        package var shmSize: Sourced<Size>?
        package var enforce: Sourced<BuildEnforcement>?
        package var source: PolicySource

        /// `rule 2 (image ml/*)`, or `rule 2 (gpu-jobs)` when named.
        package var label: String {
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

    package struct Preflight: Equatable, Sendable {
        package var minAvailable: Threshold<Size>
        /// PSI memory `some avg10`, percent.
        package var maxPressure: Threshold<Double>
        package var maxBuildCache: Threshold<Size>
        package var minFreeDisk: Threshold<Size>
        package var minFreeBlocks: Threshold<FreeBlocks>
        /// Seconds the `wait` action waits at most.
        package var waitTimeout: Sourced<Double>
        /// Seconds any one daemon query may take.
        package var engineTimeout: Sourced<Double>
    }

    package struct Backoff: Equatable, Sendable {
        package var initial: Sourced<Double>
        package var max: Sourced<Double>
        /// Fraction (0…1) of each delay that is randomised.
        package var jitter: Sourced<Double>
    }

    package struct RaiseMemory: Equatable, Sendable {
        package var factor: Sourced<Double>
        package var cap: Sourced<Size>
    }

    package struct Retry: Equatable, Sendable {
        package var maxAttempts: Sourced<Int>
        package var backoff: Backoff
        /// Seconds from the first attempt after which no retry starts.
        package var deadline: Sourced<Double>
        package var raiseMemory: RaiseMemory
        /// Seconds between two applications of the same remedy, host-wide.
        package var cooldown: Sourced<Double>
        /// Failure class → remedy names per retry step.
        package var ladders: [String: Sourced<[[String]]>]
    }

    package struct Remedies: Equatable, Sendable {
        package var keepStorage: Sourced<Size>
        /// Docker duration text (`24h`) for `--filter until=…`.
        package var pruneUntil: Sourced<String>
        package var dropCaches: Sourced<Bool>
        package var compactMemory: Sourced<Bool>
        package var lockDirectory: Sourced<String>
    }

    package struct Journal: Equatable, Sendable {
        package var path: Sourced<String>
        package var maxSize: Sourced<Size>
        package var keep: Sourced<Int>
        /// Prometheus textfile; `nil`: none.
        package var metricsPath: Sourced<String?>
    }

    package struct Docker: Equatable, Sendable {
        /// The real docker; `nil`: found on PATH.
        package var path: Sourced<String?>
        /// Seconds between SIGTERM and SIGKILL when safebuild stops docker.
        package var stopGrace: Sourced<Double>
    }

    package var run: Limits
    package var build: Limits
    package var buildEnforce: Sourced<BuildEnforcement>
    package var rules: [Rule]
    package var preflight: Preflight
    package var retry: Retry
    package var remedies: Remedies
    package var journal: Journal
    package var signatures: [PolicySignature]
    package var docker: Docker

    /// Remedy names the retry ladders may use (filled in by the remedy helper).
    package static let knownRemedies: Set<String> = [
        "prune_build_cache", "prune_dangling_images", "drop_caches", "compact_memory", "wait_for_memory", "raise_memory",
    ]
    /// Failure class names ladders and signatures may use (filled in by the failure helper).
    package static let knownClasses: Set<String> = [
        "network_enomem", "storage_enomem", "process_enomem", "page_allocation", "oom_container", "oom_build_step",
        "daemon_unreachable", "disk_full", "not_memory",
    ]
}
