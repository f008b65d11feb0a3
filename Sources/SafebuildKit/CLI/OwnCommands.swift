import ArgumentParser

/// The root of safebuild's own commands. Only `Invocation.parse` sends anything here, and only the words of an own
/// command: a docker command line never reaches ArgumentParser, which is not even initialised on the docker path.
struct OwnCommands: SafebuildCommand {
    static let configuration = CommandConfiguration(
        commandName: "safebuild",
        abstract: "Runs docker; protects docker build and docker run.",
        usage: """
            safebuild [safebuild options] <docker arguments…>
            safebuild doctor | policy … | journal … | retry [ID] | remedy NAME | --version
            """,
        discussion: """
            `build` and `run` (and `image build`, `builder build`, `buildx build`, `container run`) are protected: memory \
            defaults from the policy, pre-flight checks, classified failures, remedies and retries, and a journal of \
            every attempt. Every other command is handed to docker unchanged.

            safebuild options (before the docker arguments), each also an environment variable:

            """ + SafebuildOptions.helpText,
        version: OwnCommands.version,
        subcommands: [
            SafebuildDoctor.self, SafebuildPolicy.self, SafebuildJournal.self, SafebuildRetry.self,
            SafebuildRemedy.self,
        ],
        // `--help` and `-h` are docker's: `safebuild --help` prints docker's help.
        helpNames: [.customLong("sb-help")])

    static let version = "safebuild \(Safebuild.version)"

    /// safebuild says its errors itself (`safebuild: error: …`).
    static var _errorPrefix: String { "" }

    func run(_ context: CommandContext) throws(SafebuildError) -> Int32 {
        context.out(Self.helpMessage())
        return 0
    }

    /// Parses one own command line (`Invocation.OwnCommand.commandLine`) and runs it. Help, the version and the
    /// completion scripts go to stdout with status 0; a command line ArgumentParser rejects is a usage error (64).
    static func run(_ arguments: [String], context: CommandContext) throws(SafebuildError) -> Int32 {
        // `safebuild --version` alone is the start-up benchmark: answered with the configuration's text before
        // ArgumentParser, whose parse would add about 3 ms and 2 MB to print the same line (static release build).
        if arguments == [Invocation.OwnCommand.version.rawValue] {
            context.out(version + "\n")
            return 0
        }
        do {
            var command = try parseAsRoot(arguments)
            if let own = command as? any SafebuildCommand { return try own.run(context) }
            // ArgumentParser's own `help` command, which answers by throwing its text.
            try command.run()
            return 0
        } catch let error as SafebuildError {
            throw error
        } catch {
            var text = fullMessage(for: error)
            if !text.hasSuffix("\n") { text += "\n" }
            guard exitCode(for: error) == .success else {
                var lines = text.dropLast().split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                if let hint = suggestion(for: arguments) { lines[0] += "; did you mean '\(hint)'?" }
                throw SafebuildError(.usage, lines.joined(separator: "\n"))
            }
            context.out(text)
            return 0
        }
    }

    /// The subcommand a misspelt word probably meant (`policy chek`: `check`).
    static func suggestion(for arguments: [String]) -> String? {
        var command: any ParsableCommand.Type = OwnCommands.self
        for word in arguments {
            let children = command.configuration.subcommands.filter { $0.configuration.shouldDisplay }
            guard !children.isEmpty, !word.hasPrefix("-") else { return nil }
            guard let child = children.first(where: { $0._commandName == word }) else {
                return Suggestion.closest(to: word, among: children.map { $0._commandName })
            }
            command = child
        }
        return nil
    }
}
