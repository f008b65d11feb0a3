/// How a protected command's stdin and stdout are handled so that a retry runs as if the attempt before had never
/// happened: decided once, before the first attempt, as a pure function of docker's command line, what safebuild's
/// stdin and stdout are, and the policy.
///
/// stdin: when docker reads it (`run -i`, `build -`, `build -f -`), a regular file is rewound before a retry, a pipe
/// (socket, device) is relayed through a pipe of safebuild's and its first `retry.stdin_spool` bytes kept for a
/// retry, and a terminal cannot be replayed. A command that does not read stdin leaves it to docker.
///
/// stdout: a terminal stays docker's; a build's progress is relayed live; an artifact (`run`'s output, `build -q`,
/// `build -o -`) that is not a terminal is held back, up to `retry.stdout_hold` bytes, and only the attempt that ends
/// the invocation releases it.
package struct StreamPlan: Sendable, Equatable {
    package enum Stdin: Sendable, Equatable {
        /// docker does not read stdin, or it is /dev/null: docker keeps safebuild's, and every attempt sees the same.
        case inherited
        /// A regular file: put back at `offset` (where it was before the first attempt) before a retry.
        case rewound(offset: Int64)
        /// Relayed through a pipe of safebuild's; up to `limit` bytes kept in a spool and replayed to a retry.
        case spooled(limit: UInt64)
        /// docker reads it directly and a retry could not read it again: `why`.
        case unreplayable(String)
    }

    package enum Stdout: Sendable, Equatable {
        /// A terminal: docker keeps it, and a retry's output follows a separator on stderr.
        case terminal
        /// A build's progress, not an artifact: relayed live; a retry prints its steps again after the separator.
        case progress
        /// An artifact held back up to `limit` bytes, released by the attempt that ends the invocation.
        case held(limit: UInt64)
        /// An artifact relayed live (one attempt only, a stdin that cannot be replayed, or `retry.stdout_hold: 0`):
        /// an attempt that wrote to it is not retried.
        case live
        /// /dev/null: nobody reads it.
        case discarded
    }

    package var stdin: Stdin
    package var stdout: Stdout

    package init(stdin: Stdin = .inherited, stdout: Stdout = .discarded) {
        self.stdin = stdin
        self.stdout = stdout
    }

    /// Whether the failed attempt's stdout was shown as it came (a separator then marks where the retry's begins).
    package var stdoutIsLive: Bool {
        switch stdout {
        case .terminal, .progress, .live: return true
        case .held, .discarded: return false
        }
    }

    /// The handling for `commandLine`, given what safebuild's stdin and stdout are, how many attempts the policy
    /// allows, and `retry.stdin_spool` / `retry.stdout_hold` in bytes.
    package static func decide(
        _ commandLine: DockerCommandLine, stdin: DescriptorKind, stdout: DescriptorKind, maxAttempts: Int,
        stdinSpool: UInt64, stdoutHold: UInt64
    ) -> StreamPlan {
        var plan = StreamPlan()
        if readsStdin(commandLine) {
            switch stdin {
            case .null:
                plan.stdin = .inherited
            case _ where maxAttempts <= 1:
                plan.stdin = .unreplayable("the policy allows one attempt, so stdin is not kept")
            case .terminal:
                plan.stdin = .unreplayable("stdin is a terminal: what docker read from it cannot be read again")
            case .regularFile(let offset?):
                plan.stdin = .rewound(offset: offset)
            case .regularFile(nil), .stream:
                plan.stdin =
                    stdinSpool > 0
                    ? .spooled(limit: stdinSpool)
                    : .unreplayable("retry.stdin_spool is 0, so piped stdin is not kept")
            }
        }
        switch stdout {
        case .terminal:
            plan.stdout = .terminal
        case .null:
            plan.stdout = .discarded
        case .regularFile, .stream:
            if !stdoutIsArtifact(commandLine) {
                plan.stdout = .progress
            } else if case .unreplayable = plan.stdin {
                plan.stdout = .live
            } else {
                plan.stdout = maxAttempts > 1 && stdoutHold > 0 ? .held(limit: stdoutHold) : .live
            }
        }
        return plan
    }

    // MARK: docker's command line

    /// Whether docker reads its stdin: `run` with `-i` (`--interactive`, `-it`, `--interactive=true`) or
    /// `-a stdin`, unless detached; `build` (and `buildx build`) with the context `-` or `-f -`.
    package static func readsStdin(_ commandLine: DockerCommandLine) -> Bool {
        let options = SubcommandOptions(commandLine)
        switch commandLine.protected {
        case .run:
            if isSet(options, "--detach") { return false }
            return isSet(options, "--interactive") || options.values("--attach").contains { $0.lowercased() == "stdin" }
        case .build:
            let context = options.positional.map { commandLine.arguments[$0] }
            return context == "-" || options.value("--file") == "-"
        case nil:
            return false
        }
    }

    /// Whether docker's stdout is an artifact someone keeps (a retry must not write it twice): `run`'s (the
    /// container's output, or the id of a detached one); a build's only with `-q` (the image id) or an output to
    /// stdout (`-o -`, `--output type=tar,dest=-`). Otherwise a build's stdout is its progress.
    package static func stdoutIsArtifact(_ commandLine: DockerCommandLine) -> Bool {
        let options = SubcommandOptions(commandLine)
        switch commandLine.protected {
        case .run:
            return true
        case .build:
            if isSet(options, "--quiet") { return true }
            return options.values("--output").contains { value in
                value == "-" || value.split(separator: ",").contains { $0.trimmingWhitespace == "dest=-" }
            }
        case nil:
            return false
        }
    }

    /// A boolean flag as pflag reads it: the last use wins; a bare flag is true, `=false`/`=0`/`=f` false.
    static func isSet(_ options: SubcommandOptions, _ name: String) -> Bool {
        guard let use = options.uses.last(where: { $0.name == name }) else { return false }
        guard let value = use.value else { return true }
        return ["1", "t", "T", "true", "TRUE", "True"].contains(value)
    }
}
