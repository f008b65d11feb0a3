/// The policy: memory defaults, rules, pre-flight thresholds, retry and remedy settings, journal, extra failure
/// signatures and docker settings. Every value carries its source. Built by `PolicyParser` walking `PolicySchema` (where
/// each key is declared once), loaded by `PolicyLoader`. Names are the domain's enums (`FailureClass`, `RemedyName`,
/// `PreflightAction`); durations are seconds, read as a `TimeSpan` (at most 10 years).
package struct Policy: Equatable, Sendable {
    /// The protected command a rule or a lookup is about.
    package enum CommandKind: String, Equatable, Sendable, CaseIterable {
        case run, build
    }

    /// Memory defaults for one command.
    package struct Limits: Equatable, Sendable {
        package var memory: Sourced<MemoryRule>
        package var swap: Sourced<SwapRule>
        /// `--shm-size`; `nil`: docker's default (64m).
        package var shmSize: Sourced<Size?>
        /// The host's ceiling (`max_memory`): no memory limit that a layer below the host's sets (a default or a
        /// rule, and the built-in default's) is above it. `nil` in a file: the host's own `memory`, which
        /// `PolicyLoader` puts here once the host's layer is read.
        package var maxMemory: Sourced<MemoryRule?>
    }

    /// A rule: when `match` matches, its settings override the defaults.
    package struct Rule: Equatable, Sendable {
        package struct Match: Equatable, Sendable {
            package var image: Glob?
            package var context: Glob?
            package var dockerfile: Glob?
            package var job: Glob?
            package var command: CommandKind?
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

    /// One pre-flight threshold: a value (`nil`: check disabled) and what to do when the host crosses it.
    package struct ThresholdSetting<Value: Equatable & Sendable>: Equatable, Sendable {
        package var value: Sourced<Value?>
        package var action: Sourced<PreflightAction>
    }

    /// `preflight:`. Durations are in seconds (read as `TimeSpan`, at most 10 years).
    package struct PreflightSection: Equatable, Sendable {
        package var minAvailable: ThresholdSetting<Size>
        /// PSI memory `some avg10`, percent.
        package var maxPressure: ThresholdSetting<Double>
        package var maxBuildCache: ThresholdSetting<Size>
        package var minFreeDisk: ThresholdSetting<Size>
        package var minFreeBlocks: ThresholdSetting<FreeBlocks>
        /// Seconds the `wait` action waits at most.
        package var waitTimeout: Sourced<Double>
        /// Seconds any one daemon query may take.
        package var engineTimeout: Sourced<Double>
        /// Seconds a host-shared build-cache figure is used before one safebuild refreshes it in the background.
        package var buildCacheMaxAge: Sourced<Double>
    }

    /// `retry.backoff:`, in seconds.
    package struct BackoffSection: Equatable, Sendable {
        package var initial: Sourced<Double>
        package var max: Sourced<Double>
        /// Fraction (0…1) of each delay that is randomised.
        package var jitter: Sourced<Double>
    }

    /// `retry.raise_memory:`.
    package struct RaiseMemorySection: Equatable, Sendable {
        package var factor: Sourced<Double>
        package var cap: Sourced<Size>
    }

    /// `retry:`.
    package struct RetrySection: Equatable, Sendable {
        package var maxAttempts: Sourced<Int>
        package var backoff: BackoffSection
        /// Seconds from the first attempt after which no retry starts.
        package var deadline: Sourced<Double>
        package var raiseMemory: RaiseMemorySection
        /// Seconds between two applications of the same remedy, host-wide.
        package var cooldown: Sourced<Double>
        /// The remedies per retry step of each failure class the policy names (a policy file replaces them per class).
        package var ladders: [FailureClass: Sourced<Ladder>]
        /// Bytes of a piped stdin kept (in a temporary file) so that a retry reads the same input; past it, no retry.
        package var stdinSpool: Sourced<Size>
        /// Bytes of an artifact stdout held back (in a temporary file) until the attempt that ends the command;
        /// past it, the output is released and there is no retry. 0: never held.
        package var stdoutHold: Sourced<Size>
        /// An ENOMEM on a healthy host: retried once without remedies, or never.
        package var healthyHostENOMEM: Sourced<HealthyHostENOMEM>
    }

    /// `remedies:`.
    package struct RemedySection: Equatable, Sendable {
        package var keepStorage: Sourced<Size>
        /// Seconds: only build cache and images older than this are pruned (`--filter until=…`).
        package var pruneUntil: Sourced<Double>
        /// Seconds: free_disk never prunes images or cache younger than this.
        package var pruneFloor: Sourced<Double>
        package var dropCaches: Sourced<Bool>
        package var compactMemory: Sourced<Bool>
        /// drop_caches runs only with at least this much page cache to drop (`drop_caches_min_cache`)
        package var dropCachesMinCache: Sourced<Size>
        /// and MemAvailable below this (`drop_caches_max_available`); nil: below 1 GiB or 20% of MemTotal, the
        /// complement of the healthy host's plenty (`EvidenceJudgement`).
        package var dropCachesMaxAvailable: Sourced<Size?>
        /// compact_memory runs only with less than this free in blocks of 32 KiB and up (`compact_memory_max_free`).
        package var compactMemoryMaxFree: Sourced<Size>
        /// `remedies.state_dir` (once `lock_dir`): the host-wide locks and cooldown stamps.
        package var lockDirectory: Sourced<String>
    }

    /// `journal:`.
    package struct JournalSection: Equatable, Sendable {
        package var path: Sourced<String>
        package var maxSize: Sourced<Size>
        package var keep: Sourced<Int>
        /// Prometheus textfile; `nil`: none.
        package var metricsPath: Sourced<String?>
        /// The group that may read the journal and metrics files (and write in their directory).
        package var group: Sourced<String>
        /// Variables (`-e`, `--env`, `--build-arg`) whose values the journal keeps; every other value is left out.
        package var keepValues: Sourced<[String]>
    }

    /// `protection:`: what the host lets users do about protection.
    package struct ProtectionSection: Equatable, Sendable {
        /// Whether `--sb-off` / `SAFEBUILD_OFF` may switch protection off.
        package var allowOff: Sourced<Bool>
        /// What happens to a `-m`/`--memory` on the command line above the host's ceiling.
        package var memoryFlag: Sourced<MemoryFlagAction>
    }

    /// `admission:`: reservations of memory in the host-wide ledger before docker starts. Host-only keys.
    package struct AdmissionSection: Equatable, Sendable {
        package var enabled: Sourced<Bool>
        /// The budget; `nil`: detected (host memory less `hostReserve`, and the engine's parent cgroup's limit).
        package var budget: Sourced<Size?>
        package var hostReserve: Sourced<Size>
        package var reserve: Sourced<AdmissionReserve>
        /// What a command without a memory limit reserves.
        package var defaultRequest: Sourced<Size>
        /// Percent added to a learned p95 peak.
        package var learnedHeadroom: Sourced<Double>
        /// Seconds a reservation waits at most.
        package var waitTimeout: Sourced<Double>
        package var onTimeout: Sourced<AdmissionTimeoutAction>
        package var oversize: Sourced<AdmissionOversize>
    }

    /// `docker:`.
    package struct DockerSection: Equatable, Sendable {
        /// The real docker; `nil`: found on PATH.
        package var path: Sourced<String?>
        /// Seconds between SIGTERM and SIGKILL when safebuild stops docker.
        package var stopGrace: Sourced<Double>
    }

    package var run: Limits
    package var build: Limits
    package var buildEnforce: Sourced<BuildEnforcement>
    package var rules: [Rule]
    package var preflight: PreflightSection
    package var retry: RetrySection
    package var remedies: RemedySection
    package var journal: JournalSection
    package var admission: AdmissionSection
    package var signatures: [PolicySignature]
    package var docker: DockerSection
    package var protection: ProtectionSection

    /// The ladder the policy sets for `failureClass`, if it names the class.
    package func ladder(for failureClass: FailureClass) -> Ladder? {
        retry.ladders[failureClass]?.value
    }
}

