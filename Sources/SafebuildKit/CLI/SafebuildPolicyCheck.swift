import ArgumentParser

/// `safebuild policy check [--host] FILE…`.
struct SafebuildPolicyCheck: SafebuildCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validates policy files (exit 0 when all are valid, 78 otherwise).",
        discussion: """
            A file is checked as a project's policy, held to this host's policy: keys only the host policy may set, \
            and values beyond what the host allows, are reported as warnings (the file is still valid). The host \
            policy itself, or any file with --host, is checked as a host policy.
            """)

    @Flag(help: "Check the files as host policies (every key allowed).")
    var host = false

    @Argument(help: ArgumentHelp("Policy files.", valueName: "FILE"), completion: .file(extensions: ["yml", "yaml"]))
    var files: [String]

    func run(_ context: CommandContext) throws(SafebuildError) -> Int32 {
        PolicyCommand.check(
            files, asHost: host, currentDirectory: context.currentDirectory, hostPath: context.hostPolicyPath,
            hostMemory: context.hostMemory, out: context.out, err: context.err)
    }
}
