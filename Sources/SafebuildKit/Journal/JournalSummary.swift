import Glibc

/// `safebuild journal summary`: what the journal says about the selected invocations. Codable for `--json`.
package struct JournalSummary: Codable, Sendable, Equatable {
    package struct ClassCount: Codable, Sendable, Equatable {
        /// The failure class.
        package var failureClass: String
        /// Attempts that failed with this class.
        package var failedAttempts: Int
        /// Invocations that failed with this class and then succeeded on a retry.
        package var saved: Int
        /// Invocations whose last failure had this class and that failed for good.
        package var failed: Int

        enum CodingKeys: String, CodingKey {
            case failureClass = "class", failedAttempts = "failed_attempts", saved, failed
        }
    }

    package struct RemedyCount: Codable, Sendable, Equatable {
        package var name: String
        package var ran: Int
        package var skipped: Int
        package var failed: Int
        package var reclaimedBytes: Int64

        enum CodingKeys: String, CodingKey {
            case name, ran, skipped, failed, reclaimedBytes = "reclaimed_bytes"
        }
    }

    package var invocations = 0
    /// Invocations by outcome (every outcome present, zero included).
    package var outcomes: [String: Int] = [:]
    /// `succeeded_after_retry`.
    package var savedByRetry = 0
    /// `failed`.
    package var failedForGood = 0
    package var attempts = 0
    /// Attempts after the first.
    package var retries = 0
    package var byClass: [ClassCount] = []
    package var remedies: [RemedyCount] = []
    package var remediesRun = 0
    package var reclaimedBytes: Int64 = 0
    /// Memory per image (`run`'s image, a build's first tag) and per CI job: runs, peaks, OOM kills.
    package var images: [MemoryProfile] = []
    package var jobs: [MemoryProfile] = []
    /// Invocations with attempt records but no invocation record (safebuild killed with SIGKILL).
    package var unfinished = 0
    /// Lines of the journal that could not be read.
    package var unparsable = 0

    enum CodingKeys: String, CodingKey {
        case invocations, outcomes, savedByRetry = "saved_by_retry", failedForGood = "failed_for_good", attempts
        case retries, byClass = "by_class", remedies, remediesRun = "remedies_run", reclaimedBytes = "reclaimed_bytes"
        case unfinished, unparsable, images, jobs
    }

    package init() {}

    /// Counts the invocations `filter` selects and their attempts.
    package init(_ contents: JournalContents, filter: JournalFilter = JournalFilter()) {
        let selected = contents.invocations.filter(filter.matches)
        let ids = Set(selected.map(\.id))
        let allInvocationIDs = Set(contents.invocations.map(\.id))
        let attempts = contents.attempts.filter { ids.contains($0.invocation) }
        unparsable = contents.unparsable
        invocations = selected.count
        // `running` and `killed` only when there are some.
        for outcome in JournalOutcome.allCases where outcome != .running && outcome != .killed { outcomes[outcome.rawValue] = 0 }
        for inv in selected { outcomes[inv.outcome.rawValue, default: 0] += 1 }
        savedByRetry = outcomes[JournalOutcome.succeededAfterRetry.rawValue] ?? 0
        failedForGood = outcomes[JournalOutcome.failed.rawValue] ?? 0
        self.attempts = attempts.count
        retries = attempts.filter { $0.attempt > 1 }.count

        var classes: [String: ClassCount] = [:]
        func count(_ name: String, _ change: (inout ClassCount) -> Void) {
            change(&classes[name, default: ClassCount(failureClass: name, failedAttempts: 0, saved: 0, failed: 0)])
        }
        for attempt in attempts {
            if let c = attempt.failureClass { count(c) { $0.failedAttempts += 1 } }
        }
        let byInvocation = Dictionary(grouping: attempts, by: \.invocation)
        for inv in selected {
            switch inv.outcome {
            case .succeededAfterRetry:
                let seen = Set((byInvocation[inv.id] ?? []).compactMap(\.failureClass))
                for c in seen { count(c) { $0.saved += 1 } }
            case .failed:
                if let c = inv.failureClass { count(c) { $0.failed += 1 } }
            default: break
            }
        }
        byClass = classes.values.sorted { ($0.failedAttempts, $1.failureClass) > ($1.failedAttempts, $0.failureClass) }

        var remedies: [String: RemedyCount] = [:]
        for remedy in attempts.flatMap(\.remedies) {
            var r = remedies[remedy.name] ?? RemedyCount(name: remedy.name, ran: 0, skipped: 0, failed: 0, reclaimedBytes: 0)
            if remedy.ran {
                r.ran += 1
                if remedy.error != nil { r.failed += 1 }
                r.reclaimedBytes += remedy.reclaimed
            } else {
                r.skipped += 1
            }
            remedies[remedy.name] = r
        }
        self.remedies = remedies.values.sorted { ($0.ran, $1.name) > ($1.ran, $0.name) }
        remediesRun = self.remedies.reduce(0) { $0 + $1.ran }
        reclaimedBytes = self.remedies.reduce(0) { $0 + $1.reclaimedBytes }

        (images, jobs) = MemoryProfile.profiles(contents, filter: filter)

        if !filter.narrowsBeyondTime {
            var orphans = Set<String>()
            for attempt in contents.attempts where !allInvocationIDs.contains(attempt.invocation) {
                if let since = filter.since, let t = JournalTime.parse(attempt.started), t < since { continue }
                orphans.insert(attempt.invocation)
            }
            unfinished = orphans.count
        }
    }
}
