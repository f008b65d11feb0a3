import Glibc

/// The real effects: docker as a supervised child (`ChildProcess`), its container's state, removal and kill through
/// the Engine API (`ContainerControl`; the docker CLI only for an engine that is not on a local socket),
/// the kernel's log, remedies under the host-wide lock (a wait for it says so and ends on a signal) or, for those
/// that need root, through the privileged entry, memory admission in the host-wide ledger (`AdmissionGate`) and the
/// attempt's memory cgroups (`MemoryWatch`), sleeps that end on a signal (`SignalInbox`), the journal file, and
/// `Console` on stderr.
package final class LiveSupervisionEffects: SupervisionEffects {
    let plan: SupervisionPlan
    let signals: SignalInbox
    let journal: JournalWriter
    let remedies: Remedies
    let lock: HostLock
    /// The engine state the Supervisor opened (nil: pre-flight opens it).
    let engineState: EngineStateFile?
    /// safebuild's stdin relayed to docker and kept for a retry (made at the first attempt of a spooled stdin).
    var stdinFeed: StdinFeed?
    /// docker's stdout held back (made at the first attempt whose stdout is held).
    var hold: OutputHold?
    /// Memory admission, and the engine's pool that the attempts' accounting reads.
    let gate: AdmissionGate
    /// What an attempt of this invocation wrote to the user's `--cidfile`: the only content a retry may delete.
    var writtenContainerIDs: [String: String] = [:]
    /// The container of a `run`: its state, removal and kill.
    let control: ContainerControl
    /// The cgroup paths of the last attempt's containers (the kernel's OOM records name them).
    var lastCgroups: [String] = []
    /// docker's data root (asked once, at the first attempt); its free space before the last attempt and the lowest
    /// seen while it ran.
    var dataRoot: DataRootDisk?
    var diskBefore: UInt64?
    var diskLowest: UInt64?
    /// The kernel log's records read after the attempt that started at `since` (`kernelRecords(since:)`).
    var kernelLog: (since: Double, records: [KernelLog.Record])?
    /// Whether the stale cidfiles of killed safebuilds were swept (once, before the first attempt of a `run`).
    var sweptCIDFiles = false

    package init(plan: SupervisionPlan, signals: SignalInbox, engineState: EngineStateFile? = nil) {
        self.plan = plan
        self.signals = signals
        self.engineState = engineState
        journal = JournalWriter(
            path: plan.journalPath, maxBytes: plan.journalMaxBytes, keep: plan.journalKeep, files: plan.files)
        remedies = Remedies(
            context: LiveRemedyContext(docker: plan.docker, globalFlags: plan.commandLine.globalFlags, signals: signals),
            settings: plan.remedies)
        // A member of the host's group that cannot use the host-wide directory keeps its locks in one of its own,
        // with one warning (`RuntimeState`).
        lock = HostLock(
            state: RuntimeState(directory: plan.lockDirectory, files: plan.files, environment: plan.environment), cooldown: plan.cooldown)
        let endpoint = try? EngineEndpoint.resolve(plan.commandLine, environment: plan.environment, read: HostReader.read)
        control = ContainerControl(
            socketPath: endpoint?.socketPath, docker: plan.docker, globals: plan.commandLine.globalFlags,
            timeout: plan.engineTimeout)
        gate = AdmissionGate(
            settings: plan.admission, signals: signals, socketPath: endpoint?.socketPath, engineTimeout: plan.engineTimeout,
            memTotal: PhysicalMemory.total() ?? 0)
    }

    /// The user's global flags (`-H …`), repeated on helper calls so that they reach the same engine.
    var globals: [String] { plan.commandLine.globalFlags }

    // MARK: Clocks and console

    package func now() -> Double { Clock.now() }

    package func wallClock() -> Double { JournalTime.now() }

    package func console(_ line: ConsoleLine) {
        switch line {
        case .say(let text): Console.say(text)
        case .warn(let text): Console.warn(text)
        case .error(let text): Console.error(text)
        }
    }

    // MARK: Before the first attempt

    package func buildContextWarnings() -> [String] {
        let buildArguments = Array(plan.commandLine.arguments[plan.commandLine.commandArgumentsIndex...])
        return BuildContext.report(
            buildArguments: buildArguments, workingDirectory: plan.workingDirectory, seconds: 0.5)?.warnings ?? []
    }

    package func preflight(remediate: (Preflight.Decision) -> Void) throws(SafebuildError) -> Preflight.Outcome {
        let endpoint = try EngineEndpoint.resolve(
            plan.commandLine, environment: plan.environment, read: HostReader.read)
        let outcome = Preflight.run(
            thresholds: plan.thresholds, waitTimeout: plan.preflightWaitTimeout, engineTimeout: plan.engineTimeout,
            endpoint: endpoint, docker: plan.docker, environment: plan.environment, inbox: signals,
            glance: EngineGlance.Settings(
                state: engineState ?? (try? EngineStateFile(state: lock.state)), maxAge: plan.buildCacheMaxAge),
            remediate: remediate)
        // Pre-flight's glance knows the data root (kept per daemon in the engine state): no `GET /info` per attempt,
        // which costs more the more images the engine holds.
        if dataRoot == nil, let root = outcome.figures.engine?.rootDir { dataRoot = DataRootDisk(path: root) }
        return outcome
    }

    // MARK: Memory admission

    package func learnedReservation() -> (bytes: UInt64, sentence: String)? {
        guard let contents = try? JournalReader.read(path: plan.journalPath) else { return nil }
        return MemoryProfile.learned(
            contents, job: plan.admission.job, image: plan.admission.image, headroom: plan.admission.learnedHeadroom)
    }

    package func admit(_ request: AdmissionRequest) -> AdmissionResult { gate.admit(request) }

    package func releaseReservation() { gate.release() }

    package func withdrawReservation() { gate.withdraw() }

    // MARK: One attempt

    package func temporaryPath(_ suffix: String) -> String { Self.temporaryPath(suffix) }

    /// A fresh path in `$TMPDIR` (else /tmp) for a temporary file of this process, ending in `.suffix`:
    /// `safebuild-PID-RANDOM.suffix` (`StaleCIDFiles` sweeps the `.cid` ones a killed safebuild left).
    package static func temporaryPath(_ suffix: String) -> String {
        var random: UInt64 = 0
        arc4random_buf(&random, 8)
        return "\(temporaryDirectory)/safebuild-\(getpid())-\(String(random, radix: 36)).\(suffix)"
    }

    /// `$TMPDIR`, else /tmp.
    package static var temporaryDirectory: String {
        let dir = getenv("TMPDIR").map { String(cString: $0) } ?? ""
        return dir.isEmpty ? "/tmp" : dir
    }

    package func runDocker(_ attempt: AttemptCommand, classifier: inout Classifier) throws(SafebuildError) -> DockerExit {
        if !sweptCIDFiles, attempt.cidFile != nil, !attempt.cidFileIsUsers {
            sweptCIDFiles = true
            StaleCIDFiles.sweep(directory: Self.temporaryDirectory)
        }
        if let cidFile = attempt.cidFile, attempt.cidFileIsUsers, let written = writtenContainerIDs[cidFile],
            CIDFileFollower.containerID(in: cidFile) == written
        {
            // docker refuses to start when the file exists, and this one is what a previous attempt of this
            // invocation wrote. Any other file is left alone: on the first attempt docker's own guard (`container ID
            // file found, make sure the other container isn't running`, exit 125) keeps firing for a stale file.
            unlink(cidFile)
        }
        var child = ChildProcess(path: plan.docker, arguments: attempt.arguments, environment: plan.dockerEnvironment)
        child.stopGrace = plan.stopGrace
        var problems: [String] = []
        switch attempt.streams.stdin {
        case .rewound(let offset):
            if attempt.replay && lseek(0, off_t(offset), SEEK_SET) < 0 {
                throw ChildProcess.failure("rewind stdin to offset \(offset) for the retry")
            }
        case .spooled(let limit):
            if stdinFeed == nil {
                switch StdinFeed.create(limit: limit) {
                case .success(let feed): stdinFeed = feed
                case .failure(let error): problems.append(error.message + "; docker reads stdin itself, so a retry could not")
                }
            }
            child.stdin = stdinFeed
        case .inherited, .unreplayable:
            break
        }
        if case .held(let limit) = attempt.streams.stdout {
            if hold == nil {
                switch OutputHold.create(limit: limit) {
                case .success(let made): hold = made
                case .failure(let error): problems.append(error.message + "; stdout goes out as it comes, so a retry could write it twice")
                }
            }
            child.hold = hold
        }
        let follower = attempt.cidFile.map { CIDFileFollower(path: $0, removes: !attempt.cidFileIsUsers) }
        if let follower {
            let control = self.control
            child.onStop = {
                guard let id = follower.poll() else { return }
                control.kill(id)
            }
        }
        gate.prepare()
        let watch = gate.pool.map {
            MemoryWatch(pool: $0, poolLimit: gate.budget?.cgroupLimit, notMeasured: plan.accountingGap)
        }
        // The data root's free space while docker runs, where pre-flight found the root; else it is asked of the
        // engine only after a failure (`hostEvidence`).
        let disk = dataRoot
        diskBefore = disk?.free()?.free
        diskLowest = diskBefore
        // One reader of the cidfile, the follower (it removes safebuild's own file once read); the watch is handed
        // what it read. Two readers raced: one could meet the file still empty and the other then remove it written.
        child.tick = { [unowned self] in
            if let id = follower?.poll() { watch?.observe(container: id) }
            watch?.tick()
            if let free = disk?.free()?.free { self.diskLowest = min(self.diskLowest ?? free, free) }
        }
        // A run's stdout is the container's, read by nobody: copied, never split. A classic build's stdout holds its
        // steps (the classifier's step output, the memory watch's ` ---> Running in ID`).
        child.splitStdout = classifier.command != .run
        let startedAt = Clock.wall()
        var buildContainers: [String] = []
        var isBuild = false
        if case .build = plan.command { isBuild = true }
        let outcome = try child.run(signals: signals) { stream, line in
            classifier.observe(line: line, stream: stream)
            if isBuild, line.count > 28, line.count < 200, line[0] == 0x20,
                let id = DockerExit.buildContainer(in: String(decoding: line, as: UTF8.self))
            {
                buildContainers.append(id)
                watch?.observe(container: id)
            }
        }
        let containerID = follower?.poll()
        if let containerID { watch?.observe(container: containerID) }
        let memory = watch?.finish()
        lastCgroups = watch?.cgroupPaths ?? []
        if let cidFile = attempt.cidFile {
            if attempt.cidFileIsUsers {
                writtenContainerIDs[cidFile] = containerID
            } else {
                unlink(cidFile)  // docker failed before safebuild read it, or wrote nothing
            }
        }
        let streams = StreamReport(
            stdinBytes: child.stdin?.bytesRead ?? 0, stdinSpoolExceeded: child.stdin?.exceeded ?? false,
            stdoutBytes: outcome.stdoutBytes, stdoutHoldExceeded: child.hold?.exceeded ?? false,
            problem: problems.first)
        var exit = DockerExit(
            status: outcome.status, interruptedBy: outcome.interruptedBy, containerID: containerID, startedAt: startedAt,
            streams: streams, memory: memory)
        exit.buildContainers = buildContainers
        return exit
    }

    package func containerState(_ id: String, settle: Double, since: Double) -> ContainerState? {
        var state: ContainerState?
        // The container itself while it exists; once docker's `--rm` has removed it, the engine's events for it.
        func look() {
            switch control.inspect(id) {
            case .found(let found):
                state = found
            case .gone, .unknown:
                if let events = control.events(id, since: since), let code = events.exitCode ?? state?.exitCode {
                    state = ContainerState(oomKilled: events.oom || state?.oomKilled == true, exitCode: code, status: "removed")
                }
            }
        }
        look()
        guard var s = state, s.exitCode == 137, !s.oomKilled else { return state }
        // The kernel logs an OOM kill before its victim dies, naming the container's cgroup, so where its log can be
        // read it answers at once. containerd can lose a container's OOM event (its cgroup goes before the event is
        // read): docker then reports OOMKilled=false for good, and the kernel's record still stands.
        if let records = kernelRecords(since: since) {
            let kills = HostReader.oomKills(in: records, since: since - 1)
            s.oomKilled = kills.contains { kill in kill.containerID.map { id.hasPrefix($0) || $0.hasPrefix(id) } ?? false }
            return s
        }
        // Without the kernel's log, the engine may mark the OOM kill a moment after the exit: ask again, bounded.
        let end = Clock.now() + settle
        while Clock.now() < end, signals.sleep(seconds: 0.05) == nil {
            look()
            if state?.oomKilled == true { break }
        }
        return state
    }

    package func evidence(since: Double) -> AttemptEvidence {
        let boot = HostReader.bootTime()
        let records = (kernelRecords(since: since) ?? []).filter { boot + $0.sinceBoot >= since }
        let pages = records.filter { $0.message.contains("page allocation failure") }
        // The OOM killer's records of this attempt's containers: `oom_memcg` names the limit that was hit.
        let kills = KernelLog.oomKills(records, bootTime: boot).compactMap { kill -> OOMDiagnosis.KernelKill? in
            guard let task = kill.cgroup, lastCgroups.contains(task) else { return nil }
            if kill.cgroupLimit {
                return kill.limitCgroup.map { OOMDiagnosis.KernelKill(taskCgroup: task, limitCgroup: $0) }
            }
            return OOMDiagnosis.KernelKill(taskCgroup: task, limitCgroup: nil)
        }
        return AttemptEvidence(kernelLines: pages.map { String($0.message) }, oomKills: kills, host: hostEvidence())
    }

    /// docker's data root, asked of the engine once.
    func dataRootDisk() -> DataRootDisk {
        if let dataRoot { return dataRoot }
        let endpoint = try? EngineEndpoint.resolve(plan.commandLine, environment: plan.environment, read: HostReader.read)
        let disk = DataRootDisk.locate(socketPath: endpoint?.socketPath, timeout: plan.engineTimeout)
        dataRoot = disk
        return disk
    }

    /// The host's figures now: the data root's free space (and what was seen during the attempt), the build
    /// context's file system, MemAvailable, page cache, PSI, buddyinfo.
    func hostEvidence() -> HostEvidence {
        let disk = dataRootDisk()
        var host = HostEvidence(dataRoot: disk.path)
        if let now = disk.free() {
            host.dataRootFreeBytes = now.free
            host.dataRootTotalBytes = now.total
        }
        host.dataRootFreeBeforeBytes = diskBefore
        host.dataRootLowestFreeBytes = diskLowest
        if case .build = plan.command {
            let arguments = Array(plan.commandLine.arguments[plan.commandLine.commandArgumentsIndex...])
            if let context = BuildContext.locate(buildArguments: arguments).context {
                let path = context.hasPrefix("/") ? context : plan.workingDirectory + "/" + context
                host.contextFreeBytes = EngineProbes.diskFree(path)?.free
            }
        }
        var figures = HostFigures()
        figures.memory = HostReader.read(MemInfo.path).flatMap { try? MemInfo.parse($0) }
        figures.pressure = HostReader.read(Pressure.path).flatMap { try? Pressure.parse($0) }
        figures.buddy = HostReader.read(BuddyInfo.path).flatMap { try? BuddyInfo.parse($0) }
        host.take(figures)
        return host
    }

    package func removeContainer(_ id: String) { control.remove(id) }

    package func waitForRemoval(_ id: String) -> Bool {
        control.waitRemoved(id, seconds: 10) { signals.sleep(seconds: $0) }
    }

    package func removeStoppedContainers(_ ids: [String]) {
        guard !ids.isEmpty else { return }
        _ = try? Command(plan.docker, globals + ["rm", "-v"] + ids, timeout: 30).run()
    }

    package func releaseHeldOutput() { hold?.release() }

    package func discardHeldOutput() { hold?.discard() }

    // MARK: Between attempts

    package func runRemedy(_ name: RemedyName) -> RemedyReport {
        remedies.run([name], lock: lock, waiting: .signals(signals)).first ?? remedies.run(name)
    }

    package func sleep(seconds: Double) -> Int32? { signals.sleep(seconds: seconds) }

    // MARK: The journal

    package func append(_ record: AttemptRecord) { journal.append(record) }

    package func append(_ record: InvocationRecord) {
        var record = record
        if record.outcome == .running {
            record.process = ProcessIdentity.current()
            journal.append(record)
            return
        }
        journal.append(record)
        if let metrics = plan.metricsPath, let problem = Metrics.write(journalPath: plan.journalPath, to: metrics, files: plan.files) {
            Console.warn("cannot write metrics \(metrics): \(problem)")
        }
    }

    package func journalContext() -> Journal.Context { Journal.Context.current(environment: plan.environment) }

    // MARK: Helpers

    /// The kernel log's records of an attempt's failure (the OOM killer's lines and page allocation failures), read
    /// once for the container's state and the evidence: reading /dev/kmsg walks every record the kernel holds (about
    /// 10 ms for 2,500 here), and an exit 137 asks twice. nil when the log cannot be read (a user without CAP_SYSLOG
    /// where dmesg is restricted).
    func kernelRecords(since: Double) -> [KernelLog.Record]? {
        if let kernelLog, kernelLog.since == since { return kernelLog.records }
        guard let records = try? HostReader().kernelRecords(matching: ["page allocation failure"] + HostReader.needles)
        else { return nil }
        kernelLog = (since, records)
        return records
    }
}
