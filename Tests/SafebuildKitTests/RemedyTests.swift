import Glibc
import Testing

@testable import SafebuildKit

/// A recording fake: docker answers and /proc files from tables, every call written down.
final class RecordingContext: RemedyContext {
    var calls: [String] = []
    var dockerAnswers: [String: (Int32, String)] = [:]
    var files: [String: String] = [:]
    var writeErrors: [String: Int32] = [:]
    var available: [UInt64] = [1 << 30]
    var clock = 0.0
    var signalAfterSleeps: Int?
    var root = true
    /// What a wait wrote on stderr.
    var progressWritten: [String] = []

    func progress(_ text: String) { progressWritten.append(text) }

    func docker(_ arguments: [String], timeout: Double) -> Command.Result? {
        let key = arguments.joined(separator: " ")
        calls.append("docker " + key)
        let (status, out) = dockerAnswers[key] ?? (0, "")
        return Command.Result(status: .exited(status), stdout: out, stderr: status == 0 ? "" : out)
    }

    func readFile(_ path: String) -> Result<String, FileError> {
        calls.append("read " + path)
        return files[path].map { .success($0) } ?? .failure(FileError(ENOENT))
    }

    func writeFile(_ path: String, _ contents: String) -> Result<Void, FileError> {
        calls.append("write \(path) \(contents)")
        if let e = writeErrors[path] { return .failure(FileError(e)) }
        return .success(())
    }

    /// What sync() takes on the fake clock.
    var syncSeconds = 0.0

    func sync() {
        calls.append("sync")
        clock += syncSeconds
    }

    func sleep(seconds: Double) -> Int32? {
        calls.append("sleep \(seconds)")
        clock += seconds
        if let n = signalAfterSleeps {
            if n <= 1 { return SIGTERM }
            signalAfterSleeps = n - 1
        }
        return nil
    }

    func now() -> Double { clock }

    func availableMemory() -> UInt64? {
        let v = available.first
        if available.count > 1 { available.removeFirst() }
        return v
    }

    var isRoot: Bool { root }

    /// What dataRootFree answers, one figure per call (the last repeats); empty: not known.
    var diskFree: [UInt64] = []
    var diskTotal: UInt64 = 150 << 20

    func dataRootFree() -> (free: UInt64, total: UInt64)? {
        calls.append("disk free")
        guard let v = diskFree.first else { return nil }
        if diskFree.count > 1 { diskFree.removeFirst() }
        return (v, diskTotal)
    }

    /// What the privileged entry answers per remedy (default: the skip of a host without a sudoers rule).
    var asRoot: [RemedyName: RemedyReport] = [:]

    func runAsRoot(_ name: RemedyName) -> RemedyReport {
        calls.append("as root " + name.rawValue)
        return asRoot[name] ?? .skip(name, PrivilegedEntry.needsRoot(name, binary: "/usr/local/bin/safebuild", sudo: "/usr/bin/sudo"))
    }
}

@Suite struct RemedyTests {
    static let df = "system df --format {{.Type}}|{{.Size}}"

    @Test func pruneBuildCacheRecordsBytesReclaimed() {
        let ctx = RecordingContext()
        ctx.dockerAnswers[Self.df] = (0, "Images|2.582MB\nContainers|0B\nLocal Volumes|0B\nBuild Cache|4.1MB\n")
        ctx.dockerAnswers["builder prune -f --keep-storage 1mb"] = (0, "Deleted build cache objects:\nabc\n\nTotal reclaimed space: 3.1MB\n")
        let report = Remedies(context: ctx, settings: RemedySettings(keepStorage: "1mb")).run(.pruneBuildCache)
        #expect(report.ran)
        #expect(report.before["build_cache_bytes"] == 4_100_000)
        #expect(report.after["reclaimed_bytes"] == 3_100_000)
        #expect(ctx.calls.contains("docker builder prune -f --keep-storage 1mb"))
        #expect(!ctx.calls.contains { $0.contains("-a") || $0.contains("--all") })
    }

    @Test func pruneByAge() {
        let ctx = RecordingContext()
        _ = Remedies(context: ctx, settings: RemedySettings(keepStorage: nil, pruneUntil: "24h")).run(.pruneBuildCache)
        #expect(ctx.calls.contains("docker builder prune -f --filter until=24h"))
    }

    @Test func pruneDanglingImagesOnlyDangling() {
        let ctx = RecordingContext()
        ctx.dockerAnswers["image prune -f"] = (0, "Total reclaimed space: 300kB\n")
        let report = Remedies(context: ctx).run(.pruneDanglingImages)
        #expect(report.after["reclaimed_bytes"] == 300_000)
        #expect(ctx.calls.contains("docker image prune -f"))
    }

    @Test func dockerFailureIsASkipNotAnError() {
        let ctx = RecordingContext()
        ctx.dockerAnswers["image prune -f"] = (1, "Error response from daemon: a prune operation is already running")
        let report = Remedies(context: ctx).run(.pruneDanglingImages)
        #expect(!report.ran)
        #expect(report.skipped?.contains("a prune operation is already running") == true)
    }

    @Test func dropCachesSyncsFirstAndWritesOne() {
        let ctx = RecordingContext()
        ctx.available = [100 << 20, 400 << 20]
        let report = Remedies(context: ctx).run(.dropCaches)
        #expect(report.ran)
        #expect(ctx.calls.filter { $0 == "sync" || $0.hasPrefix("write") } == ["sync", "write /proc/sys/vm/drop_caches 1"])
        #expect(report.before["mem_available_bytes"] == 100 << 20)
        #expect(report.after["mem_available_bytes"] == 400 << 20)
    }

    @Test(arguments: [RemedyName.dropCaches, .compactMemory])
    func procRemediesSkipWithoutRootOrPermission(name: RemedyName) {
        let notRoot = RecordingContext()
        notRoot.root = false
        let a = Remedies(context: notRoot).run(name)
        #expect(!a.ran)
        #expect(a.skipped == "needs root, and no sudoers rule lets this user run '/usr/local/bin/safebuild remedy' without a password: allow it with Scripts/install.sh --with-sudo")
        // No figures (no /proc/meminfo or /proc/buddyinfo here): the entry is asked, as the ladder says.
        #expect(notRoot.calls == ["read " + (name == .dropCaches ? MemInfo.path : "/proc/buddyinfo"), "as root " + name.rawValue])

        let denied = RecordingContext()
        denied.writeErrors = ["/proc/sys/vm/drop_caches": EACCES, "/proc/sys/vm/compact_memory": ENOENT]
        let b = Remedies(context: denied).run(name)
        #expect(!b.ran)
        #expect(b.skipped?.contains(name == .dropCaches ? "Permission denied" : "No such file") == true)
    }

    /// Not root: the remedies that need root go to the privileged entry, without the host-wide lock (the entry takes
    /// it as root; holding it here would make the entry wait for us); the prunes go through the lock.
    @Test func aMemberAsksThePrivilegedEntryWithoutHoldingTheLock() throws {
        let dir = HostLockTests.temporaryDirectory()
        let ctx = RecordingContext()
        ctx.root = false
        ctx.asRoot[.dropCaches] = RemedyReport(name: .dropCaches, ran: true, via: "sudo")
        let lock = HostLock(directory: dir, cooldown: 60)
        // The lock is held by another open file description for the whole run: a remedy under it would wait.
        let holder = open(dir + "/remedies.state", O_RDWR | O_CREAT, 0o600)
        #expect(flock(holder, LOCK_EX) == 0)
        defer { close(holder) }
        var waited = lock
        waited.lockTimeout = 0.2
        let reports = Remedies(context: ctx).run([.dropCaches, .compactMemory, .pruneDanglingImages], lock: waited)
        #expect(reports.map(\.name) == [.dropCaches, .compactMemory, .pruneDanglingImages])
        #expect(reports[0].ran && reports[0].via == "sudo")
        #expect(reports[1].skipped?.hasPrefix("needs root, and no sudoers rule") == true)
        #expect(reports[2].skipped?.hasPrefix("another safebuild (pid \(getpid())") == true)
        #expect(ctx.calls == ["read /proc/meminfo", "as root drop_caches", "read /proc/buddyinfo", "as root compact_memory"])
    }

    @Test func compactMemoryReportsHighOrderFreeMemory() {
        let ctx = RecordingContext()
        // Real /proc/buddyinfo format (mm/vmstat.c frag_show_print).
        ctx.files["/proc/buddyinfo"] = "Node 0, zone      DMA      1      1      0      0      2      1      1      0      1      1      3 \nNode 0, zone    DMA32      4      3      4      2      0      0      0      0      0      0      0 \n"
        let report = Remedies(context: ctx).run(.compactMemory)
        #expect(report.ran)
        // DMA: orders 3..10 → 0·8 + 2·16 + 1·32 + 1·64 + 0 + 1·256 + 1·512 + 3·1024 = 3968 pages; DMA32: 2·8 = 16.
        let expected: Int64 = (3968 + 16) * 4096
        #expect(report.before["high_order_free_bytes"] == expected)
        #expect(ctx.calls.contains("write /proc/sys/vm/compact_memory 1"))
    }

    @Test func waitForMemoryEndsWhenMemoryRecovers() {
        let ctx = RecordingContext()
        ctx.available = [100 << 20, 200 << 20, 600 << 20]
        let report = Remedies(context: ctx, settings: RemedySettings(waitForAvailable: 512 << 20, waitTimeout: 30)).run(.waitForMemory)
        #expect(report.ran)
        #expect(report.detail == "recovered to 600 MiB")
        #expect(ctx.calls.filter { $0.hasPrefix("sleep") }.count == 2)
        #expect(report.duration == 2)
    }

    @Test func waitForMemoryIsBounded() {
        let ctx = RecordingContext()
        ctx.available = [100 << 20]
        let report = Remedies(context: ctx, settings: RemedySettings(waitForAvailable: 512 << 20, waitTimeout: 5)).run(.waitForMemory)
        #expect(report.detail?.hasPrefix("timed out after 5 s") == true)
        #expect(report.duration == 5)
    }

    @Test func aTerminationSignalEndsTheWaitAndTheLadder() {
        let ctx = RecordingContext()
        ctx.available = [100 << 20]
        ctx.signalAfterSleeps = 2
        let reports = Remedies(context: ctx, settings: RemedySettings(waitForAvailable: 512 << 20, waitTimeout: 60))
            .run([.waitForMemory, .pruneBuildCache], lock: nil)
        #expect(reports.count == 1)
        #expect(reports[0].interruptedBy == SIGTERM)
        #expect(!ctx.calls.contains { $0.contains("builder prune") })
        // Said once when the wait began (not a terminal: one line, not one per poll); the report says what it was for.
        #expect(ctx.progressWritten == [
            "safebuild: waiting for MemAvailable to reach 512 MiB (wait_for_memory), 100 MiB available now; at most 1m, Ctrl-C or SIGTERM ends the wait\n"
        ])
        #expect(reports[0].detail == "interrupted by SIGTERM while waiting for MemAvailable to reach 512 MiB (wait_for_memory), 100 MiB available after 2s")
    }

    @Test(arguments: [
        ("512m", "1g"), ("3g", "6g"), ("6g", "8g"), ("100MB", "200m"),
    ])
    func raiseMemoryDoublesUpToTheCap(current: String, expected: String) {
        let (report, value) = Remedies.raiseMemory(current: current, settings: RemedySettings(raiseFactor: 2, raiseCap: 8 << 30))
        #expect(value == expected)
        #expect(report.ran)
    }

    @Test func raiseMemoryAtCapOrWithoutLimitIsSkipped() {
        let s = RemedySettings(raiseFactor: 2, raiseCap: 8 << 30)
        #expect(Remedies.raiseMemory(current: "8g", settings: s).value == nil)
        #expect(Remedies.raiseMemory(current: "8g", settings: s).report.skipped?.contains("cap") == true)
        #expect(Remedies.raiseMemory(current: nil, settings: s).report.skipped == "the attempt had no memory limit to raise")
        #expect(Size.bytes("1.5g") == 1_610_612_736)
        #expect(Size.bytes("12x") == nil)
    }

    @Test func humanSizesAsDockerPrintsThem() {
        #expect(Remedies.humanSize("226B") == 226)
        #expect(Remedies.humanSize("2.582MB") == 2_582_000)
        #expect(Remedies.humanSize("1.3GB") == 1_300_000_000)
        #expect(Remedies.humanSize("0B") == 0)
    }
}
