/// docker's own command line, as data: docker's global flags and their values, which subcommand follows, its
/// options, and whether safebuild protects it. Nothing here changes an argument; what is not understood is simply not
/// protected.
///
/// The one reader of docker's argv: the engine endpoint (`-H`, `--context`, `--config`), the journal's tags, the
/// memory injection and docker-fault all ask it.
package struct DockerCommandLine: Equatable, Sendable {
    /// The arguments after argv[0], byte for byte as given.
    package let arguments: [String]
    /// docker's global flags as given, before the subcommand, by their long names (`-H x` is `--host` `x`).
    package let globals: [FlagUse]
    /// Index in `arguments` of the first word of the subcommand (`arguments.count` when there is none).
    package let commandIndex: Int
    /// The words that name the subcommand, for example `["image", "build"]`.
    package let command: [String]
    /// The protected command this is, if any.
    package let protected: ProtectedCommand?
    /// The protected command the subcommand's words spell, even when it only asks docker for its help (then
    /// `protected` is nil).
    package let spelled: ProtectedCommand?

    /// Index in `arguments` of the first argument after the subcommand's words.
    package var commandArgumentsIndex: Int { commandIndex + command.count }

    /// The global flags given before the subcommand (for example `-H unix:///x.sock`), to repeat on helper calls
    /// such as `docker inspect` so that they reach the same engine.
    package var globalFlags: [String] { Array(arguments[..<commandIndex]) }

    /// The value of the global flag with this long name (`--host`, `--context`, `--config`); the last one given.
    package func global(_ name: String) -> String? {
        globals.last(where: { $0.name == name })?.value
    }

    /// The options of the subcommand, read as `run`'s (`build`'s for a build).
    package var options: SubcommandOptions { SubcommandOptions(self) }

    package init(_ arguments: [String]) {
        self.arguments = arguments
        let (globals, index) = DockerCommandLine.readGlobals(arguments)
        self.globals = globals
        self.commandIndex = index
        let (words, kind) = DockerCommandLine.recognise(arguments, from: index)
        self.command = words
        self.spelled = kind
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
        "--config", "--context", "--host", "--log-level", "--tlscacert", "--tlscert", "--tlskey",
    ]
    /// docker's global flags that take no value.
    static let boolFlags: Set<String> = ["--debug", "--tls", "--tlsverify", "--version", "--help"]

    /// The short flags and their long names.
    static let shortNames: [Character: String] = [
        "c": "--context", "H": "--host", "l": "--log-level", "D": "--debug", "v": "--version", "h": "--help",
    ]

    /// Reads the global flags the way docker's flag parser (pflag) reads them: `--flag value`, `--flag=value`,
    /// `-H value`, `-Hvalue`, `-H=value` and combined short flags such as `-Dl debug`. Stops at the first word
    /// that is not a flag, after `--`, and at a flag it does not know (docker will reject it; safebuild does not).
    /// Returns the flags and the index of the subcommand.
    static func readGlobals(_ arguments: [String]) -> ([FlagUse], Int) {
        var uses: [FlagUse] = []
        var i = 0
        while i < arguments.count {
            let word = arguments[i]
            if word == "--" { return (uses, i + 1) }
            if word.hasPrefix("--") {
                let parts = word.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let name = String(parts[0])
                if parts.count == 2, boolFlags.contains(name) || valueFlags.contains(name) {
                    uses.append(FlagUse(name: name, value: String(parts[1]), range: i..<(i + 1)))
                    i += 1
                } else if boolFlags.contains(name) {
                    uses.append(FlagUse(name: name, value: nil, range: i..<(i + 1)))
                    i += 1
                } else if valueFlags.contains(name) {
                    let value = i + 1 < arguments.count ? arguments[i + 1] : nil
                    uses.append(FlagUse(name: name, value: value, range: i..<min(i + 2, arguments.count)))
                    i += 2
                } else {
                    return (uses, i)
                }
            } else if word.hasPrefix("-"), word.count > 1 {
                // Bools first, then at most one flag that takes the rest of the word or the next word.
                var flags: [FlagUse] = []
                var end = i + 1
                var chars = Substring(word.dropFirst())
                while let c = chars.first {
                    chars = chars.dropFirst()
                    guard let name = shortNames[c] else { return (uses, i) }
                    if boolFlags.contains(name) {
                        flags.append(FlagUse(name: name, value: nil, range: i..<(i + 1)))
                        continue
                    }
                    if !chars.isEmpty {
                        let value = chars.hasPrefix("=") ? chars.dropFirst() : chars
                        flags.append(FlagUse(name: name, value: String(value), range: i..<(i + 1)))
                    } else {
                        let value = i + 1 < arguments.count ? arguments[i + 1] : nil
                        end = min(i + 2, arguments.count)
                        flags.append(FlagUse(name: name, value: value, range: i..<end))
                    }
                    break
                }
                uses += flags
                i = end
            } else {
                return (uses, i)
            }
        }
        return (uses, min(i, arguments.count))
    }

    // MARK: - docker's commands

    /// The names of docker's commands and management commands (`docker --help` of docker 20.10 and 28.2, with the
    /// plugins' `buildx`, `compose`, `scout`): a word that safebuild reads as a value but that is one of these was
    /// most likely meant as the command (`safebuild --sb-policy run …`).
    package static let commandNames: Set<String> = [
        "attach", "bake", "build", "builder", "buildx", "checkpoint", "commit", "compose", "config", "container",
        "context", "cp", "create", "debug", "diff", "events", "exec", "export", "history", "image", "images",
        "import", "info", "init", "inspect", "kill", "load", "login", "logout", "logs", "manifest", "network", "node",
        "pause", "plugin", "port", "ps", "pull", "push", "rename", "restart", "rm", "rmi", "run", "save", "scout",
        "search", "secret", "service", "stack", "start", "stats", "stop", "swarm", "system", "tag", "top", "trust",
        "unpause", "update", "version", "volume", "wait",
    ]

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
