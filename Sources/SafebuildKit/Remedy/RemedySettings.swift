/// Settings of the remedies, from the policy.
package struct RemedySettings: Sendable, Equatable {
    /// `docker builder prune --keep-storage` value (docker's size syntax), or nil to prune by age only.
    package var keepStorage: String?
    /// `docker builder prune --filter until=` value (`24h`), or nil.
    package var pruneUntil: String?
    /// wait_for_memory: MemAvailable to wait for, in bytes.
    package var waitForAvailable: UInt64
    /// wait_for_memory: the longest wait, in seconds.
    package var waitTimeout: Double
    package var pollInterval: Double
    /// raise_memory: factor and cap (bytes).
    package var raiseFactor: Double
    package var raiseCap: UInt64
    /// free_disk: the youngest age it prunes, in seconds (`remedies.prune_floor`), and the free space it stops at
    /// (`preflight.min_free_disk`; nil: max(1% of the disk, 64 MiB)).
    package var pruneFloor: Double = 600
    /// free_disk: the age of its first step, in seconds (`remedies.prune_until`).
    package var pruneAge: Double = 86400
    package var freeDiskTarget: UInt64?
    /// drop_caches: the page cache below which there is nothing worth dropping (`remedies.drop_caches_min_cache`).
    package var dropCachesMinCache: UInt64 = 256 << 20
    /// drop_caches: MemAvailable below which memory is short (`remedies.drop_caches_max_available`); nil: below
    /// 1 GiB or 20% of MemTotal (`EvidenceJudgement.plentyFloor`, `plentyShare`).
    package var dropCachesMaxAvailable: UInt64?
    /// compact_memory: free memory in blocks of 32 KiB and up below which memory is fragmented
    /// (`remedies.compact_memory_max_free`).
    package var compactMemoryMaxFree: UInt64 = 256 << 20

    package init(
        keepStorage: String? = "2gb", pruneUntil: String? = nil, waitForAvailable: UInt64 = 512 << 20,
        waitTimeout: Double = 60, pollInterval: Double = 1, raiseFactor: Double = 2, raiseCap: UInt64 = 8 << 30
    ) {
        self.keepStorage = keepStorage
        self.pruneUntil = pruneUntil
        self.waitForAvailable = waitForAvailable
        self.waitTimeout = waitTimeout
        self.pollInterval = pollInterval
        self.raiseFactor = raiseFactor
        self.raiseCap = raiseCap
    }
}
