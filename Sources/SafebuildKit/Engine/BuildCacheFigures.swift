/// The build cache as `GET /system/df` reports it.
package struct BuildCacheFigures: Codable, Sendable, Equatable {
    package var records: Int
    package var inUse: Int
    /// Bytes in records not shared with an image: what `docker system df` prints as Build Cache SIZE.
    package var size: Int64
    /// Bytes in records neither shared nor in use: what a prune can free (`docker system df` RECLAIMABLE).
    package var reclaimable: Int64
    /// Bytes in shared records (kept by a prune while the image exists).
    package var shared: Int64

    /// From the `BuildCache` array of `GET /system/df`: docker's CLI (cli/command/formatter/disk_usage.go, 20.10)
    /// sums `Size` over records with `Shared == false` for SIZE and leaves out `InUse` ones for RECLAIMABLE.
    static func parse(_ records: [DockerJSON.BuildCacheRecord]) -> BuildCacheFigures {
        var figures = BuildCacheFigures(records: records.count, inUse: 0, size: 0, reclaimable: 0, shared: 0)
        for record in records {
            let size = record.size ?? 0
            let inUse = record.inUse ?? false
            if inUse { figures.inUse += 1 }
            if record.shared ?? false {
                figures.shared += size
            } else {
                figures.size += size
                if !inUse { figures.reclaimable += size }
            }
        }
        return figures
    }
}
