/// What one remedy did, for the journal: whether it ran (or why it was skipped), figures before and after, duration.
package struct RemedyReport: Codable, Sendable, Equatable {
    package var name: RemedyName
    package var ran: Bool
    /// Why it did not run (not root, no permission, file absent, in cooldown, …).
    package var skipped: String?
    /// What it did, in a few words (the command, "recovered", "timed out", …).
    package var detail: String?
    /// Figures such as `build_cache_bytes`, `mem_available_bytes`, `high_order_free_bytes`, `memory_limit_bytes`.
    package var before: [String: Int64]
    package var after: [String: Int64]
    package var duration: Double
    /// Set when SIGINT/SIGTERM ended a wait: the retry loop stops at once.
    package var interruptedBy: Int32?
    /// `sudo` when the remedy ran as root through the privileged entry (`sudo -n safebuild remedy NAME`).
    package var via: String?
    /// free_disk: its prune steps, each with the free space before and after.
    package var steps: [PruneStep]?
    /// Why it ran, from the host's figures (why it did not is `skipped`).
    package var because: String?

    package init(
        name: RemedyName, ran: Bool, skipped: String? = nil, detail: String? = nil, before: [String: Int64] = [:],
        after: [String: Int64] = [:], duration: Double = 0, interruptedBy: Int32? = nil, via: String? = nil,
        steps: [PruneStep]? = nil
    ) {
        self.name = name
        self.ran = ran
        self.skipped = skipped
        self.detail = detail
        self.before = before
        self.after = after
        self.duration = duration
        self.interruptedBy = interruptedBy
        self.via = via
        self.steps = steps
    }

    package static func skip(_ name: RemedyName, _ reason: String) -> RemedyReport {
        RemedyReport(name: name, ran: false, skipped: reason)
    }
}
