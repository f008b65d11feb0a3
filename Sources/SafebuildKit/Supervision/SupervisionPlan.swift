/// What one protected command will run, decided before anything runs: docker's arguments and environment with the
/// policy's memory defaults, the retry and remedy settings, the pre-flight thresholds, the stop grace, where the
/// journal goes, and the dry run's text. A pure function of docker's command line, the policy, the host's facts, what
/// decides docker's builder, safebuild's options and the environment; the dry run prints it, `AttemptLoop` runs it.
///
/// The policy is read here only, through the mappings and accessors of PolicySettings.swift; every other part of
/// Supervision/ takes the plan's plain values.
package struct SupervisionPlan: Sendable, Equatable {
    // MARK: What runs

    /// The real docker.
    package var docker: String
    /// docker's command line as the user gave it (after safebuild's own options).
    package var commandLine: DockerCommandLine
    package var command: ProtectedCommand
    /// The first attempt's arguments: `commandLine`'s with the policy's memory defaults.
    package var arguments: [String]
    /// safebuild's environment (pre-flight and the journal read it).
    package var environment: [String: String]
    /// docker's environment: safebuild's, with `injectedEnvironment` over it.
    package var dockerEnvironment: [String: String]
    /// What the memory defaults set in docker's environment (`DOCKER_BUILDKIT=0`).
    package var injectedEnvironment: [String: String]
    /// safebuild's working directory.
    package var workingDirectory: String

    // MARK: Memory

    /// What the policy resolved for this command (its swap rule applies again when the limit is raised).
    package var limits: ResolvedLimits
    /// The first attempt's memory limit in bytes (the user's or the policy's); nil: none.
    package var memory: UInt64?
    /// False when the builder will ignore the memory limit (BuildKit): the invocation record says so.
    package var limitEnforced: Bool
    /// The warning to give before the first attempt (a limit the builder will not enforce).
    package var notice: String?
    /// The policy's decisions behind `limits`, as sentences.
    package var policyDecisions: [String]
    /// What the memory defaults added or kept, and why.
    package var injectionDecisions: [String]
    /// Why nothing may run (a `--memory` above the host's ceiling, which the host refuses); nil: go ahead.
    package var refusal: String?

    // MARK: Pre-flight, attempts, remedies

    /// The pre-flight thresholds the policy sets (none: no pre-flight).
    package var thresholds: [Preflight.Threshold]
    /// Seconds the pre-flight `wait` action waits at most.
    package var preflightWaitTimeout: Double
    /// Seconds any one engine query of pre-flight may take.
    package var engineTimeout: Double
    /// Seconds a host-shared build-cache figure is used before it is refreshed (`preflight.build_cache_max_age`).
    package var buildCacheMaxAge: Double
    package var retry: RetrySettings
    /// How stdin and stdout are kept so that a retry runs the command unchanged.
    package var streams: StreamPlan
    package var remedies: RemedySettings
    /// Remedies the policy turned off, with why.
    package var disabledRemedies: [RemedyName: String]
    /// Seconds docker gets after a SIGTERM or SIGHUP before safebuild stops the container and kills docker.
    package var stopGrace: Double
    /// The policy's failure signatures, tried before the built-in ones.
    package var signatures: [Signature]
    /// Where the remedies' host-wide lock lives, and how long a remedy is not run again host-wide.
    package var lockDirectory: String
    package var cooldown: Double
    /// Modes and group of the journal, metrics and runtime files (the host's `journal.group`).
    package var files: SharedFiles

    // MARK: The journal

    /// The host's journal (`Journal.forWriting`), whatever `--sb-journal` / `SAFEBUILD_JOURNAL` say.
    package var journalPath: String
    /// Said once before the first attempt when `--sb-journal` / `SAFEBUILD_JOURNAL` named another file.
    package var journalWarning: String?
    /// Rotate the journal when a record would take it past this size; keep this many rotated files.
    package var journalMaxBytes: Int64
    package var journalKeep: Int
    /// The Prometheus textfile refreshed after each invocation (the host's `journal.metrics_path`); nil: none.
    package var metricsPath: String?
    /// The variables whose values the journal keeps (`journal.keep_values`, the host's); of every other `-e`,
    /// `--env` or `--build-arg`, only the name.
    package var keepValues: Set<String>
    /// The policy files in effect, lowest layer first (`built-in default` when there are none).
    package var policySource: String
    /// The invocation this one runs again (`safebuild retry`).
    package var retryOf: String?
    /// `run`: the image; `build`: the tags.
    package var image: String?
    package var tags: [String]?
    /// Whether the user named the container (`--name`): a failed attempt's container goes before a retry takes
    /// the name again.
    package var namesContainer: Bool

    // MARK: Memory admission and accounting

    package var admission: AdmissionSettings
    /// Why the attempts' containers cannot be followed for their memory (BuildKit, `build -q`); nil: they can.
    package var accountingGap: String?

    /// Where a protected command's runtime state lives (`remedies.lock_dir`, else the host's default) and the group its
    /// files are shared with (`journal.group`): one answer for the plan and for the Supervisor, which opens the engine
    /// state before the plan exists (a build's cached CLI version decides its builder).
    package static func runtimeFiles(_ policy: Policy, host: HostFacts) -> (directory: String, files: SharedFiles) {
        (policy.lockDirectory ?? host.defaultLockDirectory, SharedFiles(group: HostSettings.groupID(policy.journal.group.value)))
    }

    /// The policy's and the memory defaults' decisions, for the invocation record.
    package var decisions: [String] { policyDecisions + injectionDecisions }

    package init(
        docker: String, commandLine: DockerCommandLine, command: ProtectedCommand, policy loaded: LoadedPolicy,
        host: HostFacts, options: SafebuildOptions, environment: [String: String], retryOf: String? = nil,
        builder: BuilderFacts = .unknown
    ) {
        let policy = loaded.policy
        let flags = SubcommandOptions(commandLine)
        let limits = policy.limits(
            for: Self.matchContext(
                commandLine, command: command, flags: flags, cwd: host.workingDirectory, hostMemory: host.memory,
                environment: environment))
        let injection = MemoryInjection.apply(limits, to: commandLine, environment: environment, builder: builder)

        self.docker = docker
        self.commandLine = commandLine
        self.command = command
        arguments = injection.arguments
        self.environment = environment
        dockerEnvironment = environment.merging(injection.environment) { $1 }
        injectedEnvironment = injection.environment
        workingDirectory = host.workingDirectory

        self.limits = limits
        memory = injection.memory
        limitEnforced = injection.enforced
        notice = injection.notice
        policyDecisions = limits.decisions.map(\.sentence)
        injectionDecisions = injection.decisions
        refusal = injection.refusal

        thresholds = policy.thresholds(hostMemory: host.memory)
        preflightWaitTimeout = policy.preflightWaitSeconds
        engineTimeout = policy.engineTimeoutSeconds
        buildCacheMaxAge = policy.buildCacheMaxAgeSeconds
        // --sb-max-attempts is the user's: at most the host's.
        let hostAttempts = loaded.hostLevel.retry.maxAttempts
        var attempts = options.maxAttempts
        if let asked = attempts, asked > hostAttempts.value {
            attempts = hostAttempts.value
            policyDecisions.append(
                "--sb-max-attempts \(asked) is above the host's retry.max_attempts \(hostAttempts.value) at \(hostAttempts.source); lowered to \(hostAttempts.value)")
        }
        retry = RetrySettings(policy: policy, maxAttempts: attempts)
        streams = StreamPlan.decide(
            commandLine, stdin: host.stdin, stdout: host.stdout, maxAttempts: retry.maxAttempts,
            stdinSpool: retry.stdinSpool, stdoutHold: retry.stdoutHold)
        remedies = RemedySettings(policy: policy, hostMemory: host.memory)
        disabledRemedies = policy.disabledRemedies
        stopGrace = policy.stopGraceSeconds
        signatures = policy.failureSignatures
        (lockDirectory, files) = Self.runtimeFiles(policy, host: host)
        cooldown = policy.cooldownSeconds

        // The host's journal alone: --sb-journal / SAFEBUILD_JOURNAL only choose what the reading commands read.
        let hostJournal = loaded.hostLevel.journal.path
        let journal = Journal.forWriting(
            hostPath: hostJournal.value, hostPolicy: hostJournal.source.layer == .host ? hostJournal.source.file : nil,
            options: options, environment: environment, orElse: host.defaultJournalPath)
        journalPath = journal.path
        journalWarning = journal.warning
        journalMaxBytes = policy.journalMaxBytes(hostMemory: host.memory)
        journalKeep = policy.journalKeep
        metricsPath = loaded.hostLevel.metricsPath
        keepValues = Set(policy.journal.keepValues.value)
        policySource = loaded.sourceDescription
        self.retryOf = retryOf
        image = command == .run ? flags.positional.map { commandLine.arguments[$0] } : nil
        tags = Journal.tags(in: commandLine)
        namesContainer = flags.value("--name") != nil
        let job = environment["JOB_NAME"].flatMap { $0.isEmpty ? nil : $0 }
        admission = AdmissionSettings(
            policy: policy, hostMemory: host.memory,
            stateDirectory: AdmissionSettings.stateDirectory(lockDirectory: lockDirectory),
            label: AdmissionSettings.label(
                command: command, image: image, tags: tags, job: job, buildNumber: environment["BUILD_NUMBER"]),
            job: job, image: image ?? tags?.first)
        admission.files = files
        admission.runtimeEnvironment = environment.filter { $0.key == "XDG_RUNTIME_DIR" }
        accountingGap = Self.accountingGap(command: command, flags: flags, environment: dockerEnvironment)
    }

    /// Why a build's RUN steps cannot be followed for their memory, if they cannot.
    static func accountingGap(
        command: ProtectedCommand, flags: SubcommandOptions, environment: [String: String]
    ) -> String? {
        guard command != .run else { return nil }
        let choice = (environment["DOCKER_BUILDKIT"] ?? "").lowercased()
        if command == .build(.buildx) || choice == "1" || choice == "true" {
            return "BuildKit runs RUN steps in cgroups of its own (docker 20.10: /docker/buildkit/ID, whatever --cgroup-parent says) and its output does not name them, so they cannot be told from another build's"
        }
        if flags.has("--quiet") {
            return "docker build -q prints no step container ids, so its RUN steps cannot be followed"
        }
        return nil
    }

    /// What `--sb-dry-run` prints: lines for stderr (each to be prefixed `safebuild: `) and the command line that
    /// would run, for stdout.
    package struct DryRun: Sendable, Equatable {
        package var lines: [String]
        package var command: String
    }

    /// The first attempt exactly as docker would get it (`AttemptCommand.prepare`): for `run`, with the
    /// `--cidfile cidFile` safebuild adds (a fresh path each attempt) and the user's `--rm` as given.
    package func dryRun(cidFile: String) -> DryRun {
        var lines = ["policy \(policySource)"]
        lines += policyDecisions.map { "policy: \($0)" }
        lines += injectionDecisions
        let attempt = AttemptCommand.prepare(arguments, command: command, temporaryCIDFile: cidFile)
        if let added = attempt.cidFile, !attempt.cidFileIsUsers {
            lines.append("added --cidfile \(added) to follow the container (a fresh path each attempt)")
        }
        lines.append("at most \(retry.maxAttempts) attempt(s); nothing was run")
        let env = injectedEnvironment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        return DryRun(lines: lines.map { "dry run: " + $0 }, command: ShellQuote.join(env + [docker] + attempt.arguments))
    }

    /// What the policy's rules match on: the image (`run`) or the tags (`build`), context, Dockerfile and CI job.
    static func matchContext(
        _ commandLine: DockerCommandLine, command: ProtectedCommand, flags: SubcommandOptions, cwd: String,
        hostMemory: UInt64, environment: [String: String]
    ) -> MatchContext {
        func absolute(_ path: String) -> String {
            let joined = path.hasPrefix("/") ? path : cwd + "/" + path
            var parts: [Substring] = []
            for part in joined.split(separator: "/") where part != "." {
                if part == ".." { _ = parts.popLast() } else { parts.append(part) }
            }
            return "/" + parts.joined(separator: "/")
        }
        if command == .run {
            let image = flags.positional.map { commandLine.arguments[$0] }
            return MatchContext(
                command: .run, images: image.map { [$0] } ?? [], job: environment["JOB_NAME"], hostMemory: hostMemory)
        }
        let context = flags.positional.map { commandLine.arguments[$0] }
        let located = BuildContext.locate(
            buildArguments: Array(commandLine.arguments[commandLine.commandArgumentsIndex...]))
        let local = located.context.map(absolute)
        let dockerfile = located.dockerfile.map(absolute) ?? local.map { $0 + "/Dockerfile" }
        return MatchContext(
            command: .build, images: flags.values("--tag"), contextPath: local ?? context, dockerfilePath: dockerfile,
            job: environment["JOB_NAME"], hostMemory: hostMemory)
    }
}
