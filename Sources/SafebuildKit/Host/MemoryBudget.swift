/// The memory the engine's containers may use together, and where that figure came from: the smaller of the host's
/// memory less the policy's reserve and the smallest memory limit on the engine's parent cgroup and its ancestors
/// (the kernel enforces every limit along the path), unless the policy sets it (`admission.budget`). A pure function
/// of its inputs; `EnginePoolReader` reads them.
package struct MemoryBudget: Codable, Sendable, Equatable {
    package enum Origin: String, Codable, Sendable {
        /// `admission.budget`.
        case policy
        /// The memory limit of a cgroup on the engine's parent path.
        case cgroup
        /// Host memory less `admission.host_reserve`.
        case host
    }

    package var bytes: UInt64
    package var origin: Origin
    /// In words, for doctor and the console: `memory limit of cgroup /sbbench (1g)`.
    package var source: String
    /// MemTotal less the reserve: the host's share for containers.
    package var hostShare: UInt64
    /// The reserve kept for the host.
    package var reserve: UInt64
    /// The smallest limit along the engine's parent path, and the cgroup that sets it.
    package var cgroupLimit: UInt64?
    package var cgroupLimitPath: String?

    package init(
        bytes: UInt64, origin: Origin, source: String, hostShare: UInt64, reserve: UInt64, cgroupLimit: UInt64? = nil,
        cgroupLimitPath: String? = nil
    ) {
        self.bytes = bytes
        self.origin = origin
        self.source = source
        self.hostShare = hostShare
        self.reserve = reserve
        self.cgroupLimit = cgroupLimit
        self.cgroupLimitPath = cgroupLimitPath
    }

    /// - Parameters:
    ///   - memTotal: the host's memory (MemTotal).
    ///   - reserve: `admission.host_reserve` in bytes, and as the policy wrote it.
    ///   - limits: the memory limit of the engine's parent cgroup and of each ancestor (nil: none), any order.
    ///   - override: `admission.budget` in bytes and as written, when set.
    package static func compute(
        memTotal: UInt64, reserve: (bytes: UInt64, text: String), limits: [(path: String, limit: UInt64?)],
        override: (bytes: UInt64, text: String)?
    ) -> MemoryBudget {
        let hostShare = memTotal > reserve.bytes ? memTotal - reserve.bytes : 0
        var smallest: (path: String, limit: UInt64)?
        for (path, limit) in limits {
            guard let limit else { continue }
            // The innermost of equal limits names the cgroup the user most likely set it on.
            if smallest == nil || limit < smallest!.limit { smallest = (path, limit) }
        }
        var budget = MemoryBudget(
            bytes: hostShare, origin: .host,
            source: "host memory \(ByteSize.describe(memTotal)) less host_reserve \(reserve.text)",
            hostShare: hostShare, reserve: reserve.bytes, cgroupLimit: smallest?.limit, cgroupLimitPath: smallest?.path)
        if let override {
            budget.bytes = override.bytes
            budget.origin = .policy
            budget.source = "policy's admission.budget \(override.text)"
        } else if let smallest, smallest.limit < hostShare {
            budget.bytes = smallest.limit
            budget.origin = .cgroup
            budget.source = "memory limit of cgroup \(smallest.path) (\(ByteSize.describe(smallest.limit)))"
        }
        return budget
    }

    /// How much of the budget is really in use now: the budget less what is really free, the smaller of the room
    /// under the smallest cgroup limit (`cgroupLimit` less `poolUsage`, the parent cgroup's usage without inactive
    /// page cache) and the host's MemAvailable beyond the reserve. So containers that safebuild did not start count,
    /// and so does the host's own use beyond its reserve. nil when nothing could be read.
    package func used(poolUsage: UInt64?, memAvailable: UInt64?) -> UInt64? {
        var free: UInt64?
        if let limit = cgroupLimit, let usage = poolUsage {
            free = limit > usage ? limit - usage : 0
        }
        if let available = memAvailable {
            let hostFree = available > reserve ? available - reserve : 0
            free = min(free ?? hostFree, hostFree)
        }
        if free == nil, let usage = poolUsage { return usage }
        guard let free else { return nil }
        return bytes > free ? bytes - free : 0
    }
}
