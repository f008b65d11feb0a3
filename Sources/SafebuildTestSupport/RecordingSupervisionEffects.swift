package import SafebuildKit

/// A recording fake of `SupervisionEffects`: docker's attempts are scripted one by one (status, what docker printed,
/// the container's state, what its memory cgroup showed, a signal), admissions, remedies and sleeps answer from
/// tables, and every effect call is recorded in order. Its clocks move only when an attempt, an admission's wait, a
/// remedy or a sleep takes time, so backoff delays and deadlines are exact.
package final class RecordingSupervisionEffects: SupervisionEffects {
    /// One scripted attempt of docker.
    package struct Attempt: Sendable {
        package var status: ExitStatus
        /// What docker printed, line by line: stderr is shown to the classifier (stdout too, which it ignores).
        package var stdout: [String]
        package var stderr: [String]
        /// A termination signal safebuild received while docker ran.
        package var interruptedBy: Int32?
        /// The container docker wrote to the `--cidfile` (`run`), if it created one.
        package var containerID: String?
        /// What `docker inspect` shows of that container afterwards.
        package var state: ContainerState?
        /// Kernel log lines written during the attempt.
        package var kernelLines: [String]
        /// Seconds the attempt takes: both clocks move by this much.
        package var seconds: Double
        /// Set when docker cannot even be started.
        package var startError: SafebuildError?
        /// What the attempt did with stdin and stdout; nil: nothing read, and stdout as many bytes as `stdout`'s
        /// lines (none counted when stdout is a terminal).
        package var streams: StreamReport?
        /// What the attempt's memory cgroups showed.
        package var memory: AttemptMemory?
        /// The kernel's OOM records of the attempt's containers.
        package var oomKills: [OOMDiagnosis.KernelKill]
        /// The host's figures after the attempt (free disk, memory, pressure, fragmentation).
        package var host: HostEvidence?

        package init(
            status: ExitStatus, stdout: [String] = [], stderr: [String] = [], interruptedBy: Int32? = nil,
            containerID: String? = nil, state: ContainerState? = nil, kernelLines: [String] = [], seconds: Double = 1,
            startError: SafebuildError? = nil, streams: StreamReport? = nil, memory: AttemptMemory? = nil,
            oomKills: [OOMDiagnosis.KernelKill] = [], host: HostEvidence? = nil
        ) {
            self.status = status
            self.stdout = stdout
            self.stderr = stderr
            self.interruptedBy = interruptedBy
            self.containerID = containerID
            self.state = state
            self.kernelLines = kernelLines
            self.seconds = seconds
            self.startError = startError
            self.streams = streams
            self.memory = memory
            self.oomKills = oomKills
            self.host = host
        }

        /// docker exits with `code` after printing `stderr`.
        package static func exits(_ code: Int32, stderr: [String] = [], containerID: String? = nil) -> Attempt {
            Attempt(status: .exited(code), stderr: stderr, containerID: containerID)
        }
    }

    /// One effect call, in the words a test asserts on.
    package enum Call: Equatable, Sendable {
        case console(ConsoleLine)
        case buildContextWarnings
        case preflight
        case temporaryPath(String)
        /// docker's arguments for the attempt.
        case runDocker([String])
        case containerState(String, settle: Double)
        case evidence
        case removeContainer(String)
        case waitForRemoval(String)
        case removeStoppedContainers([String])
        case releaseHeldOutput
        case discardHeldOutput
        case runRemedy(RemedyName)
        case sleep(Double)
        /// An attempt record: its number and decision.
        case appendAttempt(Int, decision: String)
        case appendInvocation(JournalOutcome)
        case journalContext
        /// Admission: the bytes asked for, and whether it was a retry's.
        case admit(UInt64, retry: Bool)
        case releaseReservation
        case withdrawReservation
        case learnedReservation

        /// One of the memory admission's calls.
        package var isAdmission: Bool {
            switch self {
            case .admit, .releaseReservation, .withdrawReservation, .learnedReservation: return true
            default: return false
            }
        }
    }

    // MARK: The script

    /// docker's attempts, taken in order; an attempt past the end of the list cannot be started.
    package var attempts: [Attempt]
    /// What `buildContextWarnings` answers.
    package var contextWarnings: [String] = []
    /// What pre-flight concluded; `remediate` is called for each of its first decisions whose verdict is
    /// `remediate`. Nil: pre-flight cannot locate the engine (it throws).
    package var preflightOutcome: Preflight.Outcome?
    /// What a remedy reports (default: it ran, in 1 s).
    package var remedyReports: [RemedyName: RemedyReport] = [:]
    /// Per sleep, in order, the signal that ends it early (nil or past the end: none).
    package var sleepSignals: [Int32?] = []
    package var context = Journal.Context(host: "build-7", user: "jenkins", uid: 1000, cwd: "/work/app", ci: nil)
    /// What each admission answers, in order (past the end: admitted at once); each takes its `waitedSeconds`.
    package var admissions: [AdmissionResult] = []
    /// What `learnedReservation` answers.
    package var learned: (bytes: UInt64, sentence: String)?

    // MARK: What happened

    package private(set) var calls: [Call] = []
    package private(set) var attemptRecords: [AttemptRecord] = []
    package private(set) var invocationRecords: [InvocationRecord] = []
    /// The attempts as the loop asked for them (arguments, cidfile, --rm taken over).
    package private(set) var dockerAttempts: [AttemptCommand] = []
    /// Monotonic and wall-clock seconds.
    package private(set) var monotonic: Double = 1000
    package private(set) var wall: Double = 1_795_000_000

    /// Every console line, in order.
    package var console: [ConsoleLine] {
        calls.compactMap { if case .console(let line) = $0 { return line } else { return nil } }
    }

    /// The calls other than console lines and memory admission.
    package var effects: [Call] {
        calls.filter { if case .console = $0 { return false } else { return !$0.isAdmission } }
    }

    /// The calls other than console lines, memory admission's included.
    package var effectsWithAdmission: [Call] {
        calls.filter { if case .console = $0 { return false } else { return true } }
    }

    /// The requests admission was asked for, in order.
    package private(set) var admissionRequests: [AdmissionRequest] = []

    private var current: Attempt?
    private var admitted = 0
    private var sleeps = 0
    private var temporaryFiles = 0

    package init(attempts: [Attempt]) {
        self.attempts = attempts
    }

    private func advance(_ seconds: Double) {
        monotonic += seconds
        wall += seconds
    }

    // MARK: SupervisionEffects

    package func now() -> Double { monotonic }

    package func wallClock() -> Double { wall }

    package func console(_ line: ConsoleLine) { calls.append(.console(line)) }

    package func buildContextWarnings() -> [String] {
        calls.append(.buildContextWarnings)
        return contextWarnings
    }

    package func preflight(remediate: (Preflight.Decision) -> Void) throws(SafebuildError) -> Preflight.Outcome {
        calls.append(.preflight)
        guard let outcome = preflightOutcome else {
            throw SafebuildError(.unavailable, "cannot locate the engine (scripted)")
        }
        for decision in outcome.initial where decision.verdict == .remediate { remediate(decision) }
        advance(outcome.waitedSeconds)
        return outcome
    }

    package func learnedReservation() -> (bytes: UInt64, sentence: String)? {
        calls.append(.learnedReservation)
        return learned
    }

    package func admit(_ request: AdmissionRequest) -> AdmissionResult {
        calls.append(.admit(request.bytes, retry: request.retry))
        admissionRequests.append(request)
        let result = admitted < admissions.count
            ? admissions[admitted]
            : AdmissionResult(record: JournalAdmission(outcome: .admitted, requestBytes: request.bytes, request: request.source))
        admitted += 1
        advance(result.record.waitedSeconds)
        return result
    }

    package func releaseReservation() { calls.append(.releaseReservation) }

    package func withdrawReservation() { calls.append(.withdrawReservation) }

    package func temporaryPath(_ suffix: String) -> String {
        temporaryFiles += 1
        let path = "/tmp/safebuild-fake-\(temporaryFiles).\(suffix)"
        calls.append(.temporaryPath(path))
        return path
    }

    package func runDocker(_ attempt: AttemptCommand, classifier: inout Classifier) throws(SafebuildError) -> DockerExit {
        calls.append(.runDocker(attempt.arguments))
        dockerAttempts.append(attempt)
        guard !attempts.isEmpty else {
            current = nil
            throw SafebuildError(.software, "no attempt scripted for attempt \(dockerAttempts.count)")
        }
        let scripted = attempts.removeFirst()
        current = scripted
        if let error = scripted.startError { throw error }
        let startedAt = wall
        for (stream, lines) in [(OutputStream.stdout, scripted.stdout), (.stderr, scripted.stderr)] {
            for line in lines {
                var bytes = Array(line.utf8)
                bytes.withUnsafeMutableBytes { classifier.observe(line: UnsafeRawBufferPointer($0), stream: stream) }
            }
        }
        advance(scripted.seconds)
        let written = attempt.streams.stdout == .terminal ? nil : UInt64(scripted.stdout.reduce(0) { $0 + $1.utf8.count + 1 })
        var exit = DockerExit(
            status: scripted.status, interruptedBy: scripted.interruptedBy,
            containerID: attempt.cidFile == nil ? nil : scripted.containerID, startedAt: startedAt,
            streams: scripted.streams ?? StreamReport(stdoutBytes: written), memory: scripted.memory)
        exit.buildContainers = scripted.stdout.compactMap(DockerExit.buildContainer)
        return exit
    }

    package func containerState(_ id: String, settle: Double, since: Double) -> ContainerState? {
        calls.append(.containerState(id, settle: settle))
        return current?.state
    }

    package func evidence(since: Double) -> AttemptEvidence {
        calls.append(.evidence)
        return AttemptEvidence(
            kernelLines: current?.kernelLines ?? [], oomKills: current?.oomKills ?? [], host: current?.host)
    }

    package func removeContainer(_ id: String) { calls.append(.removeContainer(id)) }

    /// What `waitForRemoval` answers: whether the daemon removed the `--rm` container in time.
    package var daemonRemoves = true

    package func waitForRemoval(_ id: String) -> Bool {
        calls.append(.waitForRemoval(id))
        return daemonRemoves
    }

    package func removeStoppedContainers(_ ids: [String]) { calls.append(.removeStoppedContainers(ids)) }

    package func releaseHeldOutput() { calls.append(.releaseHeldOutput) }

    package func discardHeldOutput() { calls.append(.discardHeldOutput) }

    package func runRemedy(_ name: RemedyName) -> RemedyReport {
        calls.append(.runRemedy(name))
        let report = remedyReports[name] ?? RemedyReport(name: name, ran: true, detail: "scripted", duration: 1)
        advance(report.duration)
        return report
    }

    package func sleep(seconds: Double) -> Int32? {
        calls.append(.sleep(seconds))
        let signal = sleeps < sleepSignals.count ? sleepSignals[sleeps] : nil
        sleeps += 1
        if signal == nil { advance(seconds) }
        return signal
    }

    package func append(_ record: AttemptRecord) {
        calls.append(.appendAttempt(record.attempt, decision: record.decision))
        attemptRecords.append(record)
    }

    /// The `running` record written before the first attempt is kept apart (`startRecords`), out of `calls`: the
    /// tests of the loop assert on what follows it.
    package func append(_ record: InvocationRecord) {
        if record.outcome == .running {
            if calls.last == .journalContext { calls.removeLast() }  // the context read for it
            startRecords.append(record)
            return
        }
        calls.append(.appendInvocation(record.outcome))
        invocationRecords.append(record)
    }

    /// The `running` records.
    package private(set) var startRecords: [InvocationRecord] = []

    package func journalContext() -> Journal.Context {
        calls.append(.journalContext)
        return context
    }
}
