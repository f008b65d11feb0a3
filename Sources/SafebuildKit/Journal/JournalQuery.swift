#if canImport(Glibc)
import Glibc
#endif

/// Which invocations `safebuild journal` looks at. Pure.
public struct JournalFilter: Sendable, Equatable {
    /// Only invocations started at or after this time (seconds since the epoch).
    public var since: Double?
    public var outcomes: Set<JournalOutcome> = []
    public var classes: Set<String> = []
    /// Shell pattern matched against the image (`run`) and each tag (`build`).
    public var image: String?
    /// Shell pattern matched against the CI job name.
    public var job: String?

    public init() {}

    public func matches(_ invocation: InvocationRecord) -> Bool {
        if let since, let started = JournalTime.parse(invocation.started), started < since { return false }
        if !outcomes.isEmpty, !outcomes.contains(invocation.outcome) { return false }
        if !classes.isEmpty, !classes.contains(invocation.failureClass ?? "") { return false }
        if let image {
            let names = (invocation.image.map { [$0] } ?? []) + (invocation.tags ?? [])
            if !names.contains(where: { Self.glob(image, $0) }) { return false }
        }
        if let job, !Self.glob(job, invocation.ci?.jobName ?? "") { return false }
        return true
    }

    /// Whether the filter looks at more than time.
    var narrowsBeyondTime: Bool { !outcomes.isEmpty || !classes.isEmpty || image != nil || job != nil }

    static func glob(_ pattern: String, _ text: String) -> Bool { fnmatch(pattern, text, 0) == 0 }

    /// `90s`, `30m`, `2h`, `1d`, `2w` before `now`, or a time `2026-11-23T10:00` (UTC unless it has an offset).
    public static func since(_ text: String, now: Double) -> Double? {
        if let last = text.last, let n = Double(text.dropLast()), n >= 0 {
            let unit: Double? = ["s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800][last]
            if let unit { return now - n * unit }
        }
        return JournalTime.parse(text)
    }
}

/// `safebuild journal summary`: what the journal says about the selected invocations. Codable for `--json`.
public struct JournalSummary: Codable, Sendable, Equatable {
    public struct ClassCount: Codable, Sendable, Equatable {
        /// The failure class.
        public var failureClass: String
        /// Attempts that failed with this class.
        public var failedAttempts: Int
        /// Invocations that failed with this class and then succeeded on a retry.
        public var saved: Int
        /// Invocations whose last failure had this class and that failed for good.
        public var failed: Int

        enum CodingKeys: String, CodingKey {
            case failureClass = "class", failedAttempts = "failed_attempts", saved, failed
        }
    }

    public struct RemedyCount: Codable, Sendable, Equatable {
        public var name: String
        public var ran: Int
        public var skipped: Int
        public var failed: Int
        public var reclaimedBytes: Int64

        enum CodingKeys: String, CodingKey {
            case name, ran, skipped, failed, reclaimedBytes = "reclaimed_bytes"
        }
    }

    public var invocations = 0
    /// Invocations by outcome (every outcome present, zero included).
    public var outcomes: [String: Int] = [:]
    /// `succeeded_after_retry`.
    public var savedByRetry = 0
    /// `failed`.
    public var failedForGood = 0
    public var attempts = 0
    /// Attempts after the first.
    public var retries = 0
    public var byClass: [ClassCount] = []
    public var remedies: [RemedyCount] = []
    public var remediesRun = 0
    public var reclaimedBytes: Int64 = 0
    /// Invocations with attempt records but no invocation record (safebuild killed with SIGKILL).
    public var unfinished = 0
    /// Lines of the journal that could not be read.
    public var unparsable = 0

    enum CodingKeys: String, CodingKey {
        case invocations, outcomes, savedByRetry = "saved_by_retry", failedForGood = "failed_for_good", attempts
        case retries, byClass = "by_class", remedies, remediesRun = "remedies_run", reclaimedBytes = "reclaimed_bytes"
        case unfinished, unparsable
    }

    public init() {}

    /// Counts the invocations `filter` selects and their attempts.
    public init(_ contents: JournalContents, filter: JournalFilter = JournalFilter()) {
        let selected = contents.invocations.filter(filter.matches)
        let ids = Set(selected.map(\.id))
        let allInvocationIDs = Set(contents.invocations.map(\.id))
        let attempts = contents.attempts.filter { ids.contains($0.invocation) }
        unparsable = contents.unparsable
        invocations = selected.count
        for outcome in JournalOutcome.allCases { outcomes[outcome.rawValue] = 0 }
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
