import ArgumentParser

/// `safebuild journal path`.
struct SafebuildJournalPath: SafebuildCommand {
    static let configuration = CommandConfiguration(commandName: "path", abstract: "The journal file in effect.")

    func run(_ context: CommandContext) throws(SafebuildError) -> Int32 {
        context.out(context.journalPath + "\n")
        return 0
    }
}
