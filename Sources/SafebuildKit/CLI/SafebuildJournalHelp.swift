import ArgumentParser

/// `safebuild journal help`, as `journal --help` (the journal took the word before its options were ArgumentParser's).
struct SafebuildJournalHelp: SafebuildCommand {
    static let configuration = CommandConfiguration(commandName: "help", shouldDisplay: false)

    func run(_ context: CommandContext) throws(SafebuildError) -> Int32 {
        context.out(OwnCommands.helpMessage(for: SafebuildJournal.self))
        return 0
    }
}
