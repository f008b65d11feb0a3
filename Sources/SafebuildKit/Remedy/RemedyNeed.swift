/// Whether drop_caches or compact_memory can help, from the host's figures. Both act on the whole host: every job on
/// it reads the dropped page cache back from disk, and compaction moves pages while every allocation waits on it. So
/// they run only when the figures say they can help, and the journal says which figures: the report's `because` when
/// one runs, its `skipped` when it does not. The thresholds are host-only policy keys (`remedies.drop_caches_min_cache`,
/// `drop_caches_max_available`, `compact_memory_max_free`): the privileged entry applies the host's, whatever the
/// caller's environment says.
package enum RemedyNeed: Equatable, Sendable {
    /// It can help; why.
    case needed(String)
    /// It cannot; why.
    case notNeeded(String)

    /// drop_caches: at least `dropCachesMinCache` of page cache (`Cached`) to drop, and memory short: MemAvailable
    /// below `dropCachesMaxAvailable`, or without one below 1 GiB or 20% of MemTotal (where an ENOMEM stops counting
    /// as one on a healthy host). Without /proc/meminfo the figures cannot say no: it runs as the ladder says.
    package static func dropCaches(_ info: MemInfo?, settings: RemedySettings) -> RemedyNeed {
        guard let info else { return .needed("/proc/meminfo could not be read: run as the ladder says") }
        let cached = ByteSize.describe(info.cached)
        let available = "\(ByteSize.describe(info.available)) of \(ByteSize.describe(info.total)) available"
        if info.cached < settings.dropCachesMinCache {
            return .notNeeded(
                "only \(cached) of page cache, below drop_caches_min_cache \(ByteSize.describe(settings.dropCachesMinCache)): nothing worth dropping")
        }
        let limit: UInt64, named: String
        if let max = settings.dropCachesMaxAvailable {
            limit = max
            named = "drop_caches_max_available \(ByteSize.describe(max))"
        } else {
            limit = Swift.max(EvidenceJudgement.plentyFloor, UInt64(EvidenceJudgement.plentyShare * Double(info.total)))
            named = "\(ByteSize.describe(limit)) (1 GiB or 20% of memory)"
        }
        guard info.available < limit else {
            return .notNeeded(
                "\(available), not below \(named): memory is not short, and every job would read the dropped page cache back from disk")
        }
        return .needed("\(cached) of page cache, and only \(available), below \(named)")
    }

    /// compact_memory: less than `compactMemoryMaxFree` free in blocks of order 3 (32 KiB) and up, the blocks
    /// compaction makes. Without /proc/buddyinfo it runs as the ladder says.
    package static func compactMemory(highOrderFree: Int64?, settings: RemedySettings) -> RemedyNeed {
        guard let highOrderFree else { return .needed("/proc/buddyinfo could not be read: run as the ladder says") }
        let free = ByteSize.describe(UInt64(Swift.max(0, highOrderFree)))
        let named = "compact_memory_max_free \(ByteSize.describe(settings.compactMemoryMaxFree))"
        guard highOrderFree < Int64(clamping: settings.compactMemoryMaxFree) else {
            return .notNeeded("\(free) free in blocks of 32 KiB and up, not below \(named): memory is not fragmented")
        }
        return .needed("only \(free) free in blocks of 32 KiB and up, below \(named)")
    }
}
