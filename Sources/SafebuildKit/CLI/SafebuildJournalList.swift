import ArgumentParser

/// `safebuild journal [list]`.
struct SafebuildJournalList: SafebuildCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "Invocations as a table, oldest first (the default subcommand).")

    @OptionGroup var filters: JournalFilterOptions

    @Option(help: ArgumentHelp("Only the last N (0: all).", valueName: "N"))
    var limit = 20

    @Flag(help: "One JSON object per invocation, one per line.")
    var json = false

    func run(_ context: CommandContext) throws(SafebuildError) -> Int32 {
        guard limit >= 0 else {
            throw SafebuildError(.usage, "--limit takes a whole number, 0 for all (got '\(limit)')")
        }
        return try JournalCommand.list(
            try filters.filter(now: context.now), limit: limit, json: json, journalPath: context.journalPath,
            print: context.out)
    }
}
