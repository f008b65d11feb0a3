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
    /// Bytes of a piped stdin kept for a retry (`retry.stdin_spool`).
    package var stdinSpool: UInt64
    /// Bytes of an artifact stdout held back until the last attempt (`retry.stdout_hold`; 0: never).
    package var stdoutHold: UInt64
    /// An ENOMEM on a healthy host (`retry.healthy_host_enomem`).
    package var healthyHostENOMEM: HealthyHostENOMEM = .once

    package init(
        maxAttempts: Int = 3, deadline: Double = 900, backoff: Backoff = Backoff(),
        ladders: [FailureClass: Ladder] = [:], allowRaiseMemory: Bool = true, stdinSpool: UInt64 = 64 << 20,
        stdoutHold: UInt64 = 64 << 20
    ) {
        self.maxAttempts = maxAttempts
        self.deadline = deadline
        self.backoff = backoff
        self.ladders = ladders
        self.allowRaiseMemory = allowRaiseMemory
        self.stdinSpool = stdinSpool
        self.stdoutHold = stdoutHold
    }

    package func ladder(for c: FailureClass) -> Ladder {
        ladders[c] ?? Ladder.defaults[c] ?? Ladder([])
    }
}
