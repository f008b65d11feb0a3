import Glibc
import Foundation

/// `safebuild doctor`: every host and engine probe as a readable report, one line per finding with its level,
/// the measured value and the concrete fix, then how safebuild is deployed for this user (`Deployment`). Exit status: 0 all ok, 1 at least one warning, 2 at least one problem.
package enum Doctor {
    package struct Finding: Codable, Sendable, Equatable {
        package enum Level: String, Codable, Sendable, Comparable {
            case ok, warning, problem

            var rank: Int { self == .ok ? 0 : self == .warning ? 1 : 2 }
            package static func < (a: Level, b: Level) -> Bool { a.rank < b.rank }
        }

        /// What was probed: `memory`, `swap`, `cgroup`, `psi`, `fragmentation`, `vm.swappiness`, `oom-kill`, …
        package var area: String
        package var level: Level
        /// The measurement, as a sentence.
        package var value: String
        /// What to change, when something should change.
        package var fix: String?

        package init(_ area: String, _ level: Level, _ value: String, fix: String? = nil) {
            self.area = area
            self.level = level
            self.value = value
            self.fix = fix
        }
    }

    /// Thresholds of the diagnosis (not the policy's pre-flight thresholds, which decide about one build).
    package struct Limits: Sendable {
        package var buildCacheWarning: UInt64 = 10 << 30
        /// What `docker builder prune --keep-storage` should keep.
        package var buildCacheKeep: UInt64 = 2_000_000_000
        package var danglingWarning: UInt64 = 1 << 30
        package var diskWarning: UInt64 = 10 << 30
        package var diskProblem: UInt64 = 2 << 30
        /// Order of the allocations that fail first when memory is fragmented (kernel stacks, network buffers).
        package var fragmentationOrder = 4
        package var fragmentationWarning: UInt64 = 64
        package init() {}
    }

    /// The status for a set of findings: 0 all ok, 1 warnings, 2 problems.
    package static func status(_ findings: [Finding]) -> Int32 {
        Int32(findings.map(\.level).max()?.rank ?? 0)
    }

    // MARK: - Diagnosis (pure)

    package static func diagnose(_ figures: HostFigures, limits: Limits = Limits(), now: Double, hours: Double) -> [Finding] {
        var out: [Finding] = []
        let describe = ByteSize.describe

        if let m = figures.memory {
            let share = Double(m.available) / Double(max(m.total, 1))
            let level: Finding.Level = share < 0.05 || m.available < 512 << 20 ? .problem : share < 0.10 ? .warning : .ok
            out.append(Finding(
                "memory", level,
                "\(describe(m.available)) available of \(describe(m.total)) (\(percent(share))); free \(describe(m.free)), page cache \(describe(m.cached)), dirty \(describe(m.dirty))",
                fix: level == .ok ? nil : "stop idle containers ('docker ps'), lower parallel builds, or add memory; 'docker builder prune' does not free RAM"))
            if m.dirty > 1 << 30 {
                out.append(Finding(
                    "memory.dirty", .warning, "\(describe(m.dirty)) of dirty page cache waits for write-back",
                    fix: "set vm.dirty_background_bytes=268435456 and vm.dirty_bytes=1073741824 so write-back starts earlier and reclaim stays fast"))
            }
            if m.hasSwap {
                let used = m.swapTotal - min(m.swapFree, m.swapTotal)
                let heavy = Double(used) / Double(m.swapTotal) > 0.5
                out.append(Finding(
                    "swap", heavy ? .warning : .ok, "\(describe(used)) of \(describe(m.swapTotal)) swap in use",
                    fix: heavy ? "more than half of swap is in use: the host is short of memory; builds will crawl before they fail" : nil))
            } else {
                out.append(Finding(
                    "swap", .warning, "no swap: the OOM killer acts as soon as memory runs out, with no slow-down first",
                    fix: "add a swap file (fallocate -l 4G /swapfile && chmod 600 /swapfile && mkswap /swapfile && swapon /swapfile, and a line in /etc/fstab), or keep every build under a memory limit"))
            }
            if figures.sysctls?.overcommitMemory == 2 {
                let near = Double(m.committed) > Double(m.commitLimit) * 0.9
                out.append(Finding(
                    "commit", near ? .problem : .ok,
                    "Committed_AS \(describe(m.committed)) of CommitLimit \(describe(m.commitLimit)) (strict overcommit)",
                    fix: near ? "new allocations fail with ENOMEM near CommitLimit: raise vm.overcommit_ratio or set vm.overcommit_memory=0" : nil))
            }
        }

        for (role, cgroup) in [("safebuild", figures.ownCgroup), ("dockerd", figures.daemonCgroup)] {
            guard let cgroup else { continue }
            let where_ = "cgroup \(cgroup.membership.version.rawValue) \(cgroup.membership.path)"
            if let limit = cgroup.limit, let usage = cgroup.usage {
                let tight = Double(usage) / Double(max(limit, 1)) > 0.9
                out.append(Finding(
                    "cgroup.\(role)", tight ? .warning : .ok,
                    "\(role) runs in \(where_): limit \(describe(limit)), using \(describe(usage))",
                    fix: tight ? "the \(role) cgroup is over 90% of its limit; raise it (systemctl set-property … MemoryMax=) or build less at once" : nil))
            } else {
                out.append(Finding(
                    "cgroup.\(role)", .ok,
                    "\(role) runs in \(where_): no memory limit\(cgroup.usage.map { ", using \(describe($0))" } ?? "")"))
            }
        }

        let swapAccounting = figures.ownCgroup.map(\.swapAccounting)
        if figures.engine?.noSwapLimit == true || swapAccounting == false {
            out.append(Finding(
                "swap-limit", .warning,
                "no swap limit support (the daemon warns \"No swap limit support\"): --memory-swap has no effect and containers may swap without bound",
                fix: "add 'cgroup_enable=memory swapaccount=1' to the kernel command line (GRUB_CMDLINE_LINUX in /etc/default/grub, update-grub, reboot)"))
        } else if figures.engine?.noSwapLimit == false {
            out.append(Finding("swap-limit", .ok, "swap limits are enforced (memory.memsw / memory.swap.max present)"))
        }

        if !figures.pressureSupported {
            out.append(Finding(
                "psi", .warning, "this kernel has no /proc/pressure/memory: pre-flight cannot check max_pressure",
                fix: "boot a kernel with CONFIG_PSI=y and 'psi=1' on the kernel command line"))
        } else if let p = figures.pressure {
            let full = p.full?.avg10 ?? 0
            let level: Finding.Level = full > 10 ? .problem : p.some.avg60 > 10 || p.some.avg10 > 20 ? .warning : .ok
            out.append(Finding(
                "psi", level,
                "memory pressure some avg10 \(fixed(p.some.avg10))% avg60 \(fixed(p.some.avg60))% avg300 \(fixed(p.some.avg300))%, full avg10 \(fixed(full))%",
                fix: level == .ok ? nil : "tasks are stalling on memory right now: wait for running builds to finish before starting more"))
        }

        if let buddy = figures.buddy {
            let order = limits.fragmentationOrder
            let blocks = buddy.freeBlocks(atLeast: order)
            let level: Finding.Level = blocks == 0 ? .problem : blocks < limits.fragmentationWarning ? .warning : .ok
            let perZone = buddy.zones.map { "\($0.zone) \($0.free.enumerated().filter { $0.offset >= order }.reduce(UInt64(0)) { $0 + $1.element })" }
                .joined(separator: ", ")
            out.append(Finding(
                "fragmentation", level,
                "\(blocks) free order-\(order) blocks (\(describe(blocks * (4096 << UInt64(order))))) in blocks of order \(order)+; highest free order \(buddy.highestFreeOrder.map(String.init) ?? "none"); free blocks of order \(order)+ by zone: \(perZone)",
                fix: level == .ok ? nil : "free memory is fragmented: order-\(order) allocations (fork, network buffers) fail with ENOMEM; run 'echo 1 > /proc/sys/vm/compact_memory' and raise vm.min_free_kbytes"))
        }

        if let s = figures.sysctls {
            let hasSwap = figures.memory?.hasSwap ?? false
            if let v = s.swappiness {
                if !hasSwap {
                    out.append(Finding("vm.swappiness", .ok, "\(v) (no effect without swap)"))
                } else if v > 30 {
                    out.append(Finding(
                        "vm.swappiness", .warning, "\(v): the kernel swaps build memory out early",
                        fix: "sysctl -w vm.swappiness=10 (and in /etc/sysctl.d/): keep build working sets in RAM and swap only under real pressure"))
                } else {
                    out.append(Finding("vm.swappiness", .ok, "\(v)"))
                }
            }
            if let v = s.minFreeKbytes, let total = figures.memory?.total {
                let totalKB = total / 1024
                let suggested = min(max(totalKB / 100, 65536), 1_048_576)
                if UInt64(max(v, 0)) < suggested / 2 {
                    out.append(Finding(
                        "vm.min_free_kbytes", .warning, "\(v) kB (\(percent(Double(v) / Double(max(totalKB, 1)))) of RAM)",
                        fix: "sysctl -w vm.min_free_kbytes=\(suggested) (1% of RAM): a larger free reserve lets the kernel reclaim before a burst of build allocations, so atomic and high-order allocations do not fail"))
                } else {
                    out.append(Finding("vm.min_free_kbytes", .ok, "\(v) kB (\(percent(Double(v) / Double(max(totalKB, 1)))) of RAM)"))
                }
            }
            if let v = s.overcommitMemory {
                switch v {
                case 2:
                    out.append(Finding(
                        "vm.overcommit_memory", .warning, "2 (strict: ratio \(s.overcommitRatio ?? 50)%)",
                        fix: "compilers and JVMs reserve far more than they touch; under strict accounting builds fail with 'cannot allocate memory' while RAM is free: sysctl -w vm.overcommit_memory=0"))
                case 1:
                    out.append(Finding("vm.overcommit_memory", .ok, "1 (always overcommit: failures show up as OOM kills, not ENOMEM)"))
                default:
                    out.append(Finding("vm.overcommit_memory", .ok, "\(v) (heuristic, the default)"))
                }
            }
            if let v = s.vfsCachePressure {
                out.append(v < 50
                    ? Finding("vm.vfs_cache_pressure", .warning, "\(v): dentry and inode caches are kept at the expense of build memory",
                        fix: "sysctl -w vm.vfs_cache_pressure=100 (the default)")
                    : Finding("vm.vfs_cache_pressure", .ok, "\(v)"))
            }
        }

        if let kills = figures.oomKills {
            if kills.isEmpty {
                out.append(Finding("oom-kill", .ok, "no OOM kills in the last \(fixed(hours)) h"))
            }
            // The most recent ones, one line each; a busy build host can have hundreds a day.
            let shown = 10
            if kills.count > shown {
                let limited = kills.filter(\.cgroupLimit).count
                out.append(Finding(
                    "oom-kill", limited == kills.count ? .warning : .problem,
                    "\(kills.count) OOM kills in the last \(fixed(hours)) h (\(limited) over a cgroup limit, \(kills.count - limited) of the whole machine); the \(shown) most recent follow"))
            }
            for kill in kills.suffix(shown) {
                var text = "\(kill.wallTime.map(utc) ?? "\(fixed(kill.sinceBoot)) s after boot"): killed \(kill.process) (pid \(kill.pid))"
                if let id = kill.containerID {
                    text += " in container \(id.prefix(12))"
                } else if let cgroup = kill.cgroup {
                    text += " in cgroup \(cgroup)"
                }
                text += kill.cgroupLimit ? ", over its cgroup's memory limit" : ", the whole machine ran out of memory"
                if let rss = kill.anonRSS { text += ", \(describe(rss)) anonymous memory" }
                out.append(Finding(
                    "oom-kill", kill.cgroupLimit ? .warning : .problem, text,
                    fix: kill.cgroupLimit
                        ? "raise that container's or build's memory limit (-m), or make the step use less"
                        : "the host itself ran out: run fewer builds at once, add memory or swap, and give builds memory limits"))
            }
        } else {
            out.append(Finding("oom-kill", .warning, "the kernel log could not be read (/dev/kmsg, dmesg)", fix: "run doctor as root, or set kernel.dmesg_restrict=0"))
        }

        if let engine = figures.engine {
            if !engine.reachable {
                out.append(Finding(
                    "engine", .problem, "\(engine.endpoint.host) (\(engine.endpoint.origin)) did not answer: \(engine.error ?? "unknown")",
                    fix: "start the docker daemon or point DOCKER_HOST / docker context at the right one"))
            } else {
                let calls = engine.milliseconds.sorted { $0.key < $1.key }.map { "\($0.key) \(fixed($0.value)) ms" }.joined(separator: ", ")
                out.append(Finding(
                    "engine", engine.error == nil ? .ok : .warning,
                    "docker \(engine.version ?? "?") (API \(engine.apiVersion ?? "?")) at \(engine.endpoint.host) via \(engine.endpoint.origin)\(engine.cgroupVersion.map { ", cgroup v\($0)" } ?? "")\(engine.cgroupDriver.map { " (\($0) driver)" } ?? "")\(calls.isEmpty ? "" : "; " + calls)\(engine.error.map { "; \($0)" } ?? "")"))
            }
            if let cache = engine.buildCache {
                let size = UInt64(max(cache.size, 0)), reclaimable = UInt64(max(cache.reclaimable, 0))
                let big = size > limits.buildCacheWarning
                let frees = reclaimable > limits.buildCacheKeep ? reclaimable - limits.buildCacheKeep : 0
                out.append(Finding(
                    "build-cache", big ? .warning : .ok,
                    "\(describe(size)) in \(cache.records) records (\(describe(reclaimable)) reclaimable, \(cache.inUse) in use, \(describe(UInt64(max(cache.shared, 0)))) shared with images)",
                    fix: big
                        ? "docker builder prune -f --keep-storage \(keepStorage(limits.buildCacheKeep)) frees about \(describe(frees))"
                        : (reclaimable > 0 ? "when needed: docker builder prune -f frees \(describe(reclaimable))" : nil)))
            }
            if let count = engine.danglingImages {
                let bytes = UInt64(max(engine.danglingBytes ?? 0, 0))
                out.append(Finding(
                    "dangling-images", bytes > limits.danglingWarning ? .warning : .ok,
                    "\(count) dangling images (\(describe(bytes)))",
                    fix: count > 0 ? "docker image prune -f removes them" : nil))
            }
            if let free = engine.rootFree, let total = engine.rootTotal, let root = engine.rootDir {
                let level: Finding.Level = free < limits.diskProblem ? .problem : free < limits.diskWarning ? .warning : .ok
                out.append(Finding(
                    "docker-root-disk", level, "\(describe(free)) free of \(describe(total)) under \(root)",
                    fix: level == .ok ? nil : "docker builder prune -f and docker image prune -f, or move data-root to a larger disk"))
            }
        }

        if let budget = figures.budget { out.append(budget.finding) }

        for problem in figures.problems {
            out.append(Finding("probe", .warning, problem, fix: "this probe's figures are missing from the report"))
        }
        out += figures.deployment?.findings ?? []
        return out
    }

    // MARK: - Rendering

    package static func text(_ findings: [Finding]) -> String {
        var out = ""
        for f in findings {
            let tag = f.level == .ok ? "ok     " : f.level == .warning ? "warning" : "problem"
            out += "\(tag) \(f.area): \(f.value)\n"
            if let fix = f.fix, f.level != .ok { out += "          fix: \(fix)\n" }
        }
        let status = status(findings)
        out += status == 0 ? "all ok\n" : status == 1 ? "warnings: see above\n" : "problems: see above\n"
        return out
    }

    struct Report: Encodable {
        var status: Int32
        var findings: [Finding]
        var figures: HostFigures
    }

    package static func json(_ findings: [Finding], figures: HostFigures) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = (try? encoder.encode(Report(status: status(findings), findings: findings, figures: figures))) ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    // MARK: - Measuring (`safebuild doctor` is CLI/SafebuildDoctor)

    /// All probes: the engine first (its socket peer names the daemon's cgroup), then /proc.
    package static func measure(
        environment: [String: String], options: SafebuildOptions, hours: Double, timeout: Double, askEngine: Bool = true
    ) throws(SafebuildError) -> HostFigures {
        guard askEngine else {
            var figures = HostReader().gather(oomSince: Clock.wall() - hours * 3600)
            figures.deployment = Deployment.measure(environment: environment, options: options, engineReachable: nil)
            return figures
        }
        let endpoint = try EngineEndpoint.resolve(DockerCommandLine([]), environment: environment, read: HostReader.read)
        // The docker protected commands run: the host policy's docker.path first.
        let hostDocker = (try? PolicyLoader.hostLayer())?.policy.docker.path ?? PolicyLoader.builtIn.docker.path
        let docker = try? DockerLocator().locateForHost(hostDocker, explicit: options.dockerPath, environment: environment)
            .docker
        let engine = EngineProbes.gather(endpoint: endpoint, timeout: timeout, docker: docker, environment: environment)
        var figures = HostReader().gather(oomSince: Clock.wall() - hours * 3600, daemonPID: engine.daemonPID)
        figures.engine = engine
        figures.deployment = Deployment.measure(
            environment: environment, options: options, engineReachable: engine.reachable)
        figures.budget = budget(endpoint: endpoint, environment: environment, options: options, timeout: timeout)
        return figures
    }

    /// Memory admission's figures under the policy in effect (the built-in one when the policy cannot be read).
    static func budget(
        endpoint: EngineEndpoint, environment: [String: String], options: SafebuildOptions, timeout: Double
    ) -> BudgetFigures {
        let cwd = WorkingDirectory.current()
        let policy = (try? PolicyLoader.load(options: options, environment: environment, currentDirectory: cwd))?.policy
            ?? PolicyLoader.builtIn
        let memory = PhysicalMemory.total() ?? 0
        let lockDirectory = policy.lockDirectory ?? HostLock.defaultDirectory(policy: nil, environment: environment)
        let settings = AdmissionSettings(
            policy: policy, hostMemory: memory,
            stateDirectory: AdmissionSettings.stateDirectory(lockDirectory: lockDirectory), label: "doctor", job: nil,
            image: nil)
        return BudgetFigures.measure(socketPath: endpoint.socketPath, settings: settings, memTotal: memory, timeout: timeout)
    }

    static func percent(_ share: Double) -> String { "\(ByteSize.formatFixed(share * 100, decimals: share < 0.1 ? 1 : 0))%" }
    static func fixed(_ value: Double) -> String { ByteSize.formatFixed(value, decimals: 2) }

    /// `2GB`-style value for `--keep-storage` (docker reads decimal units).
    static func keepStorage(_ bytes: UInt64) -> String {
        bytes % 1_000_000_000 == 0 ? "\(bytes / 1_000_000_000)GB" : "\(bytes / 1_000_000)MB"
    }

    static func utc(_ time: Double) -> String {
        var t = time_t(time)
        var parts = tm()
        gmtime_r(&t, &parts)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday)) \(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) UTC"
    }
}
