import Foundation
import Glibc
import Testing

@testable import SafebuildKit

/// Fixtures captured on this project's build host (cgroup v1 memory controller, cgroup2 mounted without controllers
/// at /sys/fs/cgroup/unified, Linux 6.18, docker 20.10): Fixtures/admission.
enum AdmissionFixture {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/admission")

    static func text(_ name: String) -> String {
        (try? String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)) ?? ""
    }
}

/// The budget is a pure function of host memory, the reserve, the limits along the engine's parent path and the
/// policy's override; the engine's parent is a pure function of dockerd's command line, daemon.json and its driver.
@Suite struct MemoryBudgetTests {
    static let g: UInt64 = 1 << 30
    static let m: UInt64 = 1 << 20

    // MARK: The budget

    @Test(arguments: [
        // host 24 GiB less 10%: no cgroup limit on the path
        (24 * g, [("/docker", UInt64?.none), ("/", nil)], UInt64?.none, 24 * g - 2457 * m, MemoryBudget.Origin.host),
        // the engine's parent is limited to 1 GiB: the smaller wins
        (24 * g, [("/sbbench", 1 * g), ("/", nil)], nil, 1 * g, .cgroup),
        // an ancestor's limit applies too, and the smallest on the path wins
        (24 * g, [("/ci/docker", 6 * g), ("/ci", 4 * g), ("/", nil)], nil, 4 * g, .cgroup),
        // a cgroup limit above the host's share does not raise it
        (8 * g, [("/docker", 16 * g)], nil, 8 * g - 819 * m, .host),
        // the policy's figure wins over everything
        (24 * g, [("/sbbench", 1 * g)], 2 * g, 2 * g, .policy),
    ] as [(UInt64, [(String, UInt64?)], UInt64?, UInt64, MemoryBudget.Origin)])
    func budget(memTotal: UInt64, limits: [(String, UInt64?)], override: UInt64?, bytes: UInt64, origin: MemoryBudget.Origin) {
        let reserve = Size.share(10).bytes(hostMemory: memTotal)
        let budget = MemoryBudget.compute(
            memTotal: memTotal, reserve: (reserve, "10%"), limits: limits.map { (path: $0.0, limit: $0.1) },
            override: override.map { ($0, Size.format($0)) })
        #expect(budget.bytes == bytes)
        #expect(budget.origin == origin)
        #expect(budget.hostShare == memTotal - reserve)
    }

    @Test func theSourceSaysWhereTheBudgetCameFrom() {
        let cgroup = MemoryBudget.compute(
            memTotal: 24 * Self.g, reserve: (2 * Self.g, "2g"), limits: [("/", nil), ("/ci", 4 * Self.g), ("/ci/docker", 4 * Self.g)],
            override: nil)
        #expect(cgroup.source == "memory limit of cgroup /ci (4.0 GiB)")
        #expect(cgroup.cgroupLimitPath == "/ci")
        let host = MemoryBudget.compute(memTotal: 24 * Self.g, reserve: (2 * Self.g, "2g"), limits: [], override: nil)
        #expect(host.source == "host memory 24.0 GiB less host_reserve 2g")
        let policy = MemoryBudget.compute(
            memTotal: 24 * Self.g, reserve: (2 * Self.g, "2g"), limits: [], override: (12 * Self.g, "50%"))
        #expect(policy.source == "policy's admission.budget 50%")
    }

    /// What the budget really holds: the budget less the smaller room of the pool's limit and the host's
    /// MemAvailable beyond the reserve.
    @Test(arguments: [
        // a 1 GiB pool holding 600 MiB on a roomy host: 600 MiB
        (UInt64?(1 * g), UInt64?(600 * m), UInt64?(20 * g), UInt64?(600 * m)),
        // the pool's cgroup does not exist yet: nothing
        (UInt64?(1 * g), UInt64?(0), UInt64?(20 * g), UInt64?(0)),
        // the host itself is short: 700 MiB available beyond nothing reserved in the pool leaves 300 MiB of 1 GiB
        (UInt64?(1 * g), UInt64?(0), UInt64?(2 * g + 700 * m), UInt64?(324 * m)),
        // no cgroup limit: what the host uses, MemTotal (23 GiB) - MemAvailable
        (UInt64?.none, UInt64?(600 * m), UInt64?(10 * g), UInt64?(13 * g)),
        // nothing readable
        (UInt64?.none, UInt64?.none, UInt64?.none, UInt64?.none),
    ] as [(UInt64?, UInt64?, UInt64?, UInt64?)])
    func used(limit: UInt64?, poolUsage: UInt64?, memAvailable: UInt64?, used: UInt64?) {
        let memTotal = 23 * Self.g
        let budget = MemoryBudget.compute(
            memTotal: memTotal, reserve: (2 * Self.g, "2g"), limits: [("/pool", limit)], override: nil)
        #expect(budget.used(poolUsage: poolUsage, memAvailable: memAvailable) == used)
    }

    // MARK: The engine's parent cgroup

    /// The real command line of this project's test engine, read from /proc/PID/cmdline.
    @Test func parentFromARealDockerdCommandLine() throws {
        let raw = AdmissionFixture.text("dockerd-cmdline-cgroup-parent.bin")
        let argv = raw.split(separator: "\0").map(String.init)
        #expect(argv.first == "dockerd")
        let parent = EngineCgroupParent.resolve(
            commandLine: argv, config: nil, configPath: "/etc/docker/daemon.json", driver: .cgroupfs, daemonCgroup: "/")
        #expect(parent == EngineCgroupParent(path: "/sbadm", source: "dockerd --cgroup-parent=/sbadm"))
    }

    @Test(arguments: [
        (["dockerd", "--cgroup-parent", "/ci-pool"], nil, CgroupDriver.cgroupfs, "/ci-pool", "dockerd --cgroup-parent=/ci-pool"),
        (["dockerd", "--cgroup-parent=/a", "--cgroup-parent=/b"], nil, .cgroupfs, "/b", "dockerd --cgroup-parent=/b"),
        (["dockerd"], "/from-json", .cgroupfs, "/from-json", "/etc/docker/daemon.json cgroup-parent /from-json"),
        (["dockerd", "--cgroup-parent=/flag"], "/from-json", .cgroupfs, "/flag", "dockerd --cgroup-parent=/flag"),
        (["dockerd"], nil, .cgroupfs, "/docker", "the cgroupfs driver's default, /docker"),
        (["dockerd"], nil, .systemd, "/system.slice", "the systemd driver's default, system.slice"),
        (["dockerd", "--cgroup-parent=ci-builds.slice"], nil, .systemd, "/ci.slice/ci-builds.slice", "dockerd --cgroup-parent=ci-builds.slice"),
        // a relative cgroupfs parent is taken under the daemon's own cgroup (runc joins it to its own)
        (["dockerd", "--cgroup-parent=pool"], nil, .cgroupfs, "/system.slice/docker.service/pool",
         "dockerd --cgroup-parent=pool, under dockerd's cgroup /system.slice/docker.service"),
    ] as [([String], String?, CgroupDriver, String, String)])
    func parent(argv: [String], json: String?, driver: CgroupDriver, path: String, source: String) {
        let parent = EngineCgroupParent.resolve(
            commandLine: argv, config: json.map { DockerJSON.DaemonConfig(cgroupParent: $0) },
            configPath: "/etc/docker/daemon.json", driver: driver, daemonCgroup: "/system.slice/docker.service")
        #expect(parent.path == path)
        #expect(parent.source == source)
    }

    @Test func daemonJSONIsReadForTheParentAndTheDriver() throws {
        let json = #"{"cgroup-parent": "builds.slice", "exec-opts": ["native.cgroupdriver=systemd"], "log-level": "warn"}"#
        let config = try #require(DockerJSON.decode(DockerJSON.DaemonConfig.self, from: json))
        #expect(config.cgroupParent == "builds.slice")
        #expect(EngineCgroupParent.driver(commandLine: ["dockerd"], config: config) == .systemd)
        #expect(EngineCgroupParent.driver(commandLine: ["dockerd", "--exec-opt", "native.cgroupdriver=cgroupfs"], config: config) == .cgroupfs)
        #expect(EngineCgroupParent.driver(commandLine: ["dockerd"], config: nil) == nil)
    }

    /// runc's ExpandSlice (libcontainer/cgroups/systemd/common.go).
    @Test(arguments: [
        ("system.slice", "/system.slice"), ("a-b.slice", "/a.slice/a-b.slice"), ("a-b-c.slice", "/a.slice/a-b.slice/a-b-c.slice"),
        ("-.slice", "/"), ("test--a.slice", nil), ("-test.slice", nil), ("a/b.slice", nil), ("docker", nil), (".slice", nil),
    ] as [(String, String?)])
    func slices(name: String, path: String?) {
        #expect(EngineCgroupParent.expandSlice(name) == path)
    }

    // MARK: Where the memory controller is

    @Test func hybridHostFromARealMountinfo() {
        let mounts = CgroupMounts.parse(AdmissionFixture.text("mountinfo-hybrid-v1.txt"))
        #expect(mounts.memoryV1 == "/sys/fs/cgroup/memory")
        #expect(mounts.unified == "/sys/fs/cgroup/unified")
        #expect(mounts.version == .v1)
    }

    /// A unified host's line, verbatim from palantir/go-java-launcher's tests (launchlib, CGroupV2MountInfoContent),
    /// and the escapes of proc(5).
    @Test func unifiedHostAndEscapes() {
        let unified = CgroupMounts.parse(
            "36 35 0:31 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:12 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n")
        #expect(unified == CgroupMounts(memoryV1: nil, unified: "/sys/fs/cgroup"))
        #expect(unified.version == .v2)
        let escaped = CgroupMounts.parse("40 30 0:26 / /mnt/cgroup\\040v2 rw - cgroup2 cgroup2 rw\n")
        #expect(escaped.unified == "/mnt/cgroup v2")
        // A cgroup namespace's view of a subtree does not name the host's paths.
        #expect(CgroupMounts.parse("40 30 0:26 /docker/abc /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n").version == nil)
    }

    // MARK: Processes by pid and start time

    /// A real /proc/PID/stat of a process whose name holds a space and parentheses (`sb x) (y`).
    @Test func statWithAnOddCommandName() throws {
        let parsed = try #require(ProcessIdentity.parseStat(AdmissionFixture.text("proc-stat-odd-comm.txt")[...]))
        #expect(parsed.state == "S")
        #expect(parsed.startTime == 612086)
    }

    /// A process that ended is gone for the ledger before its parent reaps it (a zombie), and after.
    @Test func aZombieIsNotAlive() throws {
        var pid: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/true"), nil]
        defer { for p in argv { free(p) } }
        #expect(posix_spawn(&pid, "/bin/true", nil, nil, argv, environ) == 0)
        let me = try #require(ProcessIdentity.current())
        #expect(me.isAlive())
        #expect(!ProcessIdentity(pid: me.pid, startTime: me.startTime + 1).isAlive())
        // Wait until it has exited, without reaping it.
        var info = siginfo_t()
        #expect(waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) == 0)
        #expect(ProcessIdentity.of(pid) == nil)
        var status: Int32 = 0
        _ = waitpid(pid, &status, 0)
        #expect(ProcessIdentity.of(pid) == nil)
    }

    // MARK: Counters

    @Test func v1CountersFromRealFiles() {
        let counters = CgroupCounters.parse(.v1, files: [
            "memory.stat": AdmissionFixture.text("v1-pool-memory.stat"),
            "memory.oom_control": AdmissionFixture.text("v1-pool-memory.oom_control"),
            "memory.usage_in_bytes": "626688\n", "memory.max_usage_in_bytes": "630923264\n",
            "memory.limit_in_bytes": "1073741824\n",
        ])
        #expect(counters.oomKills == 0)
        #expect(counters.inactiveFile == 0)
        #expect(counters.limit == 1 << 30)
        #expect(counters.peak == 630923264)
        #expect(counters.workingSet == 626688)
        #expect(counters.limitHits == nil)
        // "no limit" on v1 is the page counter's maximum.
        #expect(CgroupCounters.parse(.v1, files: ["memory.limit_in_bytes": "9223372036854771712\n"]).limit == nil)
    }

    /// cgroup v2's flat-keyed files, as Documentation/admin-guide/cgroup-v2.rst (memory.events, memory.events.local,
    /// memory.stat) lays them out.
    @Test func v2Counters() {
        let counters = CgroupCounters.parse(.v2, files: [
            "memory.current": "734003200\n", "memory.peak": "838860800\n", "memory.max": "max\n",
            "memory.events": "low 0\nhigh 0\nmax 12\noom 3\noom_kill 2\noom_group_kill 0\n",
            "memory.events.local": "low 0\nhigh 0\nmax 4\noom 1\noom_kill 0\noom_group_kill 0\n",
            "memory.stat": "anon 600000000\nfile 130000000\nactive_anon 1\ninactive_anon 2\nactive_file 3\ninactive_file 104857600\n",
        ])
        #expect(counters.usage == 734003200)
        #expect(counters.peak == 838860800)
        #expect(counters.limit == nil)
        #expect(counters.oomKills == 2)
        #expect(counters.limitHits == 1)
        #expect(counters.workingSet == 734003200 - 104857600)
    }

    /// Keys are whole words at the start of a line: `oom` is not `oom_kill`, `inactive_file` not
    /// `total_inactive_file`.
    @Test(arguments: [
        ("MemAvailable", "MemTotal:       24683652 kB\nMemFree:        22314860 kB\nMemAvailable:   23481588 kB\n", UInt64?(23481588)),
        ("oom", "low 0\nhigh 0\nmax 4\noom_kill 7\noom 1\n", 1),
        ("oom", "oom_kill 7\n", nil),
        ("inactive_file", "total_inactive_file 5\ninactive_file 3\n", 3),
        ("inactive_file", "total_inactive_file 5\n", nil),
        ("oom_kill", "oom_kill_disable 0\nunder_oom 0\noom_kill 2", 2),
        ("huge", "huge 99999999999999999999999\n", nil),
    ] as [(String, String, UInt64?)])
    func keyedNumbers(key: String, text: String, value: UInt64?) {
        #expect(KeyedNumbers.value(key, in: text) == value)
    }

    /// The admission's one-line MemAvailable reader agrees with the full /proc/meminfo parser on this host.
    @Test func memAvailableAgreesWithTheFullParser() throws {
        let full = try MemInfo.parse(try #require(HostReader.read("/proc/meminfo"))).available
        let quick = try #require(EnginePoolReader().memAvailable())
        #expect(max(full, quick) - min(full, quick) < 256 << 20)
    }

    // MARK: Container cgroups

    @Test func containerDirectoriesByDriver() {
        let id = String(repeating: "ab", count: 32)
        let cgroupfs = EnginePool(
            daemon: nil, driver: .cgroupfs, version: .v1, root: "/sys/fs/cgroup/memory",
            parent: EngineCgroupParent(path: "/sbbench", source: ""), driverSource: "")
        #expect(cgroupfs.directory == "/sys/fs/cgroup/memory/sbbench")
        #expect(cgroupfs.containerDirectory(id: id) == "/sys/fs/cgroup/memory/sbbench/" + id)
        #expect(cgroupfs.containerID(inEntry: id) == id)
        #expect(cgroupfs.containerID(inEntry: "buildkit") == nil)
        let systemd = EnginePool(
            daemon: nil, driver: .systemd, version: .v2, root: "/sys/fs/cgroup",
            parent: EngineCgroupParent(path: "/system.slice", source: ""), driverSource: "")
        #expect(systemd.containerDirectory(id: id) == "/sys/fs/cgroup/system.slice/docker-\(id).scope")
        #expect(systemd.containerID(inEntry: "docker-\(id).scope") == id)
        #expect(systemd.containerID(inEntry: "docker.service") == nil)
        #expect(systemd.ancestry(of: "/a.slice/a-b.slice").map(\.directory) == [
            "/sys/fs/cgroup/a.slice/a-b.slice", "/sys/fs/cgroup/a.slice", "/sys/fs/cgroup",
        ])
    }
}
