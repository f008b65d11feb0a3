import Foundation
import Glibc
import SafebuildTestSupport
import Testing

@testable import SafebuildKit

/// Memory admission against a real engine whose containers share one memory cgroup limited to 1 GiB (a private
/// dockerd started with `--cgroup-parent` pointing at it: a small build host), through the safebuild binary. Each
/// test starts its own engine and pool (Scripts/engine.sh), so that nothing else runs in the pool. Needs root, to
/// make the cgroup. Containers use `--network=none`.
extension EngineSuites {
@Suite(.serialized) struct AdmissionEngineTests {
    let engine: TestEngine
    /// The binary under test, installed under a temporary prefix: the policies below are its host policy (the
    /// admission settings, the state directory and the pre-flight checks are host-only keys).
    let installed: InstalledSafebuild
    var safebuild: String { installed.binary }
    let dir: TemporaryDirectory

    init() throws {
        engine = try TestEngine.current()
        installed = try InstalledSafebuild()
        dir = try TemporaryDirectory()
        try dir.directory("state")
    }

    static let m: UInt64 = 1 << 20

    /// `dd` with a 600 MB block: it holds about 600 MB (measured: a 601.7 MiB peak) for `count` blocks, about
    /// 0.27 s each here.
    static func hold600(_ count: Int) -> [String] { ["dd", "if=/dev/zero", "of=/dev/null", "bs=600M", "count=\(count)"] }

    // MARK: - The pool: a 1 GiB cgroup and an engine that puts its containers in it

    final class Pool {
        let name: String
        let directory: String
        let engineDirectory: String
        var host: String { "unix://\(engineDirectory)/docker.sock" }
        let docker: String

        init(docker: String, limit: String = "1G") throws {
            self.docker = docker
            var random: UInt32 = 0
            arc4random_buf(&random, 4)
            name = "sbt-\(getpid())-\(String(random, radix: 36))"
            directory = "/sys/fs/cgroup/memory/" + name
            engineDirectory = "/tmp/" + name
            guard mkdir(directory, 0o755) == 0 else {
                throw TestSetupError("cannot make the cgroup \(directory) (\(String(cString: strerror(errno)))): these tests need root and cgroup v1")
            }
            for file in ["memory.limit_in_bytes", "memory.memsw.limit_in_bytes"] {
                let fd = open(directory + "/" + file, O_WRONLY)
                _ = limit.withCString { write(fd, $0, strlen($0)) }
                close(fd)
            }
            let start = try ProcessRunner.run(
                "/bin/bash",
                [SafebuildBinary.packageRoot() + "/Scripts/engine.sh", "start", engineDirectory, "--dockerd-arg",
                 "--cgroup-parent=/" + name],
                timeout: 90)
            guard start.code == 0 else {
                stop()
                throw TestSetupError("the pool's engine did not start: \(start.stderrText)")
            }
        }

        /// Stops the engine, then removes its directory and the cgroup.
        func stop() {
            _ = try? ProcessRunner.run(
                "/bin/bash", [SafebuildBinary.packageRoot() + "/Scripts/engine.sh", "stop", engineDirectory], timeout: 60)
            _ = try? ProcessRunner.run("/bin/rm", ["-rf", engineDirectory], timeout: 60)
            for _ in 0..<50 where rmdir(directory) != 0 { usleep(100_000) }
        }

        /// The pool's usage in bytes now.
        var usage: UInt64 {
            UInt64(String(decoding: TemporaryDirectory.readFileIfPresent(directory + "/memory.usage_in_bytes"), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        }
    }

    func policy(_ extra: String = "") throws -> String {
        let text = """
            version: 1
            preflight:
              min_available: off
              max_pressure: off
              max_build_cache: off
              min_free_disk: off
              min_free_blocks: off
            retry:
              backoff: {initial: 0.2, max: 0.2, jitter: 0}
            remedies:
              lock_dir: \(dir.path)/state
            \(extra)

            """
        return try dir.write("policy-\(UInt32.random(in: 0...UInt32.max)).yml", Array(text.utf8))
    }

    func environment(_ pool: Pool, policy: String, journal: String) throws -> [String: String] {
        try installed.useAsHostPolicy(policy, journal: journal)
        return engine.environment(["DOCKER_HOST": pool.host, "SAFEBUILD_JOURNAL": journal])
    }

    func start(_ pool: Pool, _ arguments: [String], policy: String, journal: String) throws -> ProcessRunner.Started {
        try ProcessRunner.Started(safebuild, arguments, environment: try environment(pool, policy: policy, journal: journal))
    }

    func run(_ memory: String, _ command: [String], name: String? = nil) -> [String] {
        ["run", "--rm", "-m", memory, "--network=none"] + (name.map { ["--name", $0] } ?? []) + [engine.image] + command
    }

    var ledger: LedgerFile { get throws { try LedgerFile(directory: dir.path + "/state") } }

    /// Polls the ledger until `condition` holds (10 s at most).
    func waitForLedger(_ condition: (Ledger) -> Bool) throws -> Bool {
        let file = try ledger
        return try ProcessRunner.waitUntil(timeout: 10) { condition(try file.read()) }
    }

    // MARK: - Eight jobs in 1 GiB

    /// The schedule: eight `run -m 800m` jobs that really use 600 MB, started at once in a 1 GiB pool.
    /// Plain docker finishes about 1 of 8; safebuild runs them one after another: 8 of 8, no OOM kill, no limit
    /// raised, and a journal that shows each one's peak under its limit.
    @Test func eightJobsInOneGiBAllFinishWithNoLimitRaised() throws {
        let pool = try Pool(docker: engine.docker)
        defer { pool.stop() }
        let policy = try policy()
        let journal = dir.path + "/eight.jsonl"
        let jobs = try (0..<8).map { _ in try start(pool, run("800m", Self.hold600(6)), policy: policy, journal: journal) }
        let results = jobs.map { $0.wait(timeout: 300) }
        #expect(results.map(\.code) == Array(repeating: 0, count: 8), "\(results.map(\.stderrText))")
        let contents = try JournalReader.read(path: journal)
        #expect(contents.invocations.count == 8)
        #expect(contents.invocations.allSatisfy { $0.outcome == .succeeded })
        #expect(contents.attempts.count == 8)
        #expect(contents.attempts.flatMap(\.remedies).filter { $0.name == "raise_memory" }.isEmpty)
        for attempt in contents.attempts {
            #expect(attempt.memory?.limitBytes == 800 * Self.m)
            #expect((attempt.memory?.peakBytes ?? 0) > 550 * Self.m, "\(String(describing: attempt.memory))")
            #expect((attempt.memory?.peakBytes ?? .max) < 700 * Self.m)
            #expect(attempt.memory?.oomKills == 0)
            #expect(attempt.memory?.pool == "/" + pool.name)
            #expect(attempt.admission?.budget == "memory limit of cgroup /\(pool.name) (1.0 GiB)")
        }
        // They waited for each other: seven of them said so.
        let waited = contents.attempts.compactMap(\.admission).filter { $0.waitedSeconds > 1 }
        #expect(waited.count == 7)
        #expect(results.filter { $0.stderrText.contains("safebuild: waiting for memory: needs 800 MiB (its memory limit 800m)") }.count == 7)
        #expect(try ledger.read().entries.isEmpty)
    }

    // MARK: - Larger than the budget

    @Test func aJobLargerThanTheBudgetIsRefusedWhenThePolicySays() throws {
        let pool = try Pool(docker: engine.docker)
        defer { pool.stop() }
        let journal = dir.path + "/refused.jsonl"
        let out = try start(pool, run("2g", ["true"]), policy: try policy("admission: {oversize: refuse}"), journal: journal)
            .wait(timeout: 60)
        #expect(out.code == 75)
        #expect(out.stderrText.contains(
            "safebuild: error: memory admission refused to start docker: needs 2 GiB (its memory limit 2g), more than the whole memory budget of 1 GiB (memory limit of cgroup /\(pool.name) (1.0 GiB)), and admission.oversize is refuse"),
            "\(out.stderrText)")
        let contents = try JournalReader.read(path: journal)
        #expect(contents.attempts.isEmpty)
        #expect(contents.invocations.first?.outcome == .refused)
        #expect(try ledger.read().entries.isEmpty)
    }

    /// `oversize: alone`: it waits for the job before it, runs alone, and the job after it waits for it.
    @Test func aJobLargerThanTheBudgetRunsAlone() throws {
        let pool = try Pool(docker: engine.docker)
        defer { pool.stop() }
        let policy = try policy()
        let journal = dir.path + "/alone.jsonl"
        let before = try start(pool, run("512m", ["sleep", "3"]), policy: policy, journal: journal)
        #expect(try waitForLedger { $0.entries.contains { $0.state == .running } })
        let big = try start(pool, run("2g", ["sleep", "2"]), policy: policy, journal: journal)
        #expect(try waitForLedger { $0.entries.contains { $0.state == .waiting && $0.bytes == 2 << 30 } })
        let after = try start(pool, run("64m", ["true"]), policy: policy, journal: journal)
        let results = [before, big, after].map { $0.wait(timeout: 120) }
        #expect(results.map(\.code) == [0, 0, 0], "\(results.map(\.stderrText))")
        #expect(results[1].stderrText.contains("more than the whole 1 GiB budget, so it runs alone once nothing else holds memory"))
        #expect(results[1].stderrText.contains("safebuild: memory admitted after"))
        let attempts = try JournalReader.read(path: journal).attempts.sorted { $0.started < $1.started }
        #expect(attempts.map(\.admission?.requestBytes) == [512 * Self.m, 2 << 30, 64 * Self.m])
        #expect(attempts.map(\.admission?.outcome) == [.admitted, .admittedAlone, .admitted])
        // One after the other: each started after the one before had ended.
        #expect(attempts[1].started >= attempts[0].ended || abs(JournalTime.parse(attempts[1].started)! - JournalTime.parse(attempts[0].ended)!) < 1)
        #expect(JournalTime.parse(attempts[2].started)! >= JournalTime.parse(attempts[1].started)! + 2)
    }

    // MARK: - SIGKILL frees a reservation at once

    @Test func aKilledSafebuildFreesItsReservationAtOnce() throws {
        let pool = try Pool(docker: engine.docker)
        defer { pool.stop() }
        let policy = try policy()
        let journal = dir.path + "/killed.jsonl"
        let name = TestEngine.uniqueName("sba-holder")
        defer { _ = try? ProcessRunner.run(engine.docker, ["-H", pool.host, "rm", "-f", name], timeout: 30) }
        // The holder's container uses almost nothing: only its reservation keeps others out.
        let holder = try start(pool, run("800m", ["sleep", "60"], name: name), policy: policy, journal: journal)
        #expect(try waitForLedger { $0.entries.contains { $0.process.pid == holder.pid && $0.state == .running } })
        // Its container really running (killed between docker's create and start, it would never run).
        #expect(try ProcessRunner.waitUntil(timeout: 30) {
            try !ProcessRunner.run(engine.docker, ["-H", pool.host, "ps", "-q", "--filter", "name=\(name)"], timeout: 30)
                .stdoutText.isEmpty
        })
        let waiter = try start(pool, run("800m", ["true"]), policy: policy, journal: journal)
        #expect(try waitForLedger { $0.entries.contains { $0.process.pid == waiter.pid && $0.state == .waiting } })

        // A waiting safebuild killed: its entry is gone at the next look.
        waiter.send(SIGKILL)
        _ = waiter.wait(timeout: 10)
        #expect(try ledger.read().entries.map(\.process.pid) == [holder.pid])

        // A running one killed: the next command is admitted at once, while the container it left still runs.
        let next = try start(pool, run("800m", ["true"]), policy: policy, journal: journal)
        #expect(try waitForLedger { $0.entries.contains { $0.process.pid == next.pid && $0.state == .waiting } })
        let killedAt = Clock.now()
        holder.send(SIGKILL)
        let result = next.wait(timeout: 60)
        #expect(result.code == 0, "\(result.stderrText)")
        #expect(Clock.now() - killedAt < 10)
        let running = try ProcessRunner.run(engine.docker, ["-H", pool.host, "ps", "-q", "--filter", "name=\(name)"], timeout: 30)
        #expect(!running.stdoutText.isEmpty, "the holder's container outlived its safebuild")
        #expect(try ledger.read().entries.isEmpty)
    }

    // MARK: - 32 at once never hold more than the budget

    @Test func thirtyTwoCommandsNeverHoldMoreThanTheBudget() throws {
        let pool = try Pool(docker: engine.docker)
        defer { pool.stop() }
        let policy = try policy()
        let journal = dir.path + "/many.jsonl"
        let done = ManagedFlag()
        let samples = Samples()
        let state = dir.path + "/state"
        let monitor = Thread {
            guard let file = try? LedgerFile(directory: state) else { return }
            while !done.value {
                if let l = try? file.read() {
                    let running = l.entries.filter { $0.state == .running }
                    samples.append((running.reduce(0) { $0 + $1.bytes }, running.count))
                }
                usleep(5_000)
            }
        }
        monitor.start()
        let jobs = try (0..<32).map { i in
            try start(pool, run(i % 2 == 0 ? "200m" : "300m", ["sleep", "0.2"]), policy: policy, journal: journal)
        }
        let results = jobs.map { $0.wait(timeout: 600) }
        done.value = true
        usleep(50_000)
        #expect(results.allSatisfy { $0.code == 0 }, "\(results.filter { $0.code != 0 }.map(\.stderrText))")
        let seen = samples.all
        #expect(seen.count > 100)
        #expect(seen.allSatisfy { $0.reserved <= 1 << 30 }, "most reserved: \(seen.map(\.reserved).max() ?? 0)")
        // They did run side by side where they fitted.
        #expect((seen.map(\.running).max() ?? 0) >= 2)
        #expect(try JournalReader.read(path: journal).invocations.count == 32)
    }

    // MARK: - A container started by plain docker

    @Test func aContainerOfPlainDockerDelaysAdmission() throws {
        let pool = try Pool(docker: engine.docker)
        defer { pool.stop() }
        let journal = dir.path + "/plain.jsonl"
        let plain = try ProcessRunner.run(
            engine.docker, ["-H", pool.host, "run", "-d", "-m", "800m", "--network=none", engine.image] + Self.hold600(16),
            timeout: 60)
        #expect(plain.code == 0, "\(plain.stderrText)")
        let id = plain.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        defer { _ = try? ProcessRunner.run(engine.docker, ["-H", pool.host, "rm", "-f", id], timeout: 30) }
        #expect(ProcessRunner.waitUntil(timeout: 20) { pool.usage > 500 * Self.m })
        let out = try start(pool, run("800m", ["true"]), policy: try policy(), journal: journal).wait(timeout: 120)
        #expect(out.code == 0, "\(out.stderrText)")
        #expect(out.stderrText.contains("safebuild: waiting for memory: needs 800 MiB (its memory limit 800m); "))
        #expect(out.stderrText.contains("0 running, 0 waiting ahead"))
        let waitedFor = try ProcessRunner.run(engine.docker, ["-H", pool.host, "wait", id], timeout: 60)
        #expect(waitedFor.stdoutText == "0\n", "the plain container was not killed")
        let attempt = try #require(JournalReader.read(path: journal).attempts.first)
        #expect((attempt.admission?.waitedSeconds ?? 0) > 1)
        #expect((attempt.admission?.freeBytes ?? .max) < 500 * Self.m)
    }

    // MARK: - Waits end on SIGINT and SIGTERM

    /// A small budget (admission.budget 256m in the host policy) held by another protected run that sleeps: the
    /// second one says what it waits for, and SIGTERM ends its wait at once: exit 143, docker never started (no
    /// container of its name), its ledger entry gone, the journal says what it waited for; the holder runs on.
    @Test func anAdmissionWaitEndsOnSIGTERM() throws {
        let pool = try Pool(docker: engine.docker)
        defer { pool.stop() }
        let policy = try policy("admission:\n  budget: 256m")
        let journal = dir.path + "/admission-sigterm.jsonl"
        let holderName = TestEngine.uniqueName("sba-hold")
        let waiterName = TestEngine.uniqueName("sba-wait")
        defer { _ = try? ProcessRunner.run(engine.docker, ["-H", pool.host, "rm", "-f", holderName], timeout: 30) }
        let holder = try start(pool, run("200m", ["sleep", "60"], name: holderName), policy: policy, journal: journal)
        #expect(try waitForLedger { $0.entries.contains { $0.process.pid == holder.pid && $0.state == .running } })
        let waiter = try start(pool, run("200m", ["true"], name: waiterName), policy: policy, journal: journal)
        let told = ProcessRunner.waitUntil(timeout: 30) { waiter.stderrSoFar.contains("safebuild: waiting for memory: ") }
        #expect(told, "\(waiter.stderrSoFar)")
        // The free figure is the budget less the holder's 200 MiB reservation (and any use above it): about 56 MiB.
        #expect(waiter.stderrSoFar.contains("safebuild: waiting for memory: needs 200 MiB (its memory limit 200m); "))
        #expect(waiter.stderrSoFar.contains(" of the 256 MiB budget free; 1 running, 0 waiting ahead"), "\(waiter.stderrSoFar)")
        let (result, took) = waiter.signalAndWait(SIGTERM)
        #expect(!result.timedOut)
        #expect(took < 1, "ended \(took) s after SIGTERM")
        #expect(result.code == 128 + SIGTERM)
        let invocation = try #require(JournalReader.read(path: journal).invocations.last { $0.outcome == .aborted })
        #expect(invocation.attempts == 0)
        #expect(invocation.exitStatus == 128 + SIGTERM)
        let why = try #require(invocation.interrupted)
        #expect(why.hasPrefix("interrupted by SIGTERM while waiting for memory admission: needs 200 MiB (its memory limit 200m), "), "\(why)")
        #expect(why.contains(" of the 256 MiB budget free, 1 running, after "), "\(why)")
        #expect(result.stderrText.contains("safebuild: \(why); docker was not started"), "\(result.stderrText)")
        let left = try ProcessRunner.run(
            engine.docker, ["-H", pool.host, "ps", "-a", "--filter", "name=\(waiterName)", "--format", "{{.Names}}"], timeout: 30)
        #expect(left.code == 0 && left.stdoutText.isEmpty, "\(left.stdoutText)")
        #expect(try ledger.read().entries.map(\.process.pid) == [holder.pid])
        #expect(!holder.hasExited)
        holder.send(SIGTERM)
        _ = holder.wait(timeout: 30)
    }

    /// The ledger's own lock, held by another process (this test, with flock): after a second the run says what it
    /// waits for and who holds it, and SIGINT ends the wait at once: exit 130, docker never started, the journal
    /// says so.
    @Test func aWaitForTheLedgerLockEndsOnSIGINT() throws {
        let pool = try Pool(docker: engine.docker)
        defer { pool.stop() }
        let policy = try policy()
        let journal = dir.path + "/ledger-lock.jsonl"
        let name = TestEngine.uniqueName("sba-lock")
        let file = try ledger
        let holder = open(file.path, O_RDWR | O_CLOEXEC)
        #expect(holder >= 0)
        #expect(flock(holder, LOCK_EX) == 0)
        defer { close(holder) }
        let process = try start(pool, run("200m", ["true"], name: name), policy: policy, journal: journal)
        let told = ProcessRunner.waitUntil(timeout: 30) { process.stderrSoFar.contains("waiting for the lock of the admission ledger") }
        #expect(told, "\(process.stderrSoFar)")
        #expect(process.stderrSoFar.contains(
            "safebuild: waiting for the lock of the admission ledger \(file.path), held by pid \(getpid())"),
            "\(process.stderrSoFar)")
        #expect(process.stderrSoFar.contains("; Ctrl-C or SIGTERM ends the wait"))
        let (result, took) = process.signalAndWait(SIGINT)
        #expect(!result.timedOut)
        #expect(took < 1, "ended \(took) s after SIGINT")
        #expect(result.code == 128 + SIGINT)
        let invocation = try #require(JournalReader.read(path: journal).invocations.last)
        #expect(invocation.outcome == .aborted)
        #expect(invocation.attempts == 0)
        #expect(invocation.exitStatus == 128 + SIGINT)
        let why = try #require(invocation.interrupted)
        #expect(why.hasPrefix("interrupted by SIGINT while waiting for the lock of the admission ledger \(file.path) after "), "\(why)")
        #expect(result.stderrText.contains("safebuild: \(why); docker was not started"), "\(result.stderrText)")
        let left = try ProcessRunner.run(
            engine.docker, ["-H", pool.host, "ps", "-a", "--filter", "name=\(name)", "--format", "{{.Names}}"], timeout: 30)
        #expect(left.code == 0 && left.stdoutText.isEmpty, "\(left.stdoutText)")
    }
}
}

/// A flag one thread sets and another reads.
final class ManagedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var raw = false
    var value: Bool {
        get { lock.withLock { raw } }
        set { lock.withLock { raw = newValue } }
    }
}

/// The ledger's samples, taken on another thread.
final class Samples: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [(reserved: UInt64, running: Int)] = []
    func append(_ sample: (reserved: UInt64, running: Int)) { lock.withLock { list.append(sample) } }
    var all: [(reserved: UInt64, running: Int)] { lock.withLock { list } }
}
