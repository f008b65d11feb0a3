import ArgumentParser

/// `safebuild journal show ID`.
struct SafebuildJournalShow: SafebuildCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "One invocation and each of its attempts.")

    @Argument(help: "The invocation's id, or enough of its start to name one.")
    var id: String

    @Flag(help: "The records as JSON, one per line.")
    var json = false

    func run(_ context: CommandContext) throws(SafebuildError) -> Int32 {
        try JournalCommand.show(id: id, json: json, journalPath: context.journalPath, print: context.out)
    }
}
