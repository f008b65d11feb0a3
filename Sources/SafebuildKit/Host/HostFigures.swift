/// Everything the host probes measured at one moment. Absent parts were not measurable (the error is in `problems`).
package struct HostFigures: Codable, Sendable, Equatable {
    package var memory: MemInfo?
    /// The memory cgroup safebuild itself runs in.
    package var ownCgroup: CgroupMemory?
    /// The memory cgroup the docker daemon runs in (found through the daemon's socket peer), when known.
    package var daemonCgroup: CgroupMemory?
    /// nil with `pressureSupported == false`: the kernel has no PSI (no `/proc/pressure/memory`).
    package var pressure: Pressure?
    package var pressureSupported: Bool
    package var buddy: BuddyInfo?
    package var sysctls: VMSysctls?
    /// OOM kills since the time asked for; nil when the kernel log was not readable.
    package var oomKills: [OOMKill]?
    package var engine: EngineFigures?
    /// Memory admission's budget, pool and reservations (when the engine is local).
    package var budget: BudgetFigures?
    /// Probes that failed, one sentence each (`/proc/buddyinfo: unexpected line …`).
    package var problems: [String]
    /// How safebuild is deployed here, for this user (doctor only).
    package var deployment: Deployment?

    package init(
        memory: MemInfo? = nil, ownCgroup: CgroupMemory? = nil, daemonCgroup: CgroupMemory? = nil,
        pressure: Pressure? = nil, pressureSupported: Bool = false, buddy: BuddyInfo? = nil, sysctls: VMSysctls? = nil,
        oomKills: [OOMKill]? = nil, engine: EngineFigures? = nil, problems: [String] = []
    ) {
        self.memory = memory
        self.ownCgroup = ownCgroup
        self.daemonCgroup = daemonCgroup
        self.pressure = pressure
        self.pressureSupported = pressureSupported
        self.buddy = buddy
        self.sysctls = sysctls
        self.oomKills = oomKills
        self.engine = engine
        self.problems = problems
    }

    /// Memory a build can count on: MemAvailable, lowered to the headroom of a limited cgroup.
    package var effectiveAvailable: UInt64? {
        guard var available = memory?.available else { return nil }
        for cgroup in [ownCgroup, daemonCgroup].compactMap({ $0 }) {
            if let headroom = cgroup.headroom { available = min(available, headroom) }
        }
        return available
    }
}
