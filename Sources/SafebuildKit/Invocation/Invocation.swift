/// What one start of safebuild is asked to do, decided from argv[0], safebuild's own leading options and the
/// environment. Pure: tested as argv in, decision out.
///
/// This hand-written scan is the only reader of a docker command line's first words: ArgumentParser sees only what it
/// sends to safebuild's own commands (`OwnCommands`), never a docker command line (swiftly's Proxy.swift keeps its
/// proxy path apart from its commands the same way).
package enum Invocation: Equatable, Sendable {
    /// One of safebuild's own commands, with the arguments after its first word.
    case own(OwnCommand, arguments: [String], options: SafebuildOptions)
    /// A docker command line to run: passed through, or supervised when `docker.protected` is set.
    case docker(DockerCommandLine, options: SafebuildOptions)

    /// The first words that start safebuild's own commands; none of them is a docker subcommand or global flag.
    /// A new command goes here and into `OwnCommands`' subcommands (a test checks that the two agree).
    package enum OwnCommand: String, Sendable, CaseIterable {
        case doctor, policy, journal, retry
        /// The privileged entry (`sudo -n safebuild remedy NAME`).
        case remedy
        /// Alone, and not under the name docker.
        case version = "--version"
        case help = "--sb-help"
        /// ArgumentParser's shell completion script (`--generate-completion-script bash|zsh|fish`); not under the
        /// name docker.
        case completionScript = "--generate-completion-script"

        /// The command line of ArgumentParser's root command (`OwnCommands`) for this command and its arguments.
        package func commandLine(_ arguments: [String]) -> [String] { [rawValue] + arguments }

        /// Subcommands, as opposed to flags.
        package static var subcommands: [OwnCommand] { allCases.filter { !$0.rawValue.hasPrefix("-") } }
    }

    /// The name of the program as invoked decides only one thing: under the name `docker`, `--version` is docker's.
    package static func parse(
        argv0: String, arguments: [String], environment: [String: String]
    ) throws(SafebuildError) -> Invocation {
        var options = SafebuildOptions(environment: environment)
        var rest = arguments[...]
        while let word = rest.first, word.hasPrefix(SafebuildOptions.prefix) {
            rest = rest.dropFirst()
            if word == OwnCommand.help.rawValue { return .own(.help, arguments: Array(rest), options: options) }
            try options.take(word, from: &rest)
        }
        let invokedAsDocker = baseName(argv0) == "docker"
        if let first = rest.first, let own = OwnCommand(rawValue: first) {
            switch own {
            case .version where invokedAsDocker || rest.count != 1, .completionScript where invokedAsDocker:
                break
            default:
                return .own(own, arguments: Array(rest.dropFirst()), options: options)
            }
        }
        // `help journal show`, as ArgumentParser's help texts suggest: the help of an own command (`help` alone, or
        // of anything else, is docker's).
        if rest.count >= 2, rest.first == "help", let own = OwnCommand(rawValue: rest[rest.startIndex + 1]),
            OwnCommand.subcommands.contains(own)
        {
            return .own(own, arguments: rest.dropFirst(2) + ["--help"], options: options)
        }
        return .docker(DockerCommandLine(Array(rest)), options: options)
    }

    static func baseName(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? path
    }
}
