/// Runs a plan: pre-flight, then attempts of docker, each classified, remedied and retried within the policy's
/// bounds, every attempt and the invocation written to the journal. Every side effect goes through `effects`.
/// Returns the exit status: docker's, 128+N when signal N stopped safebuild, or pre-flight's refusal.
package struct AttemptLoop {
    package let plan: SupervisionPlan
    package let effects: any SupervisionEffects
    /// The jitter of the backoff.
    package var random: any RandomNumberGenerator
    /// The invocation's id in the journal.
    package let id: String
    /// When the invocation started (wall clock).
    let started: Double

    package init(
        plan: SupervisionPlan, effects: any SupervisionEffects,
        random: any RandomNumberGenerator = SystemRandomNumberGenerator()
    ) {
        self.plan = plan
        self.effects = effects
        self.random = random
        started = effects.wallClock()
        id = Journal.newID(now: started)
    }

    /// How one attempt ended, classified, and whether it could be run again unchanged.
    struct AttemptResult {
        var status: ExitStatus
        var interruptedBy: Int32?
        var classification: Classification
        var replay: ReplayVerdict
        /// What its containers used; for an OOM kill, which limit killed it.
        var memory: AttemptMemory?
        /// docker's arguments exactly as docker got them (the `--cidfile` safebuild adds included).
        var argv: [String] = []
        /// What the host showed after a failure.
        var evidence: AttemptEvidence?
        /// The host's evidence on the classification (`EvidenceJudgement`), for a failed attempt.
        var verdict: EvidenceJudgement.Verdict?
        /// A classic build's step containers (a failed step's is left behind).
        var buildContainers: [String] = []
    }

    package mutating func run() -> Int32 {
        if let notice = plan.notice { effects.console(.warn(notice)) }
        if case .build = plan.command {
            for warning in effects.buildContextWarnings() { effects.console(.warn(warning)) }
        }

        let initial = plan.arguments
        let preflight = runPreflight()
        if let stop = preflight.stop {
            return finish(
                stop.outcome, attempts: 0, status: stop.status, executed: initial, preflight: preflight.decisions,
                interrupted: preflight.interruption)
        }

        var arguments = initial
        var memory = plan.memory
        var attempt = 0
        var previousDelay = 0.0
        let loopStart = effects.now()
        var pending = preflight.remedies
        var previousVerdict: (verdict: EvidenceJudgement.Verdict, line: String?)?
        let admits = plan.admission.enabled
        let learned = admits && plan.admission.reserve == .learned ? effects.learnedReservation() : nil
        var admission: JournalAdmission?
        if admits {
            let result = effects.admit(admissionRequest(memory: memory, learned: learned, retry: false))
            if let stop = admissionStop(result, attempts: 0, executed: initial, preflight: preflight.decisions) {
                return stop
            }
            admission = result.record
        }
        // A trace before docker starts: completed by the final record, or read as `killed` when safebuild dies first.
        _ = record(.running, attempts: 0, status: 0, executed: initial, preflight: preflight.decisions)
        while true {
            attempt += 1
            let attemptStart = effects.wallClock()
            var result = attemptOnce(arguments, replay: attempt > 1)
            if result.interruptedBy == nil, let evidence = result.evidence {
                let verdict = EvidenceJudgement.judge(
                    result.classification, evidence: evidence, previous: previousVerdict,
                    policy: plan.retry.healthyHostENOMEM)
                previousVerdict = (verdict, result.classification.line)
                result.classification = verdict.classification
                result.verdict = verdict
            }
            let ended = effects.wallClock()
            var record = AttemptRecord(
                invocation: id, attempt: attempt, maxAttempts: plan.retry.maxAttempts,
                started: JournalTime.format(attemptStart), ended: JournalTime.format(ended),
                durationSeconds: ended - attemptStart, argv: Redaction.argv(result.argv, keepValues: plan.keepValues).argv,
                preflight: attempt == 1 ? preflight.decisions : [], exitStatus: result.status.code,
                signal: Self.signal(of: result.status), failureClass: result.classification.failureClass.rawValue,
                matchedLine: result.classification.line, remedies: pending, decision: "", replay: result.replay.journal)
            record.admission = admission
            record.memory = result.memory
            record.evidence = result.verdict?.evidence
            pending = []

            if let signal = result.interruptedBy {
                releaseHeldOutput()
                record.decision = AttemptDecision.aborted(signal: signal).text
                effects.append(record.textRedacted)
                effects.console(.say(ConsoleReport.attemptLine(record, decision: .aborted(signal: signal))))
                return finish(
                    .aborted, attempts: attempt, status: result.status.code, executed: result.argv,
                    preflight: preflight.decisions)
            }
            if result.status == .exited(0) {
                releaseHeldOutput()
                record.failureClass = nil
                record.decision = AttemptDecision.succeeded.text
                effects.append(record.textRedacted)
                if attempt > 1 { effects.console(.say(ConsoleReport.attemptLine(record, decision: .succeeded))) }
                return finish(
                    attempt > 1 ? .succeededAfterRetry : .succeeded, attempts: attempt, status: 0, executed: result.argv,
                    preflight: preflight.decisions)
            }

            let failureClass = result.classification.failureClass
            let step = nextStep(
                after: result, attempt: attempt, elapsed: effects.now() - loopStart, previousDelay: previousDelay,
                arguments: arguments, memory: memory)
            // Pre-flight's remedies stay on the first attempt's record, before those run after it failed.
            record.remedies += step.reports.map(Self.journalRemedy)
            var reason = failureClass == .notMemory ? nil : result.classification.reason
            if case .withoutRemedies(let why) = result.verdict?.retry, case .retry = step.decision {
                reason = (reason.map { $0 + "; " } ?? "") + why
            }

            switch step.decision {
            case .giveUp(let why):
                releaseHeldOutput()
                record.decision = AttemptDecision.giveUp(reason: why).text
                effects.append(record.textRedacted)
                if attempt > 1 || failureClass != .notMemory {
                    effects.console(
                        .say(ConsoleReport.attemptLine(record, reason: reason, decision: .giveUp(reason: why))))
                }
                return finish(
                    .failed, attempts: attempt, status: result.status.code, executed: result.argv,
                    preflight: preflight.decisions, failureClass: failureClass)
            case .retry(let delay, _):
                // A remedy's wait (the host-wide lock, wait_for_memory) that a signal ended: no retry after all.
                if let interrupted = step.reports.first(where: { $0.interruptedBy != nil }),
                    let signal = interrupted.interruptedBy
                {
                    releaseHeldOutput()
                    record.decision = AttemptDecision.aborted(signal: signal).text
                    effects.append(record.textRedacted)
                    let sentence = Self.interruption(of: interrupted)
                    let why = reason ?? ConsoleReport.failure(record)
                    effects.console(
                        .say("attempt \(attempt)/\(plan.retry.maxAttempts) failed: \(why); \(sentence); not retrying"))
                    return finish(
                        .aborted, attempts: attempt, status: 128 + signal, executed: result.argv,
                        preflight: preflight.decisions, failureClass: failureClass, interrupted: sentence)
                }
                record.decision = AttemptDecision.retry(afterSeconds: delay).text
                effects.append(record.textRedacted)
                effects.console(
                    .say(ConsoleReport.attemptLine(record, reason: reason, decision: .retry(afterSeconds: delay))))
                if let signal = effects.sleep(seconds: delay) {
                    releaseHeldOutput()
                    let name = ConsoleReport.signalName(signal)
                    effects.console(.say("interrupted by \(name) before attempt \(attempt + 1); not retrying"))
                    return finish(
                        .aborted, attempts: attempt, status: 128 + signal, executed: result.argv,
                        preflight: preflight.decisions, failureClass: failureClass,
                        interrupted: "interrupted by \(name) while waiting for the backoff of \(ConsoleReport.seconds(delay)) before attempt \(attempt + 1)")
                }
                previousDelay = delay
                let raised = step.memory != memory
                let failedArguments = result.argv
                arguments = step.arguments
                memory = step.memory
                if admits {
                    let request = admissionRequest(memory: memory, learned: raised ? nil : learned, retry: true)
                    let result = effects.admit(request)
                    if let stop = admissionStop(
                        result, attempts: attempt, executed: failedArguments, preflight: preflight.decisions,
                        failed: (status: record.exitStatus ?? 1, failureClass: failureClass))
                    {
                        // No retry after all: the failed attempt ends the invocation, and shows what it held back.
                        releaseHeldOutput()
                        return stop
                    }
                    admission = result.record
                }
                // The retry starts (admitted): the failed attempt's held stdout is dropped; where its stdout was
                // shown as it came, a separator marks where the retry's begins.
                if case .held = plan.streams.stdout { effects.discardHeldOutput() }
                if plan.streams.stdoutIsLive {
                    effects.console(.say("---- attempt \(attempt + 1)/\(plan.retry.maxAttempts) ----"))
                }
            }
        }
    }

    // MARK: Memory admission

    /// What an attempt reserves: its memory limit (the user's or the policy's, as raised), the learned figure
    /// where the policy says so (never above the limit: the container cannot use more), or the policy's default for
    /// a command without a limit.
    func admissionRequest(
        memory: UInt64?, learned: (bytes: UInt64, sentence: String)?, retry: Bool
    ) -> AdmissionRequest {
        if let learned {
            if let memory, memory < learned.bytes {
                return AdmissionRequest(
                    bytes: memory, source: "its memory limit \(Size.format(memory)), below what was learned", retry: retry)
            }
            return AdmissionRequest(bytes: learned.bytes, source: learned.sentence, retry: retry)
        }
        if let memory {
            return AdmissionRequest(bytes: memory, source: "its memory limit \(Size.format(memory))", retry: retry)
        }
        let bytes = plan.admission.defaultRequest
        return AdmissionRequest(
            bytes: bytes, source: "admission.default_request \(Size.format(bytes)), as it has no memory limit", retry: retry)
    }

    /// The end of the invocation when admission does not let docker start: refused (exit 75), or a termination
    /// signal during the wait (128+N). For a retry's admission, `failed` is the attempt before: its failure stands.
    func admissionStop(
        _ result: AdmissionResult, attempts: Int, executed: [String], preflight: [JournalDecision],
        failed: (status: Int32, failureClass: FailureClass)? = nil
    ) -> Int32? {
        let record = result.record
        if let signal = result.interruptedBy {
            let sentence = record.message ?? "interrupted by \(ConsoleReport.signalName(signal)) while waiting for memory admission"
            effects.console(.say("\(sentence); docker was not started"))
            return finish(
                .aborted, attempts: attempts, status: 128 + signal, executed: executed, preflight: preflight,
                failureClass: failed?.failureClass, interrupted: sentence)
        }
        guard !record.outcome.proceeds else { return nil }
        let message = record.message ?? record.outcome.rawValue
        effects.console(.error("memory admission refused to start docker: \(message)"))
        let decision = JournalDecision(
            check: "admission", measured: record.freeBytes.map { Double($0) }, limit: record.requestBytes.map { Double($0) },
            unit: "bytes", action: "refuse", message: message)
        if let failed {
            return finish(
                .failed, attempts: attempts, status: failed.status, executed: executed, preflight: preflight + [decision],
                failureClass: failed.failureClass)
        }
        return finish(
            .refused, attempts: attempts, status: SafebuildError.ExitCode.preflightRefused.rawValue, executed: executed,
            preflight: preflight + [decision])
    }

    // MARK: Pre-flight

    /// What pre-flight decided, the remedies it ran (recorded with the first attempt), and whether to stop.
    struct PreflightResult {
        var decisions: [JournalDecision] = []
        var remedies: [JournalRemedy] = []
        var stop: (outcome: JournalOutcome, status: Int32)?
        /// What a wait that a signal ended was for (a pre-flight `wait`, or a remedy's).
        var interruption: String?
    }

    func runPreflight() -> PreflightResult {
        guard !plan.thresholds.isEmpty else { return PreflightResult() }
        var reports: [RemedyReport] = []
        let outcome: Preflight.Outcome
        do throws(SafebuildError) {
            outcome = try effects.preflight { decision in reports += apply(decision.threshold.remedies) }
        } catch {
            effects.console(.warn("pre-flight checks of the engine skipped: \(error.message)"))
            return PreflightResult()
        }
        var result = PreflightResult(
            decisions: outcome.decisions.map(Self.journalDecision),
            remedies: reports.map { report in
                var remedy = Self.journalRemedy(report)
                remedy.phase = JournalRemedy.preflightPhase
                return remedy
            })
        for warning in outcome.warnings { effects.console(.warn(warning.sentence)) }
        if !reports.isEmpty, let line = ConsoleReport.remedies(result.remedies) {
            effects.console(.say("pre-flight: \(line)"))
        }
        // A wait a signal ended: a remedy's (its sentence), else pre-flight's own `wait`.
        let remedy = reports.first { $0.interruptedBy != nil }
        if let signal = remedy?.interruptedBy ?? outcome.interruptedBy {
            let sentence = remedy.map { "pre-flight: " + Self.interruption(of: $0) } ?? outcome.interruption
                ?? "interrupted by \(ConsoleReport.signalName(signal)) during pre-flight"
            effects.console(.say("\(sentence); docker was not started"))
            result.interruption = sentence
            result.stop = (.aborted, 128 + signal)
        } else if let error = outcome.error {
            effects.console(.error(error.message))
            result.stop = (.refused, error.status.rawValue)
        }
        return result
    }

    // MARK: One attempt

    /// One attempt: docker run to its end with its output classified as it streams; for `run`, a failed attempt's
    /// container state read after it ends, and before a retry that takes its `--name` again, the container gone:
    /// waited for where docker's own `--rm` removes it, else removed (never another build's container: it goes by
    /// the id docker wrote for this attempt).
    func attemptOnce(_ arguments: [String], replay: Bool) -> AttemptResult {
        var attempt = AttemptCommand.prepare(
            arguments, command: plan.command, temporaryCIDFile: effects.temporaryPath("cid"))
        attempt.streams = plan.streams
        attempt.replay = replay
        var classifier = Classifier(command: plan.command, extra: plan.signatures)
        let started: Result<DockerExit, SafebuildError>
        do throws(SafebuildError) {
            started = .success(try effects.runDocker(attempt, classifier: &classifier))
        } catch {
            started = .failure(error)
        }
        // The memory goes back as soon as docker has ended (its container has stopped): reading the container's
        // state and removing it hold none.
        if plan.admission.enabled { effects.releaseReservation() }
        let exit: DockerExit
        switch started {
        case .success(let ended):
            exit = ended
        case .failure(let error):
            effects.console(.error(error.message))
            return AttemptResult(
                status: .exited(error.status.rawValue), interruptedBy: nil,
                classification: Classification(
                    failureClass: .notMemory, line: nil, reason: error.message, retryable: false, kernelEvidence: nil),
                replay: ReplayVerdict(plan: plan.streams, report: StreamReport()), argv: attempt.arguments)
        }
        let failed = exit.status != .exited(0)
        var evidence = AttemptEvidence()

        var state: ContainerState?
        if let id = exit.containerID, failed {
            // A 137 may be an OOM kill whose flag the daemon sets a moment later: worth a bounded wait only while
            // nothing has answered yet. Not when safebuild was told to stop and killed the container itself (that
            // wait would eat into Jenkins' soft-kill time), nor when the container's own cgroup counted the kill.
            let counted = (exit.memory?.oomKills ?? 0) > 0
            let settle = exit.status.code == 137 && exit.interruptedBy == nil && !counted ? 2.0 : 0
            state = effects.containerState(id, settle: settle, since: exit.startedAt)
        }
        if failed {
            evidence = effects.evidence(since: exit.startedAt)
            for line in evidence.kernelLines {
                var text = line
                text.withUTF8 { classifier.observeKernel(line: UnsafeRawBufferPointer($0)) }
            }
        }
        var memory = exit.memory
        let host = failed ? Self.hostEvidence(memory, exit: exit, command: plan.command) : []
        var classification = classifier.verdict(exitStatus: exit.status, containerState: state, host: host)
        if failed, var m = memory {
            Self.diagnose(&classification, &m, kernel: evidence.oomKills)
            memory = m
        }
        if let id = exit.containerID, failed && plan.namesContainer && classification.retryable,
            !attempt.dockerRemovesContainer || !effects.waitForRemoval(id)
        {
            effects.removeContainer(id)
        }
        return AttemptResult(
            status: exit.status, interruptedBy: exit.interruptedBy, classification: classification,
            replay: ReplayVerdict(plan: plan.streams, report: exit.streams), memory: memory, argv: attempt.arguments,
            evidence: failed ? evidence : nil, buildContainers: exit.buildContainers)
    }

    /// What the attempt's own memory cgroups recorded, as the classifier's strongest evidence
    /// (`EvidenceStrength.host`): a 137 whose own cgroup counted an OOM kill is one, even where docker did not report
    /// it (a classic build's step, a run whose OOM event docker had not handled yet).
    static func hostEvidence(_ memory: AttemptMemory?, exit: DockerExit, command: ProtectedCommand) -> [Evidence] {
        guard exit.status == .exited(137), exit.interruptedBy == nil, let kills = memory?.oomKills, kills > 0 else {
            return []
        }
        return [
            Evidence(
                .host, command == .run ? .oomContainer : .oomBuildStep,
                reason: "killed by the OOM killer: its own memory cgroup counted \(kills) OOM kill(s)")
        ]
    }

    /// An OOM-killed attempt: which limit killed it (`OOMDiagnosis`), said in the classification's reason.
    static func diagnose(
        _ classification: inout Classification, _ memory: inout AttemptMemory, kernel: [OOMDiagnosis.KernelKill]
    ) {
        let oomClasses: [FailureClass] = [.oomContainer, .oomBuildStep]
        guard oomClasses.contains(classification.failureClass),
            let (cause, sentence) = OOMDiagnosis.diagnose(memory, kernel: kernel, pool: memory.pool ?? "of the engine")
        else { return }
        memory.oomCause = cause
        memory.diagnosis = sentence
        classification.reason += "; " + sentence
        if cause == .poolPressure { classification.reason += "; the limit is not raised, the retry waits for memory" }
    }

    /// The attempt that ends the invocation shows what it held back of docker's stdout.
    func releaseHeldOutput() {
        if case .held = plan.streams.stdout { effects.releaseHeldOutput() }
    }

    // MARK: After a failed attempt

    /// What follows a failed attempt: the retry decision, the remedies run for it, and the next attempt's arguments
    /// and memory limit.
    struct NextStep {
        var decision: RetryDecision
        var reports: [RemedyReport] = []
        var arguments: [String]
        var memory: UInt64?
    }

    /// Decides on a retry; for one, applies the ladder's step: raise_memory first (from the first attempt's
    /// arguments; a limit that cannot be raised turns the retry into giving up, since the same limit would be killed
    /// again), then the other remedies.
    mutating func nextStep(
        after result: AttemptResult, attempt: Int, elapsed: Double, previousDelay: Double, arguments: [String],
        memory: UInt64?
    ) -> NextStep {
        // Killed by the shared pool, not its own limit: a higher limit would not help, so the ladder's
        // raise_memory is left out, and the next attempt waits for memory admission instead.
        let pool = result.memory?.oomCause == .poolPressure
        var settings = pool ? Self.withoutRaisingMemory(plan.retry, for: result.classification.failureClass) : plan.retry
        switch result.verdict?.retry {
        case .giveUp(let why):
            return NextStep(decision: .giveUp(why: why), arguments: arguments, memory: memory)
        case .withoutRemedies:
            // A ladder that retries at all retries without its remedies; an empty one still does not retry.
            let c = result.classification.failureClass
            if !settings.ladder(for: c).steps.isEmpty { settings.ladders[c] = Ladder([[]]) }
        case .ladder, nil:
            break
        }
        let decision = RetryDecision.decide(
            result.classification, attempt: attempt, elapsed: elapsed, previousDelay: previousDelay,
            unreplayable: result.replay.because, settings: settings, random: &random)
        var step = NextStep(decision: decision, arguments: arguments, memory: memory)
        guard case .retry(_, let names) = decision else { return step }
        if pool, plan.retry.ladder(for: result.classification.failureClass).remedies(forRetry: attempt).contains(.raiseMemory) {
            step.reports.append(
                .skip(.raiseMemory, "killed by pressure on the shared pool, below its own limit: the limit stays"))
        }
        if names.contains(.raiseMemory) {
            let (report, value) = Remedies.raiseMemory(current: memory.map(Size.format), settings: plan.remedies)
            step.reports.append(report)
            guard let value, let bytes = Size.bytes(value) else {
                let failureClass = result.classification.failureClass.rawValue
                step.decision = .giveUp(
                    why: "\(failureClass): \(report.skipped ?? "the memory limit cannot be raised"), so the same limit would be killed again")
                return step
            }
            step.arguments = AttemptCommand.raisingMemory(
                of: plan.arguments, to: bytes, memorySwap: plan.limits.memorySwap(forMemory: bytes))
            step.memory = bytes
        }
        // What the failed build left behind is this build's own: its step container holds what the step wrote (on a
        // full disk, much of what the retry needs). Removed before the remedies measure the disk.
        if !result.buildContainers.isEmpty { effects.removeStoppedContainers(result.buildContainers) }
        step.reports += apply(names.filter { $0 != .raiseMemory })
        return step
    }

    /// `settings` with raise_memory taken out of `failureClass`'s ladder (a step that held only it retries without
    /// remedies).
    static func withoutRaisingMemory(_ settings: RetrySettings, for failureClass: FailureClass) -> RetrySettings {
        var out = settings
        out.ladders[failureClass] = Ladder(settings.ladder(for: failureClass).steps.map { $0.filter { $0 != .raiseMemory } })
        return out
    }

    // MARK: Remedies

    /// Runs remedies in order, skipping those the policy turned off; stops after a remedy whose wait a signal
    /// ended.
    func apply(_ names: [RemedyName]) -> [RemedyReport] {
        var reports: [RemedyReport] = []
        for name in names {
            if let why = plan.disabledRemedies[name] {
                reports.append(.skip(name, why))
                continue
            }
            let report = effects.runRemedy(name)
            reports.append(report)
            if report.interruptedBy != nil { break }
        }
        return reports
    }

    // MARK: The invocation record

    func finish(
        _ outcome: JournalOutcome, attempts: Int, status: Int32, executed: [String], preflight: [JournalDecision],
        failureClass: FailureClass? = nil, interrupted: String? = nil
    ) -> Int32 {
        if plan.admission.enabled { effects.withdrawReservation() }
        return record(
            outcome, attempts: attempts, status: status, executed: executed, preflight: preflight,
            failureClass: failureClass, interrupted: interrupted)
    }

    /// Appends the invocation record (`running` at the start, then the final one, with the same id).
    func record(
        _ outcome: JournalOutcome, attempts: Int, status: Int32, executed: [String], preflight: [JournalDecision],
        failureClass: FailureClass? = nil, interrupted: String? = nil
    ) -> Int32 {
        let context = effects.journalContext()
        let original = Redaction.argv(plan.commandLine.arguments, keepValues: plan.keepValues)
        let run = Redaction.argv(executed, keepValues: plan.keepValues)
        let now = effects.wallClock()
        var invocation = InvocationRecord(
                id: id, retryOf: plan.retryOf, started: JournalTime.format(started), ended: JournalTime.format(now),
                durationSeconds: now - started, host: context.host, user: context.user, uid: context.uid,
                cwd: context.cwd, command: plan.command.name, argv: original.argv, executedArgv: run.argv,
                redacted: original.redacted || run.redacted, policySource: plan.policySource, image: plan.image,
                tags: plan.tags, outcome: outcome, attempts: attempts, exitStatus: status,
                failureClass: failureClass?.rawValue, ci: context.ci, preflight: preflight.isEmpty ? nil : preflight,
                decisions: plan.decisions, memoryLimitEnforced: plan.limitEnforced ? nil : false)
        invocation.interrupted = interrupted
        effects.append(invocation.textRedacted)
        return status
    }

    /// What a remedy whose wait a signal ended was waiting for: its own sentence (`interrupted by SIGTERM while
    /// waiting for …`).
    static func interruption(of report: RemedyReport) -> String {
        let signal = ConsoleReport.signalName(report.interruptedBy ?? 0)
        return (report.ran ? report.detail : report.skipped)
            ?? "interrupted by \(signal) while waiting in \(report.name.rawValue)"
    }

    static func journalRemedy(_ report: RemedyReport) -> JournalRemedy {
        JournalRemedy(
            name: report.name.rawValue, ran: report.ran, skippedReason: report.skipped, before: report.before,
            after: report.after, reclaimedBytes: report.after["reclaimed_bytes"], seconds: report.duration,
            error: report.ran && report.interruptedBy != nil ? report.detail : nil, via: report.via,
            because: report.because, steps: report.steps)
    }

    static func journalDecision(_ decision: Preflight.Decision) -> JournalDecision {
        JournalDecision(
            check: decision.threshold.key, measured: decision.measured, limit: decision.threshold.limit,
            unit: decision.threshold.unit, action: decision.verdict.rawValue, message: decision.sentence,
            ageSeconds: decision.ageSeconds.map { ($0 * 10).rounded() / 10 })
    }

    static func signal(of status: ExitStatus) -> Int32? {
        if case .signaled(let s) = status { return s }
        return nil
    }
}
