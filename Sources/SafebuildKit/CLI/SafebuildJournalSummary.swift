import ArgumentParser

/// `safebuild journal summary`.
struct SafebuildJournalSummary: SafebuildCommand {
    static let configuration = CommandConfiguration(
        commandName: "summary", abstract: "Outcomes, failure classes and remedies, counted.")

    @OptionGroup var filters: JournalFilterOptions

    @Flag(help: "Print JSON.")
    var json = false

    func run(_ context: CommandContext) throws(SafebuildError) -> Int32 {
        try JournalCommand.summary(
            try filters.filter(now: context.now), json: json, journalPath: context.journalPath, print: context.out)
    }
}
