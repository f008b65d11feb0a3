import ArgumentParser

/// `safebuild journal [list] | summary | show ID | path`.
struct SafebuildJournal: SafebuildCommand {
    static let configuration = CommandConfiguration(
        commandName: "journal",
        abstract: "Recent protected invocations, from the journal (the rotated files too).",
        subcommands: [
            SafebuildJournalList.self, SafebuildJournalSummary.self, SafebuildJournalShow.self,
            SafebuildJournalPath.self, SafebuildJournalHelp.self,
        ],
        defaultSubcommand: SafebuildJournalList.self,
        helpNames: [.short, .long])

    func run(_ context: CommandContext) throws(SafebuildError) -> Int32 {
        throw missingSubcommand
    }
}
