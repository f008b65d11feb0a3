import Glibc

/// The live admission of one safebuild process: finds the engine's pool and budget (from the ledger's cache, or by
/// asking the engine once), then reserves memory in the ledger before each attempt, waiting its turn while the
/// reservation does not fit. A wait says on stderr what it waits for (`AdmissionProgress`), wakes when the ledger
/// changes (inotify) or every 250 ms to look at the pool's real usage, and ends at once on SIGINT or SIGTERM
/// (`SignalInbox`). Between attempts the reservation is released but the ticket kept; at the end it is withdrawn.
package final class AdmissionGate {
    let settings: AdmissionSettings
    let signals: SignalInbox
    let socketPath: String?
    let engineTimeout: Double
    let memTotal: UInt64
    let reader = EnginePoolReader()

    private(set) var ledger: LedgerFile?
    private(set) var pool: EnginePool?
    private(set) var budget: MemoryBudget?
    /// Why admission cannot work on this command (every `admit` is then skipped with it).
    private(set) var problem: String?
    private var prepared = false
    private var me: ProcessIdentity?
    private var ticket: UInt64?
    private var user: (uid: UInt32, name: String) = (0, "")
    private var lastLook: AdmissionDecision.Look?
    private var warned = false

    /// - Parameter socketPath: the engine's unix socket; nil for an engine elsewhere (tcp://, ssh://).
    package init(settings: AdmissionSettings, signals: SignalInbox, socketPath: String?, engineTimeout: Double, memTotal: UInt64) {
        self.settings = settings
        self.signals = signals
        self.socketPath = socketPath
        self.engineTimeout = engineTimeout
        self.memTotal = memTotal
    }

    // MARK: The pool

    /// Opens the ledger and finds the engine's pool and budget, once.
    package func prepare() {
        guard !prepared else { return }
        prepared = true
        me = ProcessIdentity.current()
        // The name is only the ledger's label (doctor, a person reading the file): the environment's, not an NSS
        // lookup on every command.
        let uid = getuid()
        let name = getenv("USER").map { String(cString: $0) } ?? getenv("LOGNAME").map { String(cString: $0) }
        user = (uid, name.flatMap { $0.isEmpty ? nil : $0 } ?? String(uid))
        guard let socketPath else {
            problem = "the engine is not on a local unix socket, so its memory is not this host's"
            return
        }
        guard let pid = EnginePoolReader.peerPID(socketPath: socketPath) else {
            problem = "the engine at \(socketPath) does not accept connections"
            return
        }
        let daemon = ProcessIdentity.of(pid)
        do throws(FileSafetyError) {
            ledger = try LedgerFile(
                directory: settings.stateDirectory, files: settings.files, environment: settings.runtimeEnvironment)
        } catch {
            problem = "the admission ledger cannot be used: \(error)"
        }
        var found: EnginePool?
        // The cache is read without the lock: a torn read only costs a cache miss.
        if let ledger, let daemon { found = ledger.peek().engine(daemon) }
        if found == nil {
            found = reader.detect(socketPath: socketPath, daemon: daemon, timeout: engineTimeout)
            if let found, let ledger { _ = try? ledger.update(signals: signals) { $0.remember(found) } }
        }
        guard let found else {
            problem = problem ?? "no memory cgroup hierarchy is mounted"
            return
        }
        pool = found
        let override = settings.budget.map { ($0, settings.budgetText ?? Size.format($0)) }
        budget = reader.budget(
            found, memTotal: memTotal, reserve: (settings.hostReserve, settings.hostReserveText), override: override)
    }

    // MARK: Reservations

    /// Reserves `request` for the next attempt, waiting as long as the policy allows. `waitedSeconds` counts from
    /// the call, so the first admission's includes finding the pool (the whole cost of a decision on a free host).
    package func admit(_ request: AdmissionRequest) -> AdmissionResult {
        let started = Clock.now()
        prepare()
        if let problem {
            if ledger == nil, pool != nil, !warned {
                warned = true
                Console.warn("memory admission skipped: \(problem)")
            }
            return AdmissionResult(record: .skipped(problem))
        }
        guard let ledger, let pool, let budget, let me else {
            return AdmissionResult(record: .skipped("the admission ledger cannot be used"))
        }
        var record = JournalAdmission(
            outcome: .admitted, requestBytes: request.bytes, request: request.source, budgetBytes: budget.bytes,
            budget: budget.source)
        var progress: AdmissionProgress?
        var timedOut = false
        var watch: LedgerWatch?
        while true {
            let verdict: AdmissionDecision.Verdict
            do throws(LedgerFile.Failure) {
                verdict = try ledger.update(signals: signals) { l in
                    decide(&l, me: me, request: request, pool: pool, budget: budget, force: timedOut)
                }
            } catch {
                say(progress?.done(nil))
                if case .interrupted(let signal) = error {
                    record.outcome = .interrupted
                    record.waitedSeconds = Clock.now() - started
                    record.message = "interrupted by \(ConsoleReport.signalName(signal)) while waiting for the lock of the admission ledger \(ledger.path) after \(ConsoleReport.seconds(record.waitedSeconds))"
                    withdraw()
                    return AdmissionResult(record: record, interruptedBy: signal)
                }
                Console.warn("memory admission skipped: \(error.message)")
                return AdmissionResult(record: .skipped(error.message))
            }
            record.ticket = ticket
            switch verdict {
            case .admit(let alone):
                record.waitedSeconds = Clock.now() - started
                if timedOut {
                    record.outcome = .ranAfterTimeout
                    record.message = "waited \(ConsoleReport.seconds(record.waitedSeconds)) (admission.wait_timeout) for memory; running anyway"
                    say(progress?.done(nil))
                    Console.warn(record.message!)
                } else {
                    record.outcome = alone ? .admittedAlone : .admitted
                    if record.freeBytes == nil {
                        record.freeBytes = lastLook?.free
                        record.ahead = 0
                    }
                    let waited = record.waitedSeconds >= 0.05
                    say(progress?.done(waited ? "memory admitted after \(ConsoleReport.seconds(record.waitedSeconds))\(alone ? ", to run alone" : "")" : nil))
                }
                return AdmissionResult(record: record)
            case .refuse:
                record.outcome = .refusedOversize
                record.message = "needs \(AdmissionProgress.bytes(request.bytes)) (\(request.source)), more than the whole memory budget of \(AdmissionProgress.bytes(budget.bytes)) (\(budget.source)), and admission.oversize is refuse"
                withdraw()
                return AdmissionResult(record: record)
            case .wait(let wait):
                if record.freeBytes == nil {
                    record.freeBytes = wait.free
                    record.ahead = wait.ahead
                }
                let elapsed = Clock.now() - started
                if progress == nil { progress = AdmissionProgress(terminal: isatty(2) == 1) }
                say(progress?.waiting(
                    AdmissionProgress.sentence(wait, request: request, budget: budget.bytes), elapsed: elapsed,
                    now: Clock.now()))
                if elapsed >= settings.waitTimeout {
                    if settings.onTimeout == .refuse {
                        say(progress?.done(nil))
                        record.outcome = .refusedTimeout
                        record.waitedSeconds = elapsed
                        record.message = "waited \(ConsoleReport.seconds(elapsed)) (admission.wait_timeout) for \(AdmissionProgress.bytes(request.bytes)) of memory; \(AdmissionProgress.bytes(wait.free)) free, \(wait.running) running, \(wait.ahead) waiting ahead; admission.on_timeout is refuse"
                        withdraw()
                        return AdmissionResult(record: record)
                    }
                    timedOut = true
                    continue
                }
                if watch == nil { watch = LedgerWatch(path: ledger.path) }
                if let signal = watch?.wait(signals: signals, seconds: 0.25) {
                    say(progress?.done(nil))
                    withdraw()
                    record.outcome = .interrupted
                    record.waitedSeconds = Clock.now() - started
                    record.message = "interrupted by \(ConsoleReport.signalName(signal)) while waiting for memory admission: needs \(AdmissionProgress.bytes(request.bytes)) (\(request.source)), \(AdmissionProgress.bytes(wait.free)) of the \(AdmissionProgress.bytes(budget.bytes)) budget free, \(wait.running) running, after \(ConsoleReport.seconds(record.waitedSeconds))"
                    return AdmissionResult(record: record, interruptedBy: signal)
                }
            }
        }
    }

    /// One look at the ledger: this command's entry made or updated, the decision taken, the entry's state set.
    private func decide(
        _ l: inout Ledger, me: ProcessIdentity, request: AdmissionRequest, pool: EnginePool, budget: MemoryBudget,
        force: Bool
    ) -> AdmissionDecision.Verdict {
        let mine = ticket ?? l.issueTicket()
        ticket = mine
        let now = Clock.wall()
        var entry = l.entry(of: me)
            ?? LedgerEntry(
                ticket: mine, process: me, state: .waiting, bytes: request.bytes, since: now, pool: pool.directory,
                uid: user.uid, user: user.name, label: settings.label)
        entry.ticket = mine
        entry.bytes = request.bytes
        let others = l.entries.filter { $0.pool == pool.directory && $0.process != me }
        let used = budget.used(poolUsage: reader.poolUsage(pool), memAvailable: reader.memAvailable())
        let look = AdmissionDecision.look(ticket: mine, others: others, budget: budget.bytes, used: used)
        lastLook = look
        let verdict = force
            ? .admit(alone: false)
            : AdmissionDecision.decide(request: request.bytes, look: look, budget: budget.bytes, oversize: settings.oversize)
        let state: LedgerEntry.State?
        switch verdict {
        case .admit: state = .running
        case .wait: state = .waiting
        case .refuse: state = nil
        }
        if let state {
            if entry.state != state || l.entry(of: me) == nil { entry.since = now }
            entry.state = state
            l.set(entry)
        }
        return verdict
    }

    /// After an attempt: the memory is given back, the ticket kept for a retry (`paused`). A wait for the ledger's
    /// lock ends on a termination signal (the entry of a process that is gone is reclaimed by the next reader).
    package func release() {
        guard let ledger, let me else { return }
        _ = try? ledger.update(signals: signals) { l in
            guard var entry = l.entry(of: me) else { return }
            entry.state = .paused
            entry.since = Clock.wall()
            l.set(entry)
        }
    }

    /// At the end: the entry goes. After a termination signal, a lock held by another process is not waited for:
    /// safebuild is about to exit, and the next reader reclaims the entry of a process that is gone.
    package func withdraw() {
        guard let ledger, let me else { return }
        _ = try? ledger.update(signals: signals) { l in l.remove(me) }
    }

    private func say(_ text: String?) {
        guard let text, !Console.quiet else { return }
        Output.write(2, text)
    }
}

/// Wakes a waiting admission when the ledger file is written (inotify), on a signal, or after a timeout.
final class LedgerWatch {
    let fd: Int32

    init(path: String) {
        let fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        if fd >= 0, inotify_add_watch(fd, path, UInt32(IN_MODIFY | IN_CLOSE_WRITE)) < 0 {
            close(fd)
            self.fd = -1
        } else {
            self.fd = fd
        }
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Waits up to `seconds` for a change of the ledger; returns the termination signal that ended the wait, if one
    /// did.
    func wait(signals: SignalInbox, seconds: Double) -> Int32? {
        if let termination = signals.termination { return termination }
        var fds = [pollfd(fd: signals.fd, events: Int16(POLLIN), revents: 0)]
        if fd >= 0 { fds.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0)) }
        _ = poll(&fds, nfds_t(fds.count), Int32(seconds * 1000))
        _ = signals.drain()
        if fd >= 0 {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while read(fd, &buffer, buffer.count) > 0 {}
        }
        return signals.termination
    }
}
