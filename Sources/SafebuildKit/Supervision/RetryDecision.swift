/// What to do after a failed attempt.
package enum RetryDecision: Sendable, Equatable {
    /// Apply `remedies` (in order), wait `after` seconds, then start the next attempt.
    case retry(after: Double, remedies: [RemedyName])
    /// Stop and exit with docker's status; `why` is one sentence for the user and the journal.
    case giveUp(why: String)

    /// Decides after attempt number `attempt` (1 = the first) failed with `classification`, `elapsed` seconds after
    /// the first attempt started; `previousDelay` is the delay before this attempt (0 for the first).
    /// `unreplayable`: why the attempt cannot be run again unchanged (`ReplayVerdict`), if it cannot.
    package static func decide(
        _ classification: Classification, attempt: Int, elapsed: Double, previousDelay: Double = 0,
        unreplayable: String? = nil, settings: RetrySettings, random: inout some RandomNumberGenerator
    ) -> RetryDecision {
        let c = classification.failureClass
        guard classification.retryable, c.isRetryable else {
            return .giveUp(why: "\(classification.reason)")
        }
        if attempt >= settings.maxAttempts {
            return .giveUp(why: "\(c.rawValue) after \(attempt) attempt(s): the policy allows \(settings.maxAttempts)")
        }
        if let unreplayable {
            return .giveUp(why: "\(c.rawValue): \(unreplayable)")
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
