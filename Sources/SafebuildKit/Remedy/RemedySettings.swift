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
