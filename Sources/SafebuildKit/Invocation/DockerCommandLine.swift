/// docker's own command line, as data: where docker's global flags end, which subcommand follows, and whether
/// safebuild protects it. Nothing here changes an argument; what is not understood is simply not protected.
package struct DockerCommandLine: Equatable, Sendable {
    /// The arguments after argv[0], byte for byte as given.
    package let arguments: [String]
    /// Index in `arguments` of the first word of the subcommand (`arguments.count` when there is none).
    package let commandIndex: Int
    /// The words that name the subcommand, for example `["image", "build"]`.
    package let command: [String]
    /// The protected command this is, if any.
    package let protected: ProtectedCommand?

    /// Index in `arguments` of the first argument after the subcommand's words.
    package var commandArgumentsIndex: Int { commandIndex + command.count }

    /// The global flags given before the subcommand (for example `-H unix:///x.sock`), to repeat on helper calls
    /// such as `docker inspect` so that they reach the same engine.
    package var globalFlags: [String] { Array(arguments[..<commandIndex]) }

    package init(_ arguments: [String]) {
        self.arguments = arguments
        let index = DockerCommandLine.firstCommandIndex(arguments)
        self.commandIndex = index
        let (words, kind) = DockerCommandLine.recognise(arguments, from: index)
        self.command = words
        // `docker build --help` is docker's to answer (for `run`, `-h` is --hostname, and after the image `--help`
        // is the container's).
        if let kind,
            SubcommandOptions(arguments, from: index + words.count, table: SubcommandOptions.table(for: kind)).has("--help")
        {
            self.protected = nil
        } else {
            self.protected = kind
        }
    }

    // MARK: - docker's global flags

    /// docker's global flags that take a value (docker 20.10 to 28, `docker --help`).
    static let valueFlags: Set<String> = [
        "--config", "-c", "--context", "-H", "--host", "-l", "--log-level", "--tlscacert", "--tlscert", "--tlskey",
    ]
    /// docker's global flags that take no value.
    static let boolFlags: Set<String> = ["-D", "--debug", "--tls", "--tlsverify", "-v", "--version", "-h", "--help"]

    private static let shortValue: Set<Character> = ["c", "H", "l"]
    private static let shortBool: Set<Character> = ["D", "v", "h"]

    /// Skips the global flags the way docker's flag parser (pflag) reads them: `--flag value`, `--flag=value`,
    /// `-H value`, `-Hvalue`, `-H=value` and combined short flags such as `-Dl debug`. Stops at the first word
    /// that is not a flag, at `--`, and at a flag it does not know (docker will reject it; safebuild does not).
    static func firstCommandIndex(_ arguments: [String]) -> Int {
        var i = 0
        while i < arguments.count {
            let word = arguments[i]
            if word == "--" { return i + 1 }
            if word.hasPrefix("--") {
                let name = word.split(separator: "=", maxSplits: 1).first.map(String.init) ?? word
                if boolFlags.contains(name) {
                    i += 1
                } else if valueFlags.contains(name) {
                    i += word.contains("=") ? 1 : 2
                } else {
                    return i
                }
            } else if word.hasPrefix("-"), word.count > 1 {
                var consumed = 1
                var chars = word.dropFirst()
                scan: while let c = chars.first {
                    chars = chars.dropFirst()
                    if shortBool.contains(c) { continue }
                    if shortValue.contains(c) {
                        if chars.isEmpty { consumed = 2 }
                        break scan
                    }
                    return i
                }
                i += consumed
            } else {
                return i
            }
        }
        return min(i, arguments.count)
    }

    // MARK: - Protected commands

    /// Every spelling of a protected command. `buildx b` is buildx's own alias for `buildx build`.
    static let spellings: [([String], ProtectedCommand)] = [
        (["build"], .build(.docker)),
        (["image", "build"], .build(.docker)),
        (["builder", "build"], .build(.docker)),
        (["buildx", "build"], .build(.buildx)),
        (["buildx", "b"], .build(.buildx)),
        (["run"], .run),
        (["container", "run"], .run),
    ]

    static func recognise(_ arguments: [String], from index: Int) -> ([String], ProtectedCommand?) {
        guard index < arguments.count else { return ([], nil) }
        for (words, kind) in spellings where index + words.count <= arguments.count {
            if Array(arguments[index..<(index + words.count)]) == words { return (words, kind) }
        }
        return ([arguments[index]], nil)
    }
}
