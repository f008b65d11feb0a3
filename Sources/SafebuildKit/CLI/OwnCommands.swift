import Glibc

/// safebuild's own commands.
enum OwnCommands {
    static func run(
        _ command: Invocation.OwnCommand, arguments: [String], options: SafebuildOptions,
        environment: [String: String]
    ) throws(SafebuildError) -> Int32 {
        switch command {
        case .version:
            Output.write(1, "safebuild \(Safebuild.version)\n")
            return 0
        case .help:
            Output.write(1, help)
            return 0
        case .policy:
            return try PolicyCommand.run(arguments: arguments, options: options, environment: environment)
        case .doctor:
            return try Doctor.run(arguments: arguments, options: options, environment: environment)
        case .journal:
            return try JournalCommand.run(
                arguments: arguments, options: options, environment: environment,
                journalPath: journalPath(options: options, environment: environment))
        case .retry:
            return try retry(arguments: arguments, options: options, environment: environment)
        }
    }

    /// The journal in effect: `--sb-journal`/`SAFEBUILD_JOURNAL`, the policy's, or the default place. A broken
    /// policy does not stop the journal from being read.
    static func journalPath(options: SafebuildOptions, environment: [String: String]) -> String {
        let policy = try? PolicyLoader.load(
            options: options, environment: environment, currentDirectory: WorkingDirectory.current())
        return Journal.path(options: options, policyPath: policy?.policy.journal.path.value, environment: environment)
    }

    /// `safebuild retry [ID]`: runs a recorded invocation again, in its directory, with its command line, under the
    /// current policy; the new records name the old invocation in `retry_of`.
    static func retry(
        arguments: [String], options: SafebuildOptions, environment: [String: String]
    ) throws(SafebuildError) -> Int32 {
        if arguments.contains("--help") || arguments.contains("-h") {
            Output.write(1, "usage: safebuild retry [ID]\n\nRuns the last failed protected command again (or the one with ID, as `safebuild journal` lists it), in its directory, under the current policy.\n")
            return 0
        }
        guard arguments.count <= 1, !(arguments.first?.hasPrefix("-") ?? false) else {
            throw SafebuildError(.usage, "usage: safebuild retry [ID] (got \(ShellQuote.join(arguments)))")
        }
        let path = journalPath(options: options, environment: environment)
        let record: InvocationRecord
        if let id = arguments.first {
            record = try Journal.find(id: id, path: path)
        } else {
            record = try Journal.lastFailed(path: path)
        }
        if record.redacted {
            throw SafebuildError(
                .usage,
                "invocation \(record.id) had secrets in its command line, which the journal does not keep; run it again yourself from \(record.cwd)")
        }
        let commandLine = DockerCommandLine(record.argv)
        guard let protected = commandLine.protected else {
            throw SafebuildError(.usage, "invocation \(record.id) is not a protected build or run; nothing to retry")
        }
        guard chdir(record.cwd) == 0 else {
            throw SafebuildError(.noInput, "cannot enter \(record.cwd), where invocation \(record.id) ran: \(String(cString: strerror(errno)))")
        }
        var env = environment
        env["PWD"] = record.cwd
        let docker = try DockerLocator().locate(explicit: options.dockerPath, environment: env)
        env[DockerLocator.viaVariable] = DockerLocator.via(adding: docker, to: env)
        Console.say("retrying \(record.id) in \(record.cwd): docker \(ShellQuote.join(record.argv))")
        return try Supervisor(
            docker: docker, commandLine: commandLine, command: protected, options: options, environment: env,
            retryOf: record.id
        ).run()
    }

    static var help: String {
        var text = """
            usage: safebuild [safebuild options] <docker arguments…>
                   safebuild doctor | policy … | journal … | retry [ID] | --version

            Runs docker. `build` and `run` (and `image build`, `builder build`, `buildx build`, `container run`) are
            protected: memory defaults from the policy, pre-flight checks, classified failures, remedies and retries,
            and a journal of every attempt. Every other command is handed to docker unchanged.

            safebuild options (before the docker arguments), each also an environment variable:

            """
        for row in SafebuildOptions.table {
            text += "  " + row.option.padding(20) + row.variable.padding(24) + row.help + "\n"
        }
        return text
    }
}
