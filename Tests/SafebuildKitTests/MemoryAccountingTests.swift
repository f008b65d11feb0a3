import Glibc
import SafebuildTestSupport
import Testing

@testable import SafebuildKit

/// Which limit killed an attempt, what an attempt's cgroups showed, and what the journal learns from them.
@Suite struct MemoryAccountingTests {
    static let m: UInt64 = 1 << 20

    // MARK: The kernel's own record

    /// Real `oom-kill:` records from this host's 1 GiB test pool (`--cgroup-parent=/sbadm`): a container over its
    /// own `-m 100m` (oom_memcg is its own cgroup), then one of two `-m 800m` containers holding 600 MB each
    /// (oom_memcg is the pool).
    @Test func theKernelNamesTheLimitThatWasHit() throws {
        let records = try KernelLog.records(AdmissionFixture.text("kmsg-v1-own-and-pool-oom.txt"))
        let kills = KernelLog.oomKills(records, bootTime: nil)
        #expect(kills.count == 2)
        let own = try #require(kills.first), pool = try #require(kills.last)
        #expect(own.limitCgroup == own.cgroup)
        #expect(own.cgroup?.hasPrefix("/sbadm/9370de7d") == true)
        #expect(pool.limitCgroup == "/sbadm")
        #expect(pool.cgroup?.hasPrefix("/sbadm/e50f29fe") == true)
        #expect(pool.anonRSS == 590592 * 1024)

        let memory = AttemptMemory(pool: "/sbadm", peakBytes: 600 * Self.m, limitBytes: 800 * Self.m, containers: 1)
        let byKernel = kills.map { OOMDiagnosis.KernelKill(taskCgroup: $0.cgroup!, limitCgroup: $0.limitCgroup) }
        #expect(OOMDiagnosis.diagnose(memory, kernel: [byKernel[0]], pool: "/sbadm")?.cause == .ownLimit)
        let verdict = try #require(OOMDiagnosis.diagnose(memory, kernel: [byKernel[1]], pool: "/sbadm"))
        #expect(verdict.cause == .poolPressure)
        #expect(verdict.sentence
            == "killed by pressure on the shared pool: the kernel's OOM record names /sbadm's limit, not its own; peak 600 MiB, below its own limit 800 MiB")
    }

    // MARK: The cgroups' figures

    @Test(arguments: [
        // its own limit reached (the peak sits just under it: the kernel reclaimed before it killed)
        ("peak at the limit", AttemptMemory(peakBytes: 799 * m, limitBytes: 800 * m, containers: 1), OOMCause?.some(.ownLimit)),
        // v2: its own cgroup counted a hit of its own limit
        ("own limit hit", AttemptMemory(peakBytes: 300 * m, limitBytes: 800 * m, limitHits: 1, containers: 1), .ownLimit),
        // 600m of 800m while the pool was at its 1 GiB limit: the pool
        ("pool full", AttemptMemory(peakBytes: 600 * m, limitBytes: 800 * m, poolPeakBytes: 1020 * m, poolLimitBytes: 1024 * m, containers: 1),
         .poolPressure),
        // v2: the pool's own limit was hit during the attempt
        ("pool limit hit", AttemptMemory(peakBytes: 600 * m, limitBytes: 800 * m, poolLimitHits: 2, containers: 1), .poolPressure),
        // no limit of its own: it cannot have hit one
        ("no own limit", AttemptMemory(peakBytes: 600 * m, containers: 1), .poolPressure),
        // nothing says which: as before (its own limit is raised)
        ("unknown", AttemptMemory(peakBytes: 300 * m, limitBytes: 800 * m, poolPeakBytes: 400 * m, poolLimitBytes: 1024 * m, containers: 1), nil),
        ("not seen", AttemptMemory(containers: 0, notMeasured: "gone"), nil),
        // v1 counts the pool's kill in the victim's own oom_kill: that alone says nothing about which limit
        ("v1 own counter", AttemptMemory(peakBytes: 300 * m, limitBytes: 800 * m, oomKills: 1, poolOOMKills: 0, containers: 1), nil),
    ] as [(String, AttemptMemory, OOMCause?)])
    func diagnosis(_ what: String, memory: AttemptMemory, cause: OOMCause?) {
        #expect(OOMDiagnosis.diagnose(memory, kernel: [], pool: "/sbbench")?.cause == cause, "\(what)")
    }

    @Test func theSentencesGiveTheFigures() throws {
        let pool = try #require(OOMDiagnosis.diagnose(
            AttemptMemory(peakBytes: 600 * Self.m, limitBytes: 800 * Self.m, poolPeakBytes: 1024 * Self.m, poolLimitBytes: 1024 * Self.m, containers: 1),
            kernel: [], pool: "/sbbench"))
        #expect(pool.sentence
            == "killed by pressure on the shared pool, not its own limit: peak 600 MiB, below its own limit 800 MiB, while the pool /sbbench reached 1 GiB of its 1 GiB limit")
        let own = try #require(OOMDiagnosis.diagnose(
            AttemptMemory(peakBytes: 16 * Self.m, limitBytes: 16 * Self.m, containers: 1), kernel: [], pool: "/docker"))
        #expect(own.sentence == "reached its own memory limit: peak 16 MiB of its own limit 16 MiB")
    }

    // MARK: Following an attempt's cgroups

    /// A cgroup tree made of plain files (the same names and contents the kernel's have): a `run` container found
    /// through its cidfile, a build's RUN steps through ` ---> Running in ID`.
    @Test func theWatchFollowsTheAttemptsContainers() throws {
        let dir = try TemporaryDirectory()
        let root = try dir.directory("memory")
        _ = try dir.directory("memory/pool")
        func files(_ path: String, usage: UInt64, peak: UInt64, limit: UInt64, kills: Int) throws {
            try dir.write(path + "/memory.usage_in_bytes", Array("\(usage)\n".utf8))
            try dir.write(path + "/memory.max_usage_in_bytes", Array("\(peak)\n".utf8))
            try dir.write(path + "/memory.limit_in_bytes", Array("\(limit)\n".utf8))
            try dir.write(path + "/memory.oom_control", Array("oom_kill_disable 0\nunder_oom 0\noom_kill \(kills)\n".utf8))
        }
        try files("memory/pool", usage: 700 * Self.m, peak: 1000 * Self.m, limit: 1024 * Self.m, kills: 0)
        let pool = EnginePool(
            daemon: nil, driver: .cgroupfs, version: .v1, root: root, parent: EngineCgroupParent(path: "/pool", source: ""),
            driverSource: "")

        // docker creates the cidfile empty and writes the id once the engine has created the container; the one
        // follower reads it and removes safebuild's own, and the watch is handed the id (it never reads the file).
        let id = "6f1c1d8b8e2a" + String(repeating: "0", count: 52)
        let cid = try dir.write("cid", [])
        let follower = CIDFileFollower(path: cid, removes: true)
        let run = MemoryWatch(pool: pool, poolLimit: 1024 * Self.m, notMeasured: nil)
        #expect(follower.poll() == nil)
        run.tick()
        _ = try dir.write("cid", Array(id.utf8))
        let read = try #require(follower.poll())
        #expect(read == id)
        #expect(access(cid, F_OK) != 0)
        run.observe(container: read)
        run.tick()
        _ = try dir.directory("memory/pool/" + id)
        try files("memory/pool/" + id, usage: 600 * Self.m, peak: 610 * Self.m, limit: 800 * Self.m, kills: 0)
        run.tick()
        try files("memory/pool", usage: 1020 * Self.m, peak: 1024 * Self.m, limit: 1024 * Self.m, kills: 0)
        run.tick()
        // The container's cgroup goes when it stops: the last reading stands.
        _ = unlink(dir.path + "/memory/pool/\(id)/memory.usage_in_bytes")
        rmdir(dir.path + "/memory/pool/" + id)
        let memory = run.finish()
        #expect(memory == AttemptMemory(
            pool: "/pool", peakBytes: 610 * Self.m, limitBytes: 800 * Self.m, oomKills: 0, poolOOMKills: 0,
            poolPeakBytes: 1020 * Self.m, poolLimitBytes: 1024 * Self.m, containers: 1))
        #expect(run.cgroupPaths == ["/pool/" + id])

        let step = "abcdef012345" + String(repeating: "9", count: 52)
        let build = MemoryWatch(pool: pool, poolLimit: 1024 * Self.m, notMeasured: nil)
        let lines = ["Step 2/2 : RUN make", " ---> Running in abcdef012345", " ---> Running in abcdef012345"]
        for id in lines.compactMap(DockerExit.buildContainer) { build.observe(container: id) }
        _ = try dir.directory("memory/pool/" + step)
        try files("memory/pool/" + step, usage: 200 * Self.m, peak: 300 * Self.m, limit: 512 * Self.m, kills: 1)
        let steps = build.finish()
        #expect(steps.containers == 1)
        #expect(steps.peakBytes == 300 * Self.m)
        #expect(steps.oomKills == 1)
        #expect(build.cgroupPaths == ["/pool/" + step])

        let buildKit = MemoryWatch(pool: pool, poolLimit: nil, notMeasured: "BuildKit")
        #expect(buildKit.finish().notMeasured == "BuildKit")
        #expect(MemoryWatch(pool: pool, poolLimit: nil, notMeasured: nil).finish().notMeasured
            == "no container of this attempt was seen")
    }

    // MARK: What the journal learns

    static func journal(_ runs: [(image: String, job: String?, peaks: [UInt64?], oom: OOMCause?)]) -> JournalContents {
        var contents = JournalContents()
        for (n, run) in runs.enumerated() {
            let id = "20261126-1200\(String(format: "%02d", n))-abcdef"
            for (a, peak) in run.peaks.enumerated() {
                var attempt = AttemptRecord(
                    invocation: id, attempt: a + 1, started: "2026-11-26T12:00:00.000Z", ended: "2026-11-26T12:00:01.000Z",
                    durationSeconds: 1, argv: [], exitStatus: a == run.peaks.count - 1 ? 0 : 137, decision: "")
                attempt.memory = AttemptMemory(peakBytes: peak, limitBytes: 800 * Self.m, containers: 1)
                if a < run.peaks.count - 1 {
                    attempt.failureClass = "oom_container"
                    attempt.memory?.oomCause = run.oom
                }
                contents.records.append(.attempt(attempt))
            }
            contents.records.append(.invocation(InvocationRecord(
                id: id, started: "2026-11-26T12:00:00.000Z", ended: "2026-11-26T12:00:02.000Z", durationSeconds: 2, host: "h",
                user: "u", uid: 0, cwd: "/", command: "run", argv: [], executedArgv: [], image: run.image,
                outcome: run.peaks.count > 1 ? .succeededAfterRetry : .succeeded, attempts: run.peaks.count, exitStatus: 0,
                ci: run.job.map { JournalCI(jobName: $0) })))
        }
        return contents
    }

    @Test func profilesPerImageAndJob() throws {
        let contents = Self.journal([
            ("node:20", "web/main", [100 * Self.m], nil),
            ("node:20", "web/main", [300 * Self.m], nil),
            ("node:20", "web/main", [800 * Self.m, 500 * Self.m], .ownLimit),
            ("node:20", nil, [200 * Self.m], nil),
            ("maven:3", "api", [600 * Self.m, 610 * Self.m], .poolPressure),
        ])
        let (images, jobs) = MemoryProfile.profiles(contents)
        #expect(images.map(\.name) == ["maven:3", "node:20"])
        let node = try #require(images.last)
        #expect(node.runs == 4)
        #expect(node.peaks == [100 * Self.m, 200 * Self.m, 300 * Self.m, 500 * Self.m])
        #expect(node.p50 == 200 * Self.m)
        #expect(node.p95 == 500 * Self.m)
        #expect(node.max == 500 * Self.m)
        #expect(node.oomKills == 1 && node.ownLimitKills == 1 && node.poolKills == 0)
        #expect(images.first?.poolKills == 1)
        #expect(jobs.map(\.name) == ["api", "web/main"])
        #expect(jobs.last?.runs == 3)
        // p95 500 MiB + 25% = 625 MiB, up to 640 MiB (a multiple of 64 MiB)
        #expect(node.suggested(headroom: 25) == 640 * Self.m)
        let learned = try #require(MemoryProfile.learned(contents, job: "web/main", image: "node:20", headroom: 25))
        #expect(learned.bytes == 640 * Self.m)
        #expect(learned.sentence == "learned from 3 runs of job web/main: p95 peak 500 MiB + 25% = 640m")
        // Too few runs of the job: the image's figure.
        #expect(MemoryProfile.learned(contents, job: "api", image: "node:20", headroom: 25)?.sentence.contains("image node:20") == true)
        #expect(MemoryProfile.learned(contents, job: "api", image: "maven:3", headroom: 25) == nil)
    }

    @Test(arguments: [
        ([UInt64](), UInt64?.none, UInt64?.none), ([7], 7, 7), ([1, 2, 3, 4], 2, 4),
        (Array(1...20), 10, 19), (Array(1...100), 50, 95),
    ] as [([UInt64], UInt64?, UInt64?)])
    func nearestRankPercentiles(values: [UInt64], p50: UInt64?, p95: UInt64?) {
        #expect(MemoryProfile.percentile(values, 50) == p50)
        #expect(MemoryProfile.percentile(values, 95) == p95)
    }

    /// What `policy suggest` prints is a policy safebuild reads, and its rules give the learned limits.
    @Test func suggestedRulesAreAValidPolicy() throws {
        let contents = Self.journal([
            ("node:20", "web/main", [100 * Self.m], nil), ("node:20", "web/main", [300 * Self.m], nil),
            ("node:20", "web/main", [500 * Self.m], nil), ("lonely:x", nil, [10 * Self.m], nil),
            ("odd", "ci [nightly] *", [1 * Self.m], nil), ("odd", "ci [nightly] *", [1 * Self.m], nil),
            ("odd", "ci [nightly] *", [1 * Self.m], nil),
        ])
        let yaml = PolicySuggestion.yaml(contents, journalPath: "/j", headroom: 25, minimumRuns: 3)
        #expect(yaml.contains("  # image node:20: 3 run(s), 3 peak(s) measured, p50 300 MiB, p95 500 MiB, max 500 MiB, 0 OOM kill(s) (0 own limit, 0 pool)\n  - match: {image: \"node:20\"}\n    memory: 640m\n"))
        #expect(yaml.contains("  - match: {job: web/main}\n    memory: 640m\n"))
        #expect(yaml.contains("  - match: {job: \"ci \\\\[nightly\\\\] \\\\*\"}\n    memory: 64m\n"))
        #expect(yaml.contains("#   image lonely:x: 1 run(s)"))
        let policy = try PolicyParser.parse("version: 1\n" + yaml, file: "suggested.yml", over: PolicyLoader.builtIn).get()
        #expect(policy.rules.count == 4)
        let limits = policy.limits(for: MatchContext(command: .run, images: ["node:20"], job: "web/main", hostMemory: 16 << 30))
        #expect(limits.memory == 640 * Self.m)
        // The job's name is matched as it is, not as a pattern.
        let odd = policy.limits(for: MatchContext(command: .run, images: ["x"], job: "ci [nightly] *", hostMemory: 16 << 30))
        #expect(odd.memory == 64 * Self.m)
        let other = policy.limits(for: MatchContext(command: .run, images: ["x"], job: "ci n anything", hostMemory: 16 << 30))
        #expect(other.memory != 64 * Self.m)
    }
}
