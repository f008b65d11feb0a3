/// Reading `docker run` / `docker build` options without a full model of docker's flags: only the options safebuild
/// cares about are looked for, and only before the first word that is not an option (for `run`, the image).
enum RunArguments {
    /// The value of the first of `names` given to the subcommand, in any spelling (`--x v`, `--x=v`).
    static func value(of names: [String], in commandLine: DockerCommandLine) -> String? {
        let args = commandLine.arguments
        var i = commandLine.commandArgumentsIndex
        while i < args.count {
            let word = args[i]
            for name in names {
                if word == name { return i + 1 < args.count ? args[i + 1] : nil }
                if word.hasPrefix(name + "=") { return String(word.dropFirst(name.count + 1)) }
            }
            i += 1
        }
        return nil
    }
}
