import ArgumentParser

/// `safebuild journal path`.
struct SafebuildJournalPath: SafebuildCommand {
    static let configuration = CommandConfiguration(
        commandName: "path",
        abstract: "The journal file protected commands write (the host policy's journal.path), or the one --sb-journal / SAFEBUILD_JOURNAL names for reading.")

    func run(_ context: CommandContext) throws(SafebuildError) -> Int32 {
        context.out(context.journalPath + "\n")
        return 0
    }
}
