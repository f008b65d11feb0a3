/// One process the kernel's OOM killer killed, from the kernel log.
package struct OOMKill: Codable, Sendable, Equatable {
    package var pid: Int
    /// The command name the kernel printed (`sh`, `node`, `cc1plus`).
    package var process: String
    /// True for a cgroup limit (`Memory cgroup out of memory`), false for the whole machine running out.
    package var cgroupLimit: Bool
    /// The killed task's cgroup (`task_memcg=`), when the kernel printed the `oom-kill:` line.
    package var cgroup: String?
    /// The cgroup whose limit was hit (`oom_memcg=`): the task's own, or an ancestor whose limit its siblings share.
    package var limitCgroup: String?
    /// The container id, when the cgroup is a docker container's (`/docker/<id>`, `docker-<id>.scope`).
    package var containerID: String?
    /// Seconds since boot, from the record's timestamp.
    package var sinceBoot: Double
    /// Unix time of the kill: boot time plus `sinceBoot`; nil when the boot time is not known.
    package var wallTime: Double?
    /// Anonymous memory of the killed process, in bytes, when printed.
    package var anonRSS: UInt64?
}
