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
}

/// Per failure class, the remedies to apply before each retry, escalating: step 1 before the first retry, step 2
/// before the second, and the last step again for any retry after that. An empty step means "only wait the backoff".
package struct Ladder: Sendable, Equatable {
    package var steps: [[RemedyName]]

    package init(_ steps: [[RemedyName]]) {
        self.steps = steps
    }

    /// The remedies before retry number `retry` (1 = the first retry, i.e. the second attempt).
    package func remedies(forRetry retry: Int) -> [RemedyName] {
        guard !steps.isEmpty else { return [] }
        return steps[min(max(retry, 1), steps.count) - 1]
    }

    /// The defaults: the ladders of the built-in policy (Config/default-policy.yml, where they are explained).
    package static var defaults: [FailureClass: Ladder] { RetrySettings.builtIn.ladders }
}
