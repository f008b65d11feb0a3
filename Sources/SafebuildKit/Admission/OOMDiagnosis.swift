/// Which limit killed an OOM-killed attempt: its own (a higher limit helps) or the shared pool's (it does not: wait
/// for memory instead). A pure function of the attempt's memory figures and, where the kernel log could be read, the
/// OOM killer's own record. In order, the first that applies:
///
/// 1. The kernel's `oom-kill:` record of a task in one of the attempt's cgroups names the cgroup whose limit was hit
///    (`oom_memcg=`): the task's own cgroup is its own limit; an ancestor, or no memory cgroup at all (the whole
///    host ran out), is the pool.
/// 2. Its own cgroup counted a hit of its own limit (cgroup v2 `memory.events.local` `oom`): its own limit.
/// 3. Its peak reached 95% of its own limit: its own limit.
/// 4. It had no limit of its own, or the pool hit its limit during the attempt (v2 `memory.events.local` `oom` of
///    the pool) or was seen at 95% of it: the pool.
/// 5. Otherwise nothing is known beyond the exit status: nil, and the attempt is treated as before (its own limit).
///
/// cgroup v1 counts an OOM kill only in the victim's own cgroup, whichever limit was hit, and its `memory.failcnt`
/// stays 0 under memsw accounting (both measured on Linux 6.18 with a 300 MiB parent and two children), so on v1 the
/// kernel record, the peak and the pool's polled usage are what tell the two apart.
package enum OOMDiagnosis {
    /// One OOM kill from the kernel log: the killed task's cgroup (`task_memcg=`), and the cgroup whose limit was hit
    /// (`oom_memcg=`; nil when the kill was not confined to a memory cgroup: the host ran out).
    package struct KernelKill: Sendable, Equatable {
        package var taskCgroup: String
        package var limitCgroup: String?

        package init(taskCgroup: String, limitCgroup: String?) {
            self.taskCgroup = taskCgroup
            self.limitCgroup = limitCgroup
        }
    }

    /// A peak at this share of a limit counts as having reached it (the kernel reclaims cache before it kills, so a
    /// killed cgroup's recorded peak sits just under its limit).
    package static let nearLimit = 0.95

    /// The cause and a sentence with the figures; nil when the evidence says nothing.
    package static func diagnose(
        _ memory: AttemptMemory, kernel: [KernelKill], pool: String
    ) -> (cause: OOMCause, sentence: String)? {
        let bytes = AdmissionProgress.bytes
        let peakText = memory.peakBytes.map { "peak \(bytes($0))" } ?? "peak not measured"
        let own = memory.limitBytes.map { "its own limit \(bytes($0))" } ?? "no limit of its own"
        var poolText = "the pool \(pool)"
        if let peak = memory.poolPeakBytes, let limit = memory.poolLimitBytes {
            poolText += " reached \(bytes(peak)) of its \(bytes(limit)) limit"
        }

        for kill in kernel {
            guard let limit = kill.limitCgroup else {
                return (.poolPressure, "killed because the whole host ran out of memory (the kernel's OOM record names no memory cgroup); \(peakText), \(own)")
            }
            if limit == kill.taskCgroup {
                return (.ownLimit, "reached its own memory limit (the kernel's OOM record names its own cgroup); \(peakText) of \(own)")
            }
            if kill.taskCgroup.hasPrefix(limit == "/" ? "/" : limit + "/") {
                return (.poolPressure, "killed by pressure on the shared pool: the kernel's OOM record names \(limit)'s limit, not its own; \(peakText), below \(own)")
            }
        }
        if let hits = memory.limitHits, hits > 0 {
            return (.ownLimit, "reached its own memory limit \(hits) time(s) (memory.events.local); \(peakText) of \(own)")
        }
        if let peak = memory.peakBytes, let limit = memory.limitBytes, Double(peak) >= Double(limit) * nearLimit {
            return (.ownLimit, "reached its own memory limit: \(peakText) of \(own)")
        }
        let poolHit = (memory.poolLimitHits ?? 0) > 0
        let poolFull = memory.poolPeakBytes.flatMap { peak in
            memory.poolLimitBytes.map { Double(peak) >= Double($0) * nearLimit }
        } ?? false
        if poolHit || poolFull || (memory.limitBytes == nil && memory.containers > 0) {
            return (.poolPressure, "killed by pressure on the shared pool, not its own limit: \(peakText), below \(own), while \(poolText)")
        }
        return nil
    }
}
