/// What the journal knows of the memory one image or one CI job uses: its runs, the peaks of its successful attempts
/// (p50, p95, max) and its OOM kills. `journal summary` prints them, `policy suggest` turns them into rules, and
/// `admission.reserve: learned` reserves the p95 with headroom.
package struct MemoryProfile: Codable, Sendable, Equatable {
    package enum Kind: String, Codable, Sendable { case image, job }

    package var kind: Kind
    /// The image (`run`), the first tag (`build`), or the CI job name.
    package var name: String
    /// Invocations.
    package var runs: Int
    /// Peaks of the attempts that succeeded with a measured peak, ascending.
    package var peaks: [UInt64]
    /// Attempts OOM-killed, and of those, the ones diagnosed as the own limit and as the shared pool.
    package var oomKills: Int
    package var ownLimitKills: Int
    package var poolKills: Int

    enum CodingKeys: String, CodingKey {
        case kind, name, runs, peaks = "peak_bytes", oomKills = "oom_kills", ownLimitKills = "own_limit_kills"
        case poolKills = "pool_kills"
    }

    package init(kind: Kind, name: String, runs: Int = 0, peaks: [UInt64] = [], oomKills: Int = 0, ownLimitKills: Int = 0, poolKills: Int = 0) {
        self.kind = kind
        self.name = name
        self.runs = runs
        self.peaks = peaks
        self.oomKills = oomKills
        self.ownLimitKills = ownLimitKills
        self.poolKills = poolKills
    }

    package var p50: UInt64? { Self.percentile(peaks, 50) }
    package var p95: UInt64? { Self.percentile(peaks, 95) }
    package var max: UInt64? { peaks.last }

    /// Nearest rank: the smallest value with at least `p` percent of the values at or below it.
    package static func percentile(_ sorted: [UInt64], _ p: Double) -> UInt64? {
        guard !sorted.isEmpty else { return nil }
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
        return sorted[Swift.min(Swift.max(rank, 1), sorted.count) - 1]
    }

    /// The p95 peak plus `headroom` percent, rounded up to a multiple of 64 MiB: a memory limit or a reservation.
    package func suggested(headroom: Double) -> UInt64? {
        guard let p95 else { return nil }
        let raw = Double(p95) * (1 + headroom / 100)
        let step = Double(64 * Size.mib)
        return UInt64((raw / step).rounded(.up) * step)
    }

    /// The profiles of every image and every CI job in `contents` (of the invocations `filter` selects), each list
    /// sorted by name.
    package static func profiles(
        _ contents: JournalContents, filter: JournalFilter = JournalFilter()
    ) -> (images: [MemoryProfile], jobs: [MemoryProfile]) {
        let selected = contents.invocations.filter(filter.matches)
        let attempts = Dictionary(grouping: contents.attempts, by: \.invocation)
        var images: [String: MemoryProfile] = [:]
        var jobs: [String: MemoryProfile] = [:]
        for invocation in selected {
            let own = attempts[invocation.id] ?? []
            func add(_ profile: inout MemoryProfile) {
                profile.runs += 1
                for attempt in own {
                    if attempt.succeeded, let peak = attempt.memory?.peakBytes { profile.peaks.append(peak) }
                    if attempt.failureClass == FailureClass.oomContainer.rawValue
                        || attempt.failureClass == FailureClass.oomBuildStep.rawValue
                    {
                        profile.oomKills += 1
                        switch attempt.memory?.oomCause {
                        case .ownLimit: profile.ownLimitKills += 1
                        case .poolPressure: profile.poolKills += 1
                        case nil: break
                        }
                    }
                }
            }
            if let image = invocation.image ?? invocation.tags?.first {
                add(&images[image, default: MemoryProfile(kind: .image, name: image)])
            }
            if let job = invocation.ci?.jobName {
                add(&jobs[job, default: MemoryProfile(kind: .job, name: job)])
            }
        }
        func sorted(_ d: [String: MemoryProfile]) -> [MemoryProfile] {
            d.values.map { p in
                var p = p
                p.peaks.sort()
                return p
            }.sorted { $0.name < $1.name }
        }
        return (sorted(images), sorted(jobs))
    }

    /// What `admission.reserve: learned` reserves for a command of CI job `job` (preferred) or image `image`: the
    /// suggested figure of the first of them with at least `minimumRuns` measured peaks.
    package static func learned(
        _ contents: JournalContents, job: String?, image: String?, headroom: Double, minimumRuns: Int = 3
    ) -> (bytes: UInt64, sentence: String)? {
        let all = profiles(contents)
        let candidates = [job.flatMap { j in all.jobs.first { $0.name == j } }, image.flatMap { i in all.images.first { $0.name == i } }]
        for case let profile? in candidates where profile.peaks.count >= minimumRuns {
            guard let bytes = profile.suggested(headroom: headroom), let p95 = profile.p95 else { continue }
            let sentence = "learned from \(profile.peaks.count) runs of \(profile.kind.rawValue) \(profile.name): p95 peak "
                + "\(AdmissionProgress.bytes(p95)) + \(ConsoleReport.number(headroom))% = \(Size.format(bytes))"
            return (bytes, sentence)
        }
        return nil
    }
}
