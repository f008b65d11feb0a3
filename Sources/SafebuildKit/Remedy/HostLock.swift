import Glibc

/// Host-wide coordination of remedies between concurrent safebuild processes: one state file in a well-known
/// directory, locked with flock(2) while a remedy runs, recording when each remedy last ran (wall clock) and for which
/// process. A remedy that ran less than `cooldown` seconds ago is skipped, so eight builds failing together prune once.
/// flock locks belong to an open file description, so threads that open the file separately exclude each other too.
package struct HostLock: Sendable {
    package let directory: String
    package var cooldown: Double
    /// The longest wait for another process's remedy to finish.
    package var lockTimeout: Double
    /// Wall-clock seconds (injected in tests).
    package var now: @Sendable () -> Double

    package init(directory: String, cooldown: Double = 60, lockTimeout: Double = 300, now: @escaping @Sendable () -> Double = Clock.wall) {
        self.directory = directory
        self.cooldown = cooldown
        self.lockTimeout = lockTimeout
        self.now = now
    }

    package var statePath: String { directory + "/remedies.state" }

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
    package func perform(_ name: RemedyName, body: () -> RemedyReport) -> RemedyReport {
        if mkdir(directory, 0o755) != 0 && errno != EEXIST {
            return .skip(name, "cannot create the lock directory \(directory): \(String(cString: strerror(errno)))")
        }
        let fd = open(statePath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            return .skip(name, "cannot open \(statePath): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        let deadline = Clock.now() + lockTimeout
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR else {
                return .skip(name, "cannot lock \(statePath): \(String(cString: strerror(errno)))")
            }
            if Clock.now() >= deadline {
                return .skip(name, "another safebuild held \(statePath) for over \(Int(lockTimeout)) s")
            }
            var ts = timespec(tv_sec: 0, tv_nsec: 20_000_000)
            nanosleep(&ts, nil)
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

    static func readAll(_ fd: Int32) -> String {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        var offset: off_t = 0
        while bytes.count < 1 << 16 {
            let n = pread(fd, &buffer, buffer.count, offset)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            bytes.append(contentsOf: buffer[..<n])
            offset += off_t(n)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func writeAll(_ fd: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        _ = ftruncate(fd, 0)
        _ = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    }
}

extension Remedies {
    /// Runs the remedies of one ladder step in order, those that act on the whole host (prunes, drop_caches,
    /// compact_memory) through `lock`; wait_for_memory waits for this build alone. raise_memory is left to the
    /// caller. Stops after a wait that a termination signal ended.
    package func run(_ names: [RemedyName], lock: HostLock?) -> [RemedyReport] {
        var reports: [RemedyReport] = []
        for name in names where name != .raiseMemory {
            let report: RemedyReport
            switch name {
            case .pruneBuildCache, .pruneDanglingImages, .dropCaches, .compactMemory:
                report = lock.map { $0.perform(name) { run(name) } } ?? run(name)
            default:
                report = run(name)
            }
            reports.append(report)
            if report.interruptedBy != nil { break }
        }
        return reports
    }
}
