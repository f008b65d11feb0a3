/// The command line of one attempt as docker gets it, and what safebuild does around it: the argv edits of an
/// attempt, as pure functions (argv in, argv out).
///
/// For `run`, safebuild follows the container through a `--cidfile` (the user's own, or one it adds), so that it can
/// read the container's state (OOMKilled) after docker ends and stop the container on a signal. It removes the
/// container itself where the user asked for `--rm`: docker's own `--rm` would remove it before its state could be
/// read. `build` is run as given.
package struct AttemptCommand: Sendable, Equatable {
    /// docker's arguments for this attempt.
    package var arguments: [String]
    /// The file docker writes the container's id to (`run` only).
    package var cidFile: String?
    /// Whether `cidFile` is the user's own `--cidfile`: it is emptied before the attempt (docker refuses to start
    /// when it exists, and what it holds is the failed attempt's) and left afterwards. safebuild's own is removed
    /// after the attempt.
    package var cidFileIsUsers: Bool
    /// Whether safebuild removes the container after the attempt, for the `--rm` it took off the command line.
    package var removesContainer: Bool
    /// How stdin and stdout are kept for a retry (the plan's, the same for every attempt).
    package var streams: StreamPlan
    /// A retry: stdin is replayed (rewound, or the spool first) before docker reads on.
    package var replay: Bool

    package init(
        arguments: [String], cidFile: String? = nil, cidFileIsUsers: Bool = false, removesContainer: Bool = false,
        streams: StreamPlan = StreamPlan(), replay: Bool = false
    ) {
        self.arguments = arguments
        self.cidFile = cidFile
        self.cidFileIsUsers = cidFileIsUsers
        self.removesContainer = removesContainer
        self.streams = streams
        self.replay = replay
    }

    /// The attempt of `command` whose arguments are `arguments`. For `run`: `--cidfile temporaryCIDFile` goes right
    /// after the subcommand unless the user gave one (only then is `temporaryCIDFile` asked for); unless the
    /// container is detached, every `--rm` (or `--rm=true`) among the options is taken off at its own place, and
    /// safebuild removes the container instead. A `--rm` after the image belongs to the container's command and is
    /// left alone.
    package static func prepare(
        _ arguments: [String], command: ProtectedCommand, temporaryCIDFile: @autoclosure () -> String
    ) -> AttemptCommand {
        guard command == .run else { return AttemptCommand(arguments: arguments) }
        let line = DockerCommandLine(arguments)
        let options = SubcommandOptions(line)
        var argv = arguments
        var attempt = AttemptCommand(arguments: arguments)
        if let given = options.value("--cidfile") {
            attempt.cidFile = given
            attempt.cidFileIsUsers = true
        } else {
            let path = temporaryCIDFile()
            argv.insert(contentsOf: ["--cidfile", path], at: line.commandArgumentsIndex)
            attempt.cidFile = path
        }
        if !options.has("--detach") {
            let offset = argv.count - arguments.count  // the --cidfile inserted before the options
            for use in options.uses.reversed() where use.name == "--rm" && (use.value == nil || use.value == "true") {
                argv.removeSubrange((use.range.lowerBound + offset)..<(use.range.upperBound + offset))
                attempt.removesContainer = true
            }
        }
        attempt.arguments = argv
        return attempt
    }

    /// The arguments of the attempt after an OOM kill: the first attempt's, with the memory limit raised to `bytes`
    /// and `--memory-swap` as the policy's swap rule gives it for that limit (`MemoryInjection.raising`). Always
    /// from the first attempt's arguments, so that each raise replaces the one before rather than piling up flags.
    package static func raisingMemory(of first: [String], to bytes: UInt64, memorySwap: Int64?) -> [String] {
        MemoryInjection.raising(DockerCommandLine(first), to: bytes, memorySwap: memorySwap)
    }
}
