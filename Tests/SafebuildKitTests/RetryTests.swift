import Testing

@testable import SafebuildKit

@Suite struct LadderTests {
    static func classification(_ c: FailureClass) -> Classification {
        Classification(failureClass: c, line: nil, reason: "test", retryable: c.isRetryable, kernelEvidence: nil)
    }

    @Test(arguments: [
        (FailureClass.networkENOMEM, 1, [RemedyName.dropCaches, .compactMemory]),
        (.networkENOMEM, 2, [.pruneBuildCache, .dropCaches, .compactMemory, .waitForMemory]),
        (.networkENOMEM, 9, [.pruneBuildCache, .pruneDanglingImages, .dropCaches, .compactMemory, .waitForMemory]),
        (.storageENOMEM, 1, [.dropCaches, .compactMemory]),
        (.storageENOMEM, 2, [.pruneBuildCache, .dropCaches, .waitForMemory]),
        (.processENOMEM, 1, [.dropCaches, .waitForMemory]),
        (.pageAllocation, 1, [.compactMemory]),
        (.oomContainer, 1, [.raiseMemory]),
        (.oomBuildStep, 3, [.raiseMemory]),
        (.daemonUnreachable, 2, []),
        (.diskFull, 1, [.freeDisk]),
        (.diskFull, 2, [.freeDisk]),
    ])
    func defaultLadderEscalates(c: FailureClass, retry: Int, expected: [RemedyName]) {
        #expect(RetrySettings().ladder(for: c).remedies(forRetry: retry) == expected)
        var g = SplitMix64(seed: 1)
        let d = RetryDecision.decide(
            Self.classification(c), attempt: retry, elapsed: 0, settings: RetrySettings(maxAttempts: 20), random: &g)
        guard case .retry(_, let remedies) = d else {
            Issue.record("\(c) gave up: \(d)")
            return
        }
        #expect(remedies == expected)
    }

    @Test func notMemoryIsNeverRetried() {
        var g = SplitMix64(seed: 1)
        let d = RetryDecision.decide(
            Self.classification(.notMemory), attempt: 1, elapsed: 0, settings: RetrySettings(maxAttempts: 100),
            random: &g)
        #expect(d == .giveUp(why: "test"))
        #expect(Ladder.defaults[.notMemory]?.steps.isEmpty == true)
    }

    @Test func maxAttemptsDeadlineAndRaiseMemoryAreLimits() {
        var g = SplitMix64(seed: 1)
        let enomem = Self.classification(.networkENOMEM)
        let settings = RetrySettings(maxAttempts: 3, deadline: 100, backoff: Backoff(base: 10, max: 10, jitter: .none))
        #expect(RetryDecision.decide(enomem, attempt: 3, elapsed: 0, settings: settings, random: &g)
            == .giveUp(why: "network_enomem after 3 attempt(s): the policy allows 3"))
        #expect(RetryDecision.decide(enomem, attempt: 2, elapsed: 85, settings: settings, random: &g)
            == .retry(after: 10, remedies: [.pruneBuildCache, .dropCaches, .compactMemory, .waitForMemory]))
        guard case .giveUp(let why) = RetryDecision.decide(enomem, attempt: 2, elapsed: 95, settings: settings, random: &g)
        else { Issue.record("retried past the deadline"); return }
        #expect(why.contains("deadline"))
        var noRaise = settings
        noRaise.allowRaiseMemory = false
        guard case .giveUp(let why2) = RetryDecision.decide(
            Self.classification(.oomContainer), attempt: 1, elapsed: 0, settings: noRaise, random: &g)
        else { Issue.record("OOM retried with the same limit"); return }
        #expect(why2.contains("does not allow raising"))
    }

    @Test func policyLaddersReplaceDefaults() {
        let settings = RetrySettings(ladders: [.networkENOMEM: Ladder([[.waitForMemory]])])
        #expect(settings.ladder(for: .networkENOMEM).remedies(forRetry: 2) == [.waitForMemory])
        #expect(settings.ladder(for: .diskFull) == Ladder.defaults[.diskFull])
    }
}

@Suite struct BackoffTests {
    @Test(arguments: [Backoff.Jitter.full, .decorrelated, .none])
    func delaysStayWithinBounds(jitter: Backoff.Jitter) {
        let b = Backoff(base: 2, max: 30, jitter: jitter)
        var g = SplitMix64(seed: 7)
        var previous = 0.0
        for retry in 1...50 {
            let d = b.delay(retry: retry, previous: previous, random: &g)
            #expect(d >= 0 && d <= 30)
            switch jitter {
            case .full: #expect(d <= min(30, 2 * Double(1 << min(retry - 1, 30))))
            case .decorrelated: #expect(d >= 2 && d <= min(30, max(2, 3 * (previous > 0 ? previous : 2))))
            case .none: #expect(d == min(30, 2 * Double(1 << min(retry - 1, 30))))
            }
            previous = d
        }
    }

    @Test func sameSeedSameDelays() {
        let b = Backoff()
        var g1 = SplitMix64(seed: 99), g2 = SplitMix64(seed: 99)
        let a = (1...5).map { b.delay(retry: $0, previous: 0, random: &g1) }
        let c = (1...5).map { b.delay(retry: $0, previous: 0, random: &g2) }
        #expect(a == c)
        #expect(Set(a).count > 1)
    }

    @Test func exponentialWithoutJitter() {
        var g = SplitMix64(seed: 1)
        let b = Backoff(base: 1, max: 60, jitter: .none)
        #expect((1...8).map { b.delay(retry: $0, previous: 0, random: &g) } == [1, 2, 4, 8, 16, 32, 60, 60])
    }
}
