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

/// What to do after a failed attempt.
package enum RetryDecision: Sendable, Equatable {
    /// Apply `remedies` (in order), wait `after` seconds, then start the next attempt.
    case retry(after: Double, remedies: [RemedyName])
    /// Stop and exit with docker's status; `why` is one sentence for the user and the journal.
    case giveUp(why: String)

    /// Decides after attempt number `attempt` (1 = the first) failed with `classification`, `elapsed` seconds after
    /// the first attempt started; `previousDelay` is the delay before this attempt (0 for the first).
    package static func decide(
        _ classification: Classification, attempt: Int, elapsed: Double, previousDelay: Double = 0,
        settings: RetrySettings, random: inout some RandomNumberGenerator
    ) -> RetryDecision {
        let c = classification.failureClass
        guard classification.retryable, c.isRetryable else {
            return .giveUp(why: "\(classification.reason)")
        }
        if attempt >= settings.maxAttempts {
            return .giveUp(why: "\(c.rawValue) after \(attempt) attempt(s): the policy allows \(settings.maxAttempts)")
        }
        let ladder = settings.ladder(for: c)
        if ladder.steps.isEmpty {
            return .giveUp(why: "\(c.rawValue): the policy's ladder for it is empty, so it is not retried")
        }
        let remedies = ladder.remedies(forRetry: attempt)
        if remedies.contains(.raiseMemory) && !settings.allowRaiseMemory {
            return .giveUp(
                why: "\(c.rawValue): the same memory limit would be killed again and the policy does not allow raising it")
        }
        let delay = settings.backoff.delay(retry: attempt, previous: previousDelay, random: &random)
        if elapsed + delay >= settings.deadline {
            let left = Swift.max(0, settings.deadline - elapsed)
            return .giveUp(
                why: "\(c.rawValue): the next attempt would start after the policy's deadline (\(Int(left.rounded())) s left)")
        }
        return .retry(after: delay, remedies: remedies)
    }
}
