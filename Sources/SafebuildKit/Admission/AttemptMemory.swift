/// Why an attempt was OOM-killed, as far as the evidence says.
package enum OOMCause: String, Codable, Sendable, Equatable {
    /// It reached its own memory limit: a higher limit helps.
    case ownLimit = "own_limit"
    /// It was killed below its own limit because the pool its engine's containers share (the parent cgroup's limit,
    /// or the host) ran out: a higher limit does not help; waiting for memory does.
    case poolPressure = "pool_pressure"
}

/// What an attempt's containers used, from their memory cgroups (readable by any user, unlike the kernel log),
/// and what the engine's pool showed meanwhile. The journal's `"memory": {…}` of an attempt.
package struct AttemptMemory: Codable, Sendable, Equatable {
    /// The engine's parent cgroup, the pool the containers share (`/docker`, `/sbbench`).
    package var pool: String?
    /// The highest peak of the attempt's containers (`run`: its container; classic build: its RUN steps).
    package var peakBytes: UInt64?
    /// Their own memory limit.
    package var limitBytes: UInt64?
    /// OOM kills counted in their own cgroups.
    package var oomKills: UInt64?
    /// Times their own limit was hit (cgroup v2 memory.events.local `oom`; v1 has no such counter).
    package var limitHits: UInt64?
    /// How much the pool's OOM-kill counter rose during the attempt (v2 counts descendants' kills; v1 counts none,
    /// so 0 there proves nothing).
    package var poolOOMKills: UInt64?
    /// Times the pool's own limit was hit during the attempt (v2 memory.events.local `oom`).
    package var poolLimitHits: UInt64?
    /// The highest usage of the pool seen during the attempt, and the smallest limit on its path.
    package var poolPeakBytes: UInt64?
    package var poolLimitBytes: UInt64?
    /// Cgroups watched (a classic build has one per RUN step).
    package var containers: Int
    /// What could not be measured, and why (BuildKit's steps, a container gone before its first reading).
    package var notMeasured: String?
    /// For an OOM-killed attempt: which limit killed it, and the sentence with the figures.
    package var oomCause: OOMCause?
    package var diagnosis: String?

    enum CodingKeys: String, CodingKey {
        case pool, peakBytes = "peak_bytes", limitBytes = "limit_bytes", oomKills = "oom_kills", limitHits = "limit_hits"
        case poolOOMKills = "pool_oom_kills", poolLimitHits = "pool_limit_hits", poolPeakBytes = "pool_peak_bytes"
        case poolLimitBytes = "pool_limit_bytes", containers, notMeasured = "not_measured", oomCause = "oom_cause"
        case diagnosis
    }

    package init(
        pool: String? = nil, peakBytes: UInt64? = nil, limitBytes: UInt64? = nil, oomKills: UInt64? = nil, limitHits: UInt64? = nil,
        poolOOMKills: UInt64? = nil, poolLimitHits: UInt64? = nil, poolPeakBytes: UInt64? = nil,
        poolLimitBytes: UInt64? = nil, containers: Int = 0, notMeasured: String? = nil, oomCause: OOMCause? = nil,
        diagnosis: String? = nil
    ) {
        self.pool = pool
        self.peakBytes = peakBytes
        self.limitBytes = limitBytes
        self.oomKills = oomKills
        self.limitHits = limitHits
        self.poolOOMKills = poolOOMKills
        self.poolLimitHits = poolLimitHits
        self.poolPeakBytes = poolPeakBytes
        self.poolLimitBytes = poolLimitBytes
        self.containers = containers
        self.notMeasured = notMeasured
        self.oomCause = oomCause
        self.diagnosis = diagnosis
    }
}
