import ArgumentParser

/// `safebuild policy suggest`.
struct SafebuildPolicySuggest: SafebuildCommand {
    static let configuration = CommandConfiguration(
        commandName: "suggest",
        abstract: "Memory rules learned from the journal (p95 peak + headroom per image and CI job), as YAML.")

    @Option(help: ArgumentHelp(
        "Percent added to each p95 peak (default: the policy's admission.learned_headroom).", valueName: "PERCENT"))
    var headroom: Double?

    @Option(help: ArgumentHelp("Measured peaks an image or job needs before it gets a rule.", valueName: "N"))
    var minRuns: Int = 3

    @Option(help: ArgumentHelp(
        "Only invocations since a duration ago (90s, 30m, 2h, 1d, 2w) or a time (2026-11-23T10:00).", valueName: "WHEN"))
    var since: String?

    func validate() throws {
        if let headroom, !(0...400).contains(headroom) { throw ValidationError("--headroom takes a percentage from 0 to 400") }
        guard minRuns >= 1 else { throw ValidationError("--min-runs needs at least 1") }
    }

    func run(_ context: CommandContext) throws(SafebuildError) -> Int32 {
        let policy = try? PolicyLoader.load(
            options: context.options, environment: context.environment, currentDirectory: context.currentDirectory,
            hostPath: context.hostPolicyPath)
        let percent = headroom ?? (policy?.policy ?? PolicyLoader.builtIn).admission.learnedHeadroom.value
        var filter = JournalFilter()
        if let since { filter.since = try JournalFilter.since(since, now: context.now) }
        let path = context.journalPath
        let contents = try JournalCommand.readOrExplain(path)
        context.out(PolicySuggestion.yaml(contents, journalPath: path, headroom: percent, minimumRuns: minRuns, filter: filter))
        return 0
    }
}
