/// What one start of safebuild is asked to do, decided from argv[0], safebuild's own leading options and the
/// environment. Pure: tested as argv in, decision out.
package enum Invocation: Equatable, Sendable {
    /// One of safebuild's own commands (`doctor`, `policy`, `journal`, `retry`, `--version`, `--sb-help`).
    case own(OwnCommand, arguments: [String], options: SafebuildOptions)
    /// A docker command line to run: passed through, or supervised when `docker.protected` is set.
    case docker(DockerCommandLine, options: SafebuildOptions)

    /// safebuild's own commands. None of them is a docker subcommand.
    package enum OwnCommand: String, Sendable, CaseIterable {
        case doctor, policy, journal, retry, version, help
    }

    /// The name of the program as invoked decides only one thing: under the name `docker`, `--version` is docker's.
    package static func parse(
        argv0: String, arguments: [String], environment: [String: String]
    ) throws(SafebuildError) -> Invocation {
        var options = try SafebuildOptions(environment: environment)
        var rest = arguments[...]
        while let word = rest.first, word.hasPrefix(SafebuildOptions.prefix) {
            rest = rest.dropFirst()
            if word == "--sb-help" { return .own(.help, arguments: Array(rest), options: options) }
            try options.take(word, from: &rest)
        }
        let invokedAsDocker = baseName(argv0) == "docker"
        if let first = rest.first {
            if first == "--version", !invokedAsDocker, rest.count == 1 {
                return .own(.version, arguments: [], options: options)
            }
            if let own = OwnCommand(rawValue: first), own != .version, own != .help {
                return .own(own, arguments: Array(rest.dropFirst()), options: options)
            }
        }
        return .docker(DockerCommandLine(Array(rest)), options: options)
    }

    static func baseName(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? path
    }
}
