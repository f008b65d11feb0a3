import ArgumentParser

/// `safebuild policy check FILE…`.
struct SafebuildPolicyCheck: SafebuildCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Validates policy files (exit 0 when all are valid, 78 otherwise).")

    @Argument(help: ArgumentHelp("Policy files.", valueName: "FILE"), completion: .file(extensions: ["yml", "yaml"]))
    var files: [String]

    func run(_ context: CommandContext) throws(SafebuildError) -> Int32 {
        PolicyCommand.check(files, currentDirectory: context.currentDirectory, out: context.out, err: context.err)
    }
}
