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

    /// How one attempt ended, classified.
    struct AttemptResult {
        var status: ExitStatus
        var interruptedBy: Int32?
        var classification: Classification
    }

    package mutating func run() -> Int32 {
        if let notice = plan.notice { effects.console(.warn(notice)) }
        if case .build = plan.command {
            for warning in effects.buildContextWarnings() { effects.console(.warn(warning)) }
        }

        let initial = plan.arguments
        let preflight = runPreflight()
        if let stop = preflight.stop {
            return finish(stop.outcome, attempts: 0, status: stop.status, executed: initial, preflight: preflight.decisions)
        }

        var arguments = initial
        var memory = plan.memory
        var attempt = 0
        var previousDelay = 0.0
        let loopStart = effects.now()
        var pending = preflight.remedies
        while true {
            attempt += 1
            let attemptStart = effects.wallClock()
            let result = attemptOnce(arguments)
            let ended = effects.wallClock()
            var record = AttemptRecord(
                invocation: id, attempt: attempt, maxAttempts: plan.retry.maxAttempts,
                started: JournalTime.format(attemptStart), ended: JournalTime.format(ended),
                durationSeconds: ended - attemptStart, argv: Redaction.argv(arguments).argv,
                preflight: attempt == 1 ? preflight.decisions : [], exitStatus: result.status.code,
                signal: Self.signal(of: result.status), failureClass: result.classification.failureClass.rawValue,
                matchedLine: result.classification.line, remedies: pending, decision: "")
            pending = []

            if let signal = result.interruptedBy {
                record.decision = AttemptDecision.aborted(signal: signal).text
                effects.append(record)
                effects.console(.say(ConsoleReport.attemptLine(record, decision: .aborted(signal: signal))))
                return finish(
                    .aborted, attempts: attempt, status: result.status.code, executed: arguments,
                    preflight: preflight.decisions)
            }
            if result.status == .exited(0) {
                record.failureClass = nil
                record.decision = AttemptDecision.succeeded.text
                effects.append(record)
                if attempt > 1 { effects.console(.say(ConsoleReport.attemptLine(record, decision: .succeeded))) }
                return finish(
                    attempt > 1 ? .succeededAfterRetry : .succeeded, attempts: attempt, status: 0, executed: arguments,
                    preflight: preflight.decisions)
            }

            let failureClass = result.classification.failureClass
            let step = nextStep(
                after: result, attempt: attempt, elapsed: effects.now() - loopStart, previousDelay: previousDelay,
                arguments: arguments, memory: memory)
            record.remedies = step.reports.map(Self.journalRemedy)
            let reason = failureClass == .notMemory ? nil : result.classification.reason

            switch step.decision {
            case .giveUp(let why):
                record.decision = AttemptDecision.giveUp(reason: why).text
                effects.append(record)
                if attempt > 1 || failureClass != .notMemory {
                    effects.console(
                        .say(ConsoleReport.attemptLine(record, reason: reason, decision: .giveUp(reason: why))))
                }
                return finish(
                    .failed, attempts: attempt, status: result.status.code, executed: arguments,
                    preflight: preflight.decisions, failureClass: failureClass)
            case .retry(let delay, _):
                record.decision = AttemptDecision.retry(afterSeconds: delay).text
                effects.append(record)
                effects.console(
                    .say(ConsoleReport.attemptLine(record, reason: reason, decision: .retry(afterSeconds: delay))))
                if let signal = step.reports.compactMap(\.interruptedBy).first ?? effects.sleep(seconds: delay) {
                    effects.console(
                        .say("interrupted by \(ConsoleReport.signalName(signal)) before attempt \(attempt + 1); not retrying"))
                    return finish(
                        .aborted, attempts: attempt, status: 128 + signal, executed: arguments,
                        preflight: preflight.decisions, failureClass: failureClass)
                }
                previousDelay = delay
                arguments = step.arguments
                memory = step.memory
            }
        }
    }

    // MARK: Pre-flight

    /// What pre-flight decided, the remedies it ran (recorded with the first attempt), and whether to stop.
    struct PreflightResult {
        var decisions: [JournalDecision] = []
        var remedies: [JournalRemedy] = []
        var stop: (outcome: JournalOutcome, status: Int32)?
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
            decisions: outcome.decisions.map(Self.journalDecision), remedies: reports.map(Self.journalRemedy))
        for warning in outcome.warnings { effects.console(.warn(warning.sentence)) }
        if !reports.isEmpty, let line = ConsoleReport.remedies(result.remedies) {
            effects.console(.say("pre-flight: \(line)"))
        }
        if let signal = outcome.interruptedBy {
            result.stop = (.aborted, 128 + signal)
        } else if let error = outcome.error {
            effects.console(.error(error.message))
            result.stop = (.refused, error.status.rawValue)
        }
        return result
    }

    // MARK: One attempt

    /// One attempt: docker run to its end with its output classified as it streams; for `run`, the container's
    /// state read after it ends, and the container removed where safebuild took the user's `--rm` over, or before a
    /// retry would take its `--name` again (never another build's container: it goes by the id docker wrote for
    /// this attempt).
    func attemptOnce(_ arguments: [String]) -> AttemptResult {
        let attempt = AttemptCommand.prepare(
            arguments, command: plan.command, temporaryCIDFile: effects.temporaryPath("cid"))
        var classifier = Classifier(command: plan.command, extra: plan.signatures)
        let exit: DockerExit
        do throws(SafebuildError) {
            exit = try effects.runDocker(attempt, classifier: &classifier)
        } catch {
            effects.console(.error(error.message))
            return AttemptResult(
                status: .exited(error.status.rawValue), interruptedBy: nil,
                classification: Classification(
                    failureClass: .notMemory, line: nil, reason: error.message, retryable: false, kernelEvidence: nil))
        }
        let failed = exit.status != .exited(0)

        var state: ContainerState?
        if let id = exit.containerID, failed || attempt.removesContainer {
            // A 137 may be an OOM kill whose flag the daemon sets a moment later; not when safebuild was told to stop
            // and killed the container itself (that wait would eat into Jenkins' soft-kill time).
            let settle = exit.status.code == 137 && exit.interruptedBy == nil ? 2.0 : 0
            state = effects.containerState(id, settle: settle, since: exit.startedAt)
        }
        if failed {
            for line in effects.evidence(since: exit.startedAt).kernelLines {
                var text = line
                text.withUTF8 { classifier.observeKernel(line: UnsafeRawBufferPointer($0)) }
            }
        }
        let classification = classifier.verdict(exitStatus: exit.status, containerState: state)
        if let id = exit.containerID,
            attempt.removesContainer || (failed && plan.namesContainer && classification.retryable)
        {
            effects.removeContainer(id)
        }
        return AttemptResult(status: exit.status, interruptedBy: exit.interruptedBy, classification: classification)
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
        let decision = RetryDecision.decide(
            result.classification, attempt: attempt, elapsed: elapsed, previousDelay: previousDelay,
            settings: plan.retry, random: &random)
        var step = NextStep(decision: decision, arguments: arguments, memory: memory)
        guard case .retry(_, let names) = decision else { return step }
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
        step.reports += apply(names.filter { $0 != .raiseMemory })
        return step
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
        failureClass: FailureClass? = nil
    ) -> Int32 {
        let context = effects.journalContext()
        let original = Redaction.argv(plan.commandLine.arguments)
        let run = Redaction.argv(executed)
        let now = effects.wallClock()
        effects.append(
            InvocationRecord(
                id: id, retryOf: plan.retryOf, started: JournalTime.format(started), ended: JournalTime.format(now),
                durationSeconds: now - started, host: context.host, user: context.user, uid: context.uid,
                cwd: context.cwd, command: plan.command.name, argv: original.argv, executedArgv: run.argv,
                redacted: original.redacted || run.redacted, policySource: plan.policySource, image: plan.image,
                tags: plan.tags, outcome: outcome, attempts: attempts, exitStatus: status,
                failureClass: failureClass?.rawValue, ci: context.ci, preflight: preflight.isEmpty ? nil : preflight,
                decisions: plan.decisions, memoryLimitEnforced: plan.limitEnforced ? nil : false))
        return status
    }

    static func journalRemedy(_ report: RemedyReport) -> JournalRemedy {
        JournalRemedy(
            name: report.name.rawValue, ran: report.ran, skippedReason: report.skipped, before: report.before,
            after: report.after, reclaimedBytes: report.after["reclaimed_bytes"], seconds: report.duration)
    }

    static func journalDecision(_ decision: Preflight.Decision) -> JournalDecision {
        JournalDecision(
            check: decision.threshold.key, measured: decision.measured, limit: decision.threshold.limit,
            unit: decision.threshold.unit, action: decision.verdict.rawValue, message: decision.sentence)
    }

    static func signal(of status: ExitStatus) -> Int32? {
        if case .signaled(let s) = status { return s }
        return nil
    }
}
