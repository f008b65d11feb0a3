/// One step of free_disk: dangling images and build cache older than `until` pruned, with the data root's free
/// space before and after, for example `{until: "1h", free_before_bytes: 2.7e7, free_after_bytes: 9.7e7, …}`.
package struct PruneStep: Codable, Sendable, Equatable {
    /// The age filter, in Go's duration text (`24h`, `1h`, `10m`): only what is older is pruned.
    package var until: String
    package var freeBeforeBytes: Int64?
    package var freeAfterBytes: Int64?
    /// What docker reported freeing: images, build cache.
    package var imagesReclaimedBytes: Int64?
    package var cacheReclaimedBytes: Int64?
    package var seconds: Double
    /// A prune that failed, in docker's words.
    package var error: String?

    enum CodingKeys: String, CodingKey {
        case until, freeBeforeBytes = "free_before_bytes", freeAfterBytes = "free_after_bytes"
        case imagesReclaimedBytes = "images_reclaimed_bytes", cacheReclaimedBytes = "cache_reclaimed_bytes", seconds, error
    }

    package init(
        until: String, freeBeforeBytes: Int64? = nil, freeAfterBytes: Int64? = nil, imagesReclaimedBytes: Int64? = nil,
        cacheReclaimedBytes: Int64? = nil, seconds: Double = 0, error: String? = nil
    ) {
        self.until = until
        self.freeBeforeBytes = freeBeforeBytes
        self.freeAfterBytes = freeAfterBytes
        self.imagesReclaimedBytes = imagesReclaimedBytes
        self.cacheReclaimedBytes = cacheReclaimedBytes
        self.seconds = seconds
        self.error = error
    }
}
