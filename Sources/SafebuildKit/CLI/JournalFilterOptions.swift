import ArgumentParser

/// The filters of `safebuild journal` (list) and `journal summary`.
struct JournalFilterOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Only invocations since a duration ago (90s, 30m, 2h, 1d, 2w) or a time (2026-11-23T10:00; UTC unless it has an offset).",
        valueName: "WHEN"))
    var since: String?

    @Option(help: ArgumentHelp(
        "Only these outcomes, comma-separated: \(JournalOutcome.allCases.map(\.rawValue).joined(separator: ", ")).",
        valueName: "O[,O…]"))
    var outcome: [String] = []

    @Option(name: .customLong("class"), help: ArgumentHelp("Only these failure classes, comma-separated.", valueName: "C[,C…]"))
    var classes: [String] = []

    @Option(help: ArgumentHelp("Only images (run) or tags (build) that match this shell pattern.", valueName: "GLOB"))
    var image: String?

    @Option(help: ArgumentHelp("Only CI jobs whose name matches this shell pattern.", valueName: "GLOB"))
    var job: String?

    /// The filter, with `--since` read against `now`.
    func filter(now: Double) throws(SafebuildError) -> JournalFilter {
        var filter = JournalFilter()
        if let since { filter.since = try JournalFilter.since(since, now: now) }
        for o in outcome.flatMap({ $0.split(separator: ",") }) {
            guard let outcome = JournalOutcome(rawValue: String(o)) else {
                let known = JournalOutcome.allCases.map(\.rawValue).joined(separator: ", ")
                throw SafebuildError(.usage, "--outcome \(o) is not an outcome; use one of \(known)")
            }
            filter.outcomes.insert(outcome)
        }
        filter.classes.formUnion(classes.flatMap { $0.split(separator: ",").map(String.init) })
        filter.image = image
        filter.job = job
        return filter
    }
}
