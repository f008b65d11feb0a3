import ArgumentParser

/// `safebuild policy path`.
struct SafebuildPolicyPath: SafebuildCommand {
    static let configuration = CommandConfiguration(commandName: "path", abstract: "The policy layers in effect, lowest first.")

    func run(_ context: CommandContext) throws(SafebuildError) -> Int32 {
        try PolicyCommand.path(
            options: context.options, environment: context.environment, currentDirectory: context.currentDirectory,
            hostPath: context.hostPolicyPath, out: context.out, err: context.err)
    }
}
