/// The retry limits and ladders, as the policy sets them.
package struct RetrySettings: Sendable, Equatable {
    /// Attempts in all, the first included (1 = never retry).
    package var maxAttempts: Int
    /// Seconds from the first attempt's start after which no new attempt starts.
    package var deadline: Double
    package var backoff: Backoff
    /// Per class; a class without a ladder here uses `Ladder.defaults`.
    package var ladders: [FailureClass: Ladder]
    /// Whether an OOM-killed build or run may be retried with a raised `-m` (without it, the same limit would be
    /// killed again, so OOM kills are not retried).
    package var allowRaiseMemory: Bool

    package init(
        maxAttempts: Int = 3, deadline: Double = 900, backoff: Backoff = Backoff(),
        ladders: [FailureClass: Ladder] = [:], allowRaiseMemory: Bool = true
    ) {
        self.maxAttempts = maxAttempts
        self.deadline = deadline
        self.backoff = backoff
        self.ladders = ladders
        self.allowRaiseMemory = allowRaiseMemory
    }

    package func ladder(for c: FailureClass) -> Ladder {
        ladders[c] ?? Ladder.defaults[c] ?? Ladder([])
    }
}
