import Glibc

/// Runs one protected docker command: the policy's memory defaults, pre-flight, then attempts of docker as a
/// supervised child, each classified from docker's own output and exit status, remedied and retried within the
/// policy's bounds, every attempt written to the journal. Returns docker's final exit status.
struct Supervisor {
    let docker: String
    let commandLine: DockerCommandLine
    let command: ProtectedCommand
    let options: SafebuildOptions
    let environment: [String: String]
    /// The invocation this one runs again (`safebuild retry`).
    var retryOf: String?

    init(
        docker: String, commandLine: DockerCommandLine, command: ProtectedCommand, options: SafebuildOptions,
        environment: [String: String], retryOf: String? = nil
    ) {
        self.docker = docker
        self.commandLine = commandLine
        self.command = command
        self.options = options
        self.environment = environment
        self.retryOf = retryOf
    }

    func run() throws(SafebuildError) -> Int32 {
        let signals = try SignalInbox()
        signal(SIGPIPE, SIG_IGN)
        Console.quiet = options.quiet

        let cwd = WorkingDirectory.current()
        let loaded = try PolicyLoader.load(options: options, environment: environment, currentDirectory: cwd)
        let policy = loaded.policy
        let hostMemory = PhysicalMemory.total() ?? 0
        let flags = SubcommandOptions(commandLine)
        let limits = policy.limits(for: matchContext(flags, cwd: cwd, hostMemory: hostMemory))
        let injection = MemoryInjection.apply(limits, to: commandLine, environment: environment)
        var childEnvironment = environment
        for (key, value) in injection.environment { childEnvironment[key] = value }
        let retry = RetrySettings(policy: policy, maxAttempts: options.maxAttempts)

        if options.dryRun {
            Console.say("dry run: policy \(loaded.file ?? PolicySource.builtInName)")
            for decision in limits.decisions { Console.say("dry run: policy: \(decision.sentence)") }
            for decision in injection.decisions { Console.say("dry run: \(decision)") }
            Console.say("dry run: at most \(retry.maxAttempts) attempt(s); nothing was run")
            let env = injection.environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            Output.write(1, ShellQuote.join(env + [docker] + injection.arguments) + "\n")
            return 0
        }

        var run = Run(
            supervisor: self, policy: policy, limits: limits,
            decisions: limits.decisions.map(\.sentence) + injection.decisions, policyFile: loaded.file, cwd: cwd, hostMemory: hostMemory, signals: signals,
            flags: flags, retry: retry, childEnvironment: childEnvironment, memory: injection.memory)
        run.limitEnforced = injection.enforced
        if let notice = injection.notice { Console.warn(notice) }
        return run.execute(arguments: injection.arguments)
    }

    /// What the policy's rules match on: the image (`run`) or the tags (`build`), context, Dockerfile and CI job.
    func matchContext(_ flags: SubcommandOptions, cwd: String, hostMemory: UInt64) -> MatchContext {
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

/// One supervised invocation: pre-flight, the attempts, the journal.
private struct Run {
    let supervisor: Supervisor
    let policy: Policy
    /// What the policy resolved for this command (the swap rule applies again when the limit is raised).
    let limits: ResolvedLimits
    /// The policy's and the injection's decisions, for the invocation record.
    let decisions: [String]
    let policyFile: String?
    /// safebuild's working directory (docker resolves the build context and a relative `-f` from it).
    let cwd: String
    let hostMemory: UInt64
    let signals: SignalInbox
    let flags: SubcommandOptions
    let retry: RetrySettings
    let childEnvironment: [String: String]
    /// The memory limit of the next attempt, in bytes (nil: none).
    var memory: UInt64?
    /// False when the builder ignores the memory limit (BuildKit): the invocation record says so.
    var limitEnforced = true

    let id = Journal.newID()
    let started = JournalTime.now()
    let journal: JournalWriter
    let journalPath: String
    let remedies: Remedies
    let lock: HostLock

    init(
        supervisor: Supervisor, policy: Policy, limits: ResolvedLimits, decisions: [String], policyFile: String?, cwd: String, hostMemory: UInt64, signals: SignalInbox,
        flags: SubcommandOptions, retry: RetrySettings, childEnvironment: [String: String], memory: UInt64?
    ) {
        self.supervisor = supervisor
        self.policy = policy
        self.limits = limits
        self.decisions = decisions
        self.policyFile = policyFile
        self.cwd = cwd
        self.hostMemory = hostMemory
        self.signals = signals
        self.flags = flags
        self.retry = retry
        self.childEnvironment = childEnvironment
        self.memory = memory
        journalPath = Journal.path(
            options: supervisor.options, policyPath: policy.journal.path.value, environment: supervisor.environment)
        journal = JournalWriter(
            path: journalPath, maxBytes: Int64(clamping: policy.journal.maxSize.value.bytes(hostMemory: hostMemory)),
            keep: policy.journal.keep.value)
        remedies = Remedies(
            context: LiveRemedyContext(
                docker: supervisor.docker, globalFlags: supervisor.commandLine.globalFlags, signals: signals),
            settings: RemedySettings(policy: policy, hostMemory: hostMemory))
        lock = HostLock(
            directory: HostLock.defaultDirectory(
                policy: policy.remedies.lockDirectory.value, environment: supervisor.environment),
            cooldown: policy.retry.cooldown.value)
    }

    var command: ProtectedCommand { supervisor.command }
    var docker: String { supervisor.docker }
    var globals: [String] { supervisor.commandLine.globalFlags }

    mutating func execute(arguments initial: [String]) -> Int32 {
        if case .build = command {
            let buildArguments = Array(supervisor.commandLine.arguments[supervisor.commandLine.commandArgumentsIndex...])
            for warning in BuildContext.report(buildArguments: buildArguments, workingDirectory: cwd, seconds: 0.5)?.warnings ?? [] {
                Console.warn(warning)
            }
        }

        // Pre-flight.
        var preflight: [JournalDecision] = []
        var preflightRemedies: [JournalRemedy] = []
        let thresholds = policy.thresholds(hostMemory: hostMemory)
        if !thresholds.isEmpty {
            do throws(SafebuildError) {
                let endpoint = try EngineEndpoint.resolve(
                    globalFlags: globals, environment: supervisor.environment, read: HostReader.read)
                let remedies = self.remedies
                let lock = self.lock
                let disabled = policy.disabledRemedies
                var reports: [RemedyReport] = []
                let outcome = Preflight.run(
                    thresholds: thresholds, waitTimeout: policy.preflight.waitTimeout.value,
                    engineTimeout: policy.preflight.engineTimeout.value, endpoint: endpoint, docker: docker,
                    environment: supervisor.environment, inbox: signals,
                    remediate: { decision in
                        reports += Self.apply(decision.threshold.remedies, remedies: remedies, lock: lock, disabled: disabled)
                    })
                preflightRemedies = reports.map(Self.journalRemedy)
                preflight = outcome.decisions.map(Self.journalDecision)
                for warning in outcome.warnings { Console.warn(warning.sentence) }
                if !reports.isEmpty, let line = ConsoleReport.remedies(preflightRemedies) {
                    Console.say("pre-flight: \(line)")
                }
                if let signal = outcome.interruptedBy {
                    return finish(.aborted, attempts: 0, status: 128 + signal, executed: initial, preflight: preflight)
                }
                if let error = outcome.error {
                    Console.error(error.message)
                    return finish(.refused, attempts: 0, status: error.status.rawValue, executed: initial, preflight: preflight)
                }
            } catch {
                Console.warn("pre-flight checks of the engine skipped: \(error.message)")
            }
        }

        // Attempts.
        var arguments = initial
        var attempt = 0
        var previousDelay = 0.0
        var random = SystemRandomNumberGenerator()
        let loopStart = Clock.now()
        var pending = preflightRemedies
        while true {
            attempt += 1
            let attemptStart = JournalTime.now()
            let result = attemptOnce(arguments)
            var record = AttemptRecord(
                invocation: id, attempt: attempt, maxAttempts: retry.maxAttempts, started: JournalTime.format(attemptStart),
                ended: JournalTime.format(JournalTime.now()), durationSeconds: JournalTime.now() - attemptStart,
                argv: Redaction.argv(arguments).argv, preflight: attempt == 1 ? preflight : [],
                exitStatus: result.status.code, signal: Self.signal(of: result.status),
                failureClass: result.classification.failureClass.rawValue, matchedLine: result.classification.line,
                remedies: pending, decision: "")
            pending = []

            if let signal = result.interruptedBy {
                record.decision = AttemptDecision.aborted(signal: signal).text
                journal.append(record)
                Console.say(ConsoleReport.attemptLine(record, decision: .aborted(signal: signal)))
                return finish(.aborted, attempts: attempt, status: result.status.code, executed: arguments, preflight: preflight)
            }
            if result.status == .exited(0) {
                record.failureClass = nil
                record.decision = AttemptDecision.succeeded.text
                journal.append(record)
                if attempt > 1 { Console.say(ConsoleReport.attemptLine(record, decision: .succeeded)) }
                return finish(
                    attempt > 1 ? .succeededAfterRetry : .succeeded, attempts: attempt, status: 0, executed: arguments,
                    preflight: preflight)
            }

            var decision = RetryDecision.decide(
                result.classification, attempt: attempt, elapsed: Clock.now() - loopStart, previousDelay: previousDelay,
                settings: retry, random: &random)
            var reports: [RemedyReport] = []
            var next = arguments
            if case .retry(_, let names) = decision {
                if names.contains(.raiseMemory) {
                    let (report, value) = Remedies.raiseMemory(
                        current: memory.map(Size.format), settings: remedies.settings)
                    reports.append(report)
                    if let value, let bytes = Size.bytes(value) {
                        // From the first attempt's command line, so that raises replace each other.
                        next = MemoryInjection.raising(
                            DockerCommandLine(initial), to: bytes, memorySwap: limits.memorySwap(forMemory: bytes))
                        memory = bytes
                    } else {
                        decision = .giveUp(why: "\(result.classification.failureClass.rawValue): \(report.skipped ?? "the memory limit cannot be raised"), so the same limit would be killed again")
                    }
                }
                if case .retry = decision {
                    reports += Self.apply(
                        names.filter { $0 != .raiseMemory }, remedies: remedies, lock: lock,
                        disabled: policy.disabledRemedies)
                }
            }
            record.remedies = reports.map(Self.journalRemedy)
            let reason = result.classification.failureClass == .notMemory ? nil : result.classification.reason

            switch decision {
            case .giveUp(let why):
                record.decision = AttemptDecision.giveUp(reason: why).text
                journal.append(record)
                if attempt > 1 || result.classification.failureClass != .notMemory {
                    Console.say(ConsoleReport.attemptLine(record, reason: reason, decision: .giveUp(reason: why)))
                }
                return finish(
                    .failed, attempts: attempt, status: result.status.code, executed: arguments, preflight: preflight,
                    failureClass: result.classification.failureClass)
            case .retry(let delay, _):
                record.decision = AttemptDecision.retry(afterSeconds: delay).text
                journal.append(record)
                Console.say(ConsoleReport.attemptLine(record, reason: reason, decision: .retry(afterSeconds: delay)))
                if let signal = reports.compactMap(\.interruptedBy).first ?? signals.sleep(seconds: delay) {
                    Console.say("interrupted by \(ConsoleReport.signalName(signal)) before attempt \(attempt + 1); not retrying")
                    return finish(
                        .aborted, attempts: attempt, status: 128 + signal, executed: arguments, preflight: preflight,
                        failureClass: result.classification.failureClass)
                }
                previousDelay = delay
                arguments = next
            }
        }
    }

    struct AttemptResult {
        var status: ExitStatus
        var interruptedBy: Int32?
        var classification: Classification
    }

    /// One attempt: docker as a child, its output classified as it streams. For `run`, safebuild follows the
    /// container through a `--cidfile`, reads its state (OOMKilled) after it ends, and removes it itself where the
    /// user asked for `--rm` (docker's own `--rm` would remove it before its state could be read) and where a
    /// failed attempt is to be retried under the same `--name`.
    func attemptOnce(_ arguments: [String]) -> AttemptResult {
        var argv = arguments
        var cidFile: String?
        var removeAfter = false
        if command == .run {
            let line = DockerCommandLine(arguments)
            let options = SubcommandOptions(line)
            if let given = options.value("--cidfile") {
                cidFile = given
                unlink(given)  // docker refuses to start when the file exists: it is the failed attempt's
            } else {
                let path = Self.temporaryPath("cid")
                argv.insert(contentsOf: ["--cidfile", path], at: line.commandArgumentsIndex)
                cidFile = path
            }
            if !options.has("--detach") {
                let offset = argv.count - arguments.count  // the --cidfile inserted before the options
                for use in options.uses.reversed() where use.name == "--rm" && (use.value == nil || use.value == "true") {
                    argv.removeSubrange((use.range.lowerBound + offset)..<(use.range.upperBound + offset))
                    removeAfter = true
                }
            }
        }

        var child = ChildProcess(path: docker, arguments: argv, environment: childEnvironment)
        child.stopGrace = policy.docker.stopGrace.value
        if let cidFile {
            let docker = self.docker, globals = self.globals
            child.onStop = {
                guard let id = Self.readContainerID(cidFile) else { return }
                _ = try? Command(docker, globals + ["kill", id], timeout: 5).run()
            }
        }
        var classifier = Classifier(extra: policy.failureSignatures)
        let attemptStart = Clock.wall()
        let outcome: ChildProcess.Outcome
        do throws(SafebuildError) {
            outcome = try child.run(signals: signals) { stream, line in classifier.observe(line: line, stream: stream) }
        } catch {
            Console.error(error.message)
            return AttemptResult(
                status: .exited(error.status.rawValue), interruptedBy: nil,
                classification: Classification(
                    failureClass: .notMemory, line: nil, reason: error.message, retryable: false, kernelEvidence: nil))
        }

        var state: ContainerState?
        let containerID = cidFile.flatMap(Self.readContainerID)
        if let containerID, outcome.status != .exited(0) || removeAfter {
            let docker = self.docker, globals = self.globals
            // A 137 may be an OOM kill whose flag the daemon sets a moment later; not when safebuild was told to stop
            // and killed the container itself (that wait would eat into Jenkins' soft-kill time).
            state = ContainerState.settled(
                settle: outcome.status.code == 137 && outcome.interruptedBy == nil ? 2 : 0,
                inspect: {
                    guard let r = try? Command(docker, globals + ["inspect", containerID], timeout: 10).run(), r.succeeded
                    else { return nil }
                    return r.stdout
                },
                sleep: { _ = signals.sleep(seconds: $0) })
            // containerd can lose a container's OOM event (its cgroup goes before the event is read): docker then
            // reports OOMKilled=false for good. The kernel's own `oom-kill:` record names the container's cgroup.
            if var s = state, s.exitCode == 137, !s.oomKilled,
                Self.kernelReportsOOMKill(of: containerID, since: attemptStart)
            {
                s.oomKilled = true
                state = s
            }
        }
        if outcome.status != .exited(0) {
            let boot = HostReader.bootTime()
            for record in (try? HostReader().kernelRecords(matching: ["page allocation failure"])) ?? []
            where boot + record.sinceBoot >= attemptStart {
                var text = String(record.message)
                text.withUTF8 { classifier.observeKernel(line: UnsafeRawBufferPointer($0)) }
            }
        }
        let classification = classifier.verdict(exitStatus: outcome.status, command: command, containerState: state)
        // The container this attempt created goes when the user asked for --rm, and before a retry would reuse its
        // name; never another build's container: it is removed by the id docker wrote for this attempt.
        if let containerID, removeAfter || (outcome.status != .exited(0) && flags.value("--name") != nil && classification.retryable) {
            _ = try? Command(docker, globals + ["rm", "-f", "-v", containerID], timeout: 30).run()
        }
        if let cidFile, flags.value("--cidfile") == nil { unlink(cidFile) }
        return AttemptResult(status: outcome.status, interruptedBy: outcome.interruptedBy, classification: classification)
    }

    /// Runs remedies in order under the host-wide lock and cooldown (not the per-build ones), skipping those the
    /// policy turned off; stops after a remedy whose wait a signal ended.
    static func apply(
        _ names: [RemedyName], remedies: Remedies, lock: HostLock, disabled: [RemedyName: String]
    ) -> [RemedyReport] {
        var reports: [RemedyReport] = []
        for name in names {
            if let why = disabled[name] {
                reports.append(.skip(name, why))
                continue
            }
            let report = remedies.run([name], lock: lock)
            reports += report
            if report.contains(where: { $0.interruptedBy != nil }) { break }
        }
        return reports
    }

    func finish(
        _ outcome: JournalOutcome, attempts: Int, status: Int32, executed: [String], preflight: [JournalDecision],
        failureClass: FailureClass? = nil
    ) -> Int32 {
        let context = Journal.Context.current(environment: supervisor.environment)
        let original = Redaction.argv(supervisor.commandLine.arguments)
        let run = Redaction.argv(executed)
        let now = JournalTime.now()
        let image = command == .run ? flags.positional.map { supervisor.commandLine.arguments[$0] } : nil
        journal.append(
            InvocationRecord(
                id: id, retryOf: supervisor.retryOf, started: JournalTime.format(started), ended: JournalTime.format(now),
                durationSeconds: now - started, host: context.host, user: context.user, uid: context.uid,
                cwd: context.cwd, command: command.name, argv: original.argv, executedArgv: run.argv,
                redacted: original.redacted || run.redacted, policySource: policyFile ?? PolicySource.builtInName,
                image: image, tags: Journal.tags(in: supervisor.commandLine), outcome: outcome, attempts: attempts,
                exitStatus: status, failureClass: failureClass?.rawValue, ci: context.ci,
                preflight: preflight.isEmpty ? nil : preflight, decisions: decisions,
                memoryLimitEnforced: limitEnforced ? nil : false))
        if let metrics = policy.journal.metricsPath.value, let problem = Metrics.write(journalPath: journalPath, to: metrics) {
            Console.warn("cannot write metrics \(metrics): \(problem)")
        }
        return status
    }

    static func journalRemedy(_ report: RemedyReport) -> JournalRemedy {
        JournalRemedy(
            name: report.name.rawValue, ran: report.ran, skippedReason: report.skipped, before: report.before,
            after: report.after, reclaimedBytes: report.after["reclaimed_bytes"], seconds: report.duration)
    }

    static func journalDecision(_ decision: Preflight.Decision) -> JournalDecision {
        JournalDecision(
            check: decision.threshold.key, measured: decision.measured, limit: decision.threshold.limit, unit: decision.threshold.unit,
            action: decision.verdict.rawValue, message: decision.sentence)
    }

    static func signal(of status: ExitStatus) -> Int32? {
        if case .signaled(let s) = status { return s }
        return nil
    }

    /// Whether the kernel logged an OOM kill in the memory cgroup of container `id` (`oom-kill:… task_memcg=…ID…`)
    /// after `since` (wall-clock seconds).
    static func kernelReportsOOMKill(of id: String, since: Double) -> Bool {
        let kills = (try? HostReader().oomKills(since: since - 1)) ?? []
        return kills.contains { kill in kill.containerID.map { id.hasPrefix($0) || $0.hasPrefix(id) } ?? false }
    }

    static func readContainerID(_ path: String) -> String? {
        let id = (HostReader.read(path) ?? "").trimmingWhitespace()
        return id.isEmpty ? nil : id
    }

    static func temporaryPath(_ kind: String) -> String {
        let dir = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        var random: UInt64 = 0
        arc4random_buf(&random, 8)
        return "\(dir)/safebuild-\(getpid())-\(String(random, radix: 36)).\(kind)"
    }
}
