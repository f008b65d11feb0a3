/// The host's figures looked at again after a failed attempt, and recorded with it (`evidence` in the attempt
/// record): free disk on docker's data root (after the attempt, before it, and the lowest seen while it ran) and
/// on the build context's file system, MemAvailable, page cache, memory pressure, fragmentation. Absent figures
/// were not measurable (a remote engine, a kernel without PSI). `EvidenceJudgement` reads them.
package struct HostEvidence: Codable, Sendable, Equatable {
    package var dataRoot: String?
    package var dataRootFreeBytes: UInt64?
    package var dataRootTotalBytes: UInt64?
    /// Free on the data root just before docker started.
    package var dataRootFreeBeforeBytes: UInt64?
    /// The lowest free space on the data root sampled while docker ran (every 0.1 s): a build that failed on a full
    /// disk may have had its container's layer removed by the time it ends.
    package var dataRootLowestFreeBytes: UInt64?
    /// Free on the file system of the build context (builds with a local context).
    package var contextFreeBytes: UInt64?
    package var memAvailableBytes: UInt64?
    package var memTotalBytes: UInt64?
    package var memFreeBytes: UInt64?
    package var cachedBytes: UInt64?
    /// PSI `some avg10` of /proc/pressure/memory, percent.
    package var pressureSome10: Double?
    /// Free memory in blocks of order 3 (32 KiB) and up, from /proc/buddyinfo.
    package var highOrderFreeBytes: UInt64?
    /// What the evidence decided, in words (set by `EvidenceJudgement`).
    package var judgement: String?

    enum CodingKeys: String, CodingKey {
        case dataRoot = "data_root", dataRootFreeBytes = "data_root_free_bytes"
        case dataRootTotalBytes = "data_root_total_bytes", dataRootFreeBeforeBytes = "data_root_free_before_bytes"
        case dataRootLowestFreeBytes = "data_root_lowest_free_bytes", contextFreeBytes = "context_free_bytes"
        case memAvailableBytes = "mem_available_bytes", memTotalBytes = "mem_total_bytes", memFreeBytes = "mem_free_bytes"
        case cachedBytes = "cached_bytes", pressureSome10 = "pressure_some_avg10"
        case highOrderFreeBytes = "high_order_free_bytes", judgement
    }

    package init(
        dataRoot: String? = nil, dataRootFreeBytes: UInt64? = nil, dataRootTotalBytes: UInt64? = nil,
        dataRootFreeBeforeBytes: UInt64? = nil, dataRootLowestFreeBytes: UInt64? = nil, contextFreeBytes: UInt64? = nil,
        memAvailableBytes: UInt64? = nil, memTotalBytes: UInt64? = nil, memFreeBytes: UInt64? = nil,
        cachedBytes: UInt64? = nil, pressureSome10: Double? = nil, highOrderFreeBytes: UInt64? = nil
    ) {
        self.dataRoot = dataRoot
        self.dataRootFreeBytes = dataRootFreeBytes
        self.dataRootTotalBytes = dataRootTotalBytes
        self.dataRootFreeBeforeBytes = dataRootFreeBeforeBytes
        self.dataRootLowestFreeBytes = dataRootLowestFreeBytes
        self.contextFreeBytes = contextFreeBytes
        self.memAvailableBytes = memAvailableBytes
        self.memTotalBytes = memTotalBytes
        self.memFreeBytes = memFreeBytes
        self.cachedBytes = cachedBytes
        self.pressureSome10 = pressureSome10
        self.highOrderFreeBytes = highOrderFreeBytes
    }

    /// The memory figures of `figures` (MemInfo, PSI, buddyinfo).
    package mutating func take(_ figures: HostFigures) {
        memAvailableBytes = figures.memory?.available
        memTotalBytes = figures.memory?.total
        memFreeBytes = figures.memory?.free
        cachedBytes = figures.memory?.cached
        pressureSome10 = figures.pressure?.some.avg10
        // Order-3 blocks of 4 KiB pages: 32 KiB each.
        highOrderFreeBytes = figures.buddy.map { $0.freeBlocks(atLeast: 3) * (32 << 10) }
    }
}
