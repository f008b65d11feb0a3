import ArgumentParser

/// One of safebuild's own commands: its arguments parsed by ArgumentParser (which also gives its `--help` and its
/// part of the shell completion scripts), then run with a `CommandContext`, as swiftly's commands take a
/// SwiftlyCoreContext. `run(_:)` returns the exit status; a `SafebuildError` ends safebuild with its own.
///
/// To add a command: a type named after its command line (`SafebuildPolicyShow` for `safebuild policy show`), in its
/// own file here, listed in its parent's `subcommands`; a top-level one also gets its word in `Invocation.OwnCommand`.
protocol SafebuildCommand: ParsableCommand {
    func run(_ context: CommandContext) throws(SafebuildError) -> Int32
}

extension SafebuildCommand {
    /// For a command that only groups subcommands: named alone, it is a usage error that shows its help.
    var missingSubcommand: SafebuildError {
        SafebuildError(.usage, "\(Self._commandName) needs a subcommand\n" + OwnCommands.helpMessage(for: Self.self))
    }
}
