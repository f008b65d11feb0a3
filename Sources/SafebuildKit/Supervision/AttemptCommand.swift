/// The command line of one attempt as docker gets it, and what safebuild does around it: the argv edits of an
/// attempt, as pure functions (argv in, argv out).
///
/// For `run`, safebuild follows the container through a `--cidfile` (the user's own, or one it adds), so that it can
/// read the container's state after docker ends and stop the container on a signal. The user's `--rm` stays docker's
/// own: the daemon removes the container when it ends even when safebuild (and docker with it) is SIGKILLed, and the
/// OOM evidence comes from sources that outlive it (the cgroup counters read during the attempt, the engine's
/// events). `build` is run as given.
package struct AttemptCommand: Sendable, Equatable {
    /// docker's arguments for this attempt.
    package var arguments: [String]
    /// The file docker writes the container's id to (`run` only).
    package var cidFile: String?
    /// Whether `cidFile` is the user's own `--cidfile`: it is never deleted, except before a retry when it still holds
    /// what a previous attempt of this invocation wrote (docker refuses to start when it exists); a file that was
    /// there before the first attempt is left to docker's own guard (exit 125). safebuild's own is removed after the
    /// attempt.
    package var cidFileIsUsers: Bool
    /// Whether docker removes the container when it ends (the user's `--rm`, left on the command line).
    package var dockerRemovesContainer: Bool
    /// How stdin and stdout are kept for a retry (the plan's, the same for every attempt).
    package var streams: StreamPlan
    /// A retry: stdin is replayed (rewound, or the spool first) before docker reads on.
    package var replay: Bool

    package init(
        arguments: [String], cidFile: String? = nil, cidFileIsUsers: Bool = false, dockerRemovesContainer: Bool = false,
        streams: StreamPlan = StreamPlan(), replay: Bool = false
    ) {
        self.arguments = arguments
        self.cidFile = cidFile
        self.cidFileIsUsers = cidFileIsUsers
        self.dockerRemovesContainer = dockerRemovesContainer
        self.streams = streams
        self.replay = replay
    }

    /// The attempt of `command` whose arguments are `arguments`. For `run`: `--cidfile temporaryCIDFile` goes right
    /// after the subcommand unless the user gave one (only then is `temporaryCIDFile` asked for); nothing else
    /// changes. A `--rm` (or `--rm=true`) among the options is noted; one after the image belongs to the container's
    /// command.
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
        // pflag: the last `--rm` wins.
        if let rm = options.uses.last(where: { $0.name == "--rm" }) {
            attempt.dockerRemovesContainer = rm.value == nil || rm.value == "true"
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
