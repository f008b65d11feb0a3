/// A remedy safebuild can apply between attempts. The raw value is the policy's and the journal's spelling.
package enum RemedyName: String, Codable, Sendable, CaseIterable {
    /// `docker builder prune -f --keep-storage SIZE` (or `--filter until=AGE`): cache records in use are kept.
    case pruneBuildCache = "prune_build_cache"
    /// `docker image prune -f`: dangling images only, and only those no container uses.
    case pruneDanglingImages = "prune_dangling_images"
    /// sync(), then 1 to /proc/sys/vm/drop_caches (root only).
    case dropCaches = "drop_caches"
    /// 1 to /proc/sys/vm/compact_memory (root only).
    case compactMemory = "compact_memory"
    /// Wait, bounded, for MemAvailable to recover.
    case waitForMemory = "wait_for_memory"
    /// Raise the memory limit (`-m`) of the OOM-killed build or run by a factor, up to a cap.
    case raiseMemory = "raise_memory"
    /// Prune in steps until docker's data root has enough free: dangling images and build cache older than
    /// `remedies.prune_until`, then younger, down to `remedies.prune_floor` (never younger); never a tagged image,
    /// never one a container uses, never cache in use.
    case freeDisk = "free_disk"

    /// Whether it writes what only root may write (/proc/sys/vm): a safebuild that is not root asks the privileged
    /// entry (`sudo -n safebuild remedy NAME`) for it.
    package var needsRoot: Bool { self == .dropCaches || self == .compactMemory }
}
