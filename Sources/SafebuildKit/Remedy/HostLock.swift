import Glibc

/// Host-wide coordination of remedies between concurrent safebuild processes: one state file in the runtime
/// directory (`RuntimeState`: /run/safebuild/remedies.state, which only root and the host's group can open), locked
/// with flock(2) while a remedy runs, recording when each remedy last ran (wall clock) and for which process. A remedy
/// that ran less than `cooldown` seconds ago is skipped, so eight builds failing together prune once. flock locks
/// belong to an open file description, so threads that open the file separately exclude each other too.
///
/// Waiting for the lock polls with the signals (`LockWaiting`): after `noticeAfter` seconds it says what it waits for
/// and who holds the lock, and SIGINT/SIGTERM end the wait at once (the remedy is skipped, `interruptedBy` set).
package struct HostLock {
    package let state: RuntimeState
    package var cooldown: Double
    /// The longest wait for another process's remedy to finish.
    package var lockTimeout: Double
    /// Wall-clock seconds (injected in tests).
    package var now: @Sendable () -> Double

    package init(
        state: RuntimeState, cooldown: Double = 60, lockTimeout: Double = 300,
        now: @escaping @Sendable () -> Double = Clock.wall
    ) {
        self.state = state
        self.cooldown = cooldown
        self.lockTimeout = lockTimeout
        self.now = now
    }

    /// A lock in `directory`, with the host's modes and group, warning on stderr.
    package init(
        directory: String, cooldown: Double = 60, lockTimeout: Double = 300,
        now: @escaping @Sendable () -> Double = Clock.wall
    ) {
        self.init(state: RuntimeState(directory: directory), cooldown: cooldown, lockTimeout: lockTimeout, now: now)
    }

    package static let fileName = "remedies.state"

    /// The host-wide directory.
    package var directory: String { state.directory }

    /// The directory: the policy's `lock_dir` if given, else /run/safebuild where /run is writable, else
    /// $XDG_RUNTIME_DIR/safebuild, else /tmp/safebuild-UID.
    package static func defaultDirectory(policy: String?, environment: [String: String]) -> String {
        if let policy, !policy.isEmpty { return policy }
        if access("/run/safebuild", W_OK) == 0 || access("/run", W_OK) == 0 { return "/run/safebuild" }
        if let xdg = environment["XDG_RUNTIME_DIR"], !xdg.isEmpty, access(xdg, W_OK) == 0 { return xdg + "/safebuild" }
        return "/tmp/safebuild-\(getuid())"
    }

    /// Runs `body` for `name` unless it ran host-wide less than `cooldown` seconds ago. Never throws: when the lock
    /// cannot be had the remedy is skipped with the reason.
    package func perform(
        _ name: RemedyName, waiting: LockWaiting = .quiet, body: () -> RemedyReport
    ) -> RemedyReport {
        let opened: RuntimeState.Opened
        switch state.open(Self.fileName) {
        case .success(let o): opened = o
        case .failure(let problem): return .skip(name, "cannot use the remedies' lock: \(problem)")
        }
        let fd = opened.fd
        let statePath = opened.path
        defer { close(fd) }
        let started = Clock.now()
        var announced = false
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR else {
                return .skip(name, "cannot lock \(statePath): \(String(cString: strerror(errno)))")
            }
            let waited = Clock.now() - started
            if waited >= lockTimeout {
                let who = Self.holder(of: fd).map { " (\($0))" } ?? ""
                return .skip(name, "another safebuild\(who) held \(statePath) for over \(Int(lockTimeout)) s")
            }
            if !announced, waited >= waiting.noticeAfter {
                announced = true
                let who = Self.holder(of: fd).map { ", held by \($0)" } ?? ""
                waiting.say(
                    "waiting for the host-wide remedy lock \(statePath) to run \(name.rawValue)\(who); at most \(Int(lockTimeout)) s, Ctrl-C or SIGTERM ends the wait")
            }
            if let signal = waiting.sleep(min(0.05, max(0.001, lockTimeout - waited))) {
                var report = RemedyReport.skip(
                    name,
                    "interrupted by \(ConsoleReport.signalName(signal)) while waiting for the host-wide remedy lock \(statePath)")
                report.interruptedBy = signal
                return report
            }
        }
        defer { flock(fd, LOCK_UN) }

        var entries = Self.parse(Self.readAll(fd))
        let t = now()
        if let last = entries[name.rawValue], t - last.time < cooldown, t >= last.time {
            let ago = Int((t - last.time).rounded())
            let whose = last.pid == getpid() ? "for this build" : "for another build"
            return .skip(name, "ran \(ago) s ago \(whose)")
        }
        let report = body()
        if report.ran {
            entries[name.rawValue] = Entry(time: now(), pid: getpid())
            Self.writeAll(fd, Self.format(entries))
        }
        return report
    }

    /// Who holds a flock on the file of `fd`, from /proc/locks (`pid 1234 (safebuild)`); nil when unknown.
    static func holder(of fd: Int32) -> String? {
        var info = stat()
        guard fstat(fd, &info) == 0, case .success(let bytes) = BoundedFile.read("/proc/locks", limit: 1 << 20) else {
            return nil
        }
        // "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF"; a waiter's line has "->" after the number.
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6, fields[1] == "FLOCK", let pid = Int32(fields[4]) else { continue }
            guard let inode = fields[5].split(separator: ":").last, UInt64(inode) == UInt64(info.st_ino) else {
                continue
            }
            let comm = (try? BoundedFile.read("/proc/\(pid)/comm", limit: 64).get())
                .map { String(decoding: $0, as: UTF8.self).trimmingWhitespace() } ?? ""
            return "pid \(pid)" + (comm.isEmpty ? "" : " (\(comm))")
        }
        return nil
    }

    struct Entry: Equatable {
        var time: Double
        var pid: Int32
    }

    /// One line per remedy: `NAME WALL_SECONDS PID`.
    static func parse(_ text: String) -> [String: Entry] {
        var out: [String: Entry] = [:]
        for line in text.split(separator: "\n") {
            let f = line.split(separator: " ")
            guard f.count == 3, let time = Double(f[1]), let pid = Int32(f[2]) else { continue }
            out[String(f[0])] = Entry(time: time, pid: pid)
        }
        return out
    }

    static func format(_ entries: [String: Entry]) -> String {
        entries.keys.sorted().map { "\($0) \(entries[$0]!.time) \(entries[$0]!.pid)\n" }.joined()
    }

    static func readAll(_ fd: Int32) -> String { StateFileText.read(fd, limit: 1 << 16) }

    static func writeAll(_ fd: Int32, _ text: String) { StateFileText.replace(fd, with: text) }
}

/// How a wait for the host-wide lock passes: sleeps that a termination signal ends, and what it says.
package struct LockWaiting {
    /// Sleeps up to the seconds given; returns the termination signal that ended the sleep early, if one did.
    package var sleep: (Double) -> Int32?
    /// Says one line on stderr.
    package var say: (String) -> Void
    /// Seconds of waiting before it says so.
    package var noticeAfter: Double

    package init(sleep: @escaping (Double) -> Int32?, say: @escaping (String) -> Void, noticeAfter: Double = 1) {
        self.sleep = sleep
        self.say = say
        self.noticeAfter = noticeAfter
    }

    /// Plain sleeps, nothing said.
    package static var quiet: LockWaiting {
        LockWaiting(
        sleep: { seconds in
            var ts = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - Double(Int(seconds))) * 1e9))
            nanosleep(&ts, nil)
            return nil
        }, say: { _ in }, noticeAfter: .infinity)
    }

    /// Sleeps on the signalfd (`SignalInbox`), saying on stderr (`Console.say`).
    package static func signals(_ inbox: SignalInbox) -> LockWaiting {
        LockWaiting(sleep: { inbox.sleep(seconds: $0) }, say: { Console.say($0) })
    }
}

extension Remedies {
    /// Runs the remedies of one ladder step in order, those that act on the whole host (prunes, drop_caches,
    /// compact_memory) through `lock`; wait_for_memory waits for this build alone. raise_memory is left to the
    /// caller. Stops after a wait that a termination signal ended. A remedy that needs root, asked for by a
    /// safebuild that is not root, goes to the privileged entry without the lock: the entry takes the host-wide lock
    /// and cooldown itself, as root (holding the lock here would make it wait for us).
    package func run(_ names: [RemedyName], lock: HostLock?, waiting: LockWaiting = .quiet) -> [RemedyReport] {
        var reports: [RemedyReport] = []
        for name in names where name != .raiseMemory {
            let report: RemedyReport
            switch name {
            case _ where name.needsRoot && !context.isRoot:
                report = run(name)
            case .pruneBuildCache, .pruneDanglingImages, .freeDisk, .dropCaches, .compactMemory:
                report = lock.map { $0.perform(name, waiting: waiting) { run(name) } } ?? run(name)
            default:
                report = run(name)
            }
            reports.append(report)
            if report.interruptedBy != nil { break }
        }
        return reports
    }
}
