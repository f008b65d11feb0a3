import ArgumentParser

/// `safebuild policy show [--json]`.
struct SafebuildPolicyShow: SafebuildCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "The effective policy, with the source of every value.")

    @Flag(help: "Print JSON instead of YAML.")
    var json = false

    func run(_ context: CommandContext) throws(SafebuildError) -> Int32 {
        try PolicyCommand.show(
            json: json, options: context.options, environment: context.environment,
            currentDirectory: context.currentDirectory, hostPath: context.hostPolicyPath,
            hostMemory: context.hostMemory, out: context.out, err: context.err)
    }
}
