import Glibc

/// The whole program. `main.swift` only calls `Safebuild.main()`.
package enum Safebuild {
    package static let version = "0.1.0"

    package static func main() -> Never {
        // Byte for byte: an argument that is not UTF-8 reaches docker unchanged (`String(lossless:)`).
        let arguments = CommandLine.losslessArguments
        let environment = Environment.current()
        do {
            // The privileged entry, as sudo runs it: nothing of the caller's is read (no SAFEBUILD_* variable, which
            // could not even stop it with a bad value, no option, no working directory).
            if arguments.count > 1, arguments[1] == Invocation.OwnCommand.remedy.rawValue {
                exit(try OwnCommands.run(
                    Array(arguments.dropFirst()), context: .privileged(environment: environment)))
            }
            // The background refresh of the engine state that a protected command started (`BuildCacheRefresher`).
            if arguments.count > 1, arguments[1] == BuildCacheRefresher.command {
                exit(BuildCacheRefresher.run(Array(arguments.dropFirst(2))))
            }
            let invocation = try Invocation.parse(
                argv0: arguments.first ?? "safebuild", arguments: Array(arguments.dropFirst()), environment: environment)
            switch invocation {
            case .own(let command, let rest, let options):
                for problem in options.invalidVariables { Console.warn(problem + "; it is ignored") }
                // The only way into ArgumentParser.
                exit(try OwnCommands.run(
                    command.commandLine(rest), context: .live(options: options, environment: environment)))
            case .docker(let commandLine, let options):
                exit(try dockerCommand(commandLine, options: options, environment: environment))
            }
        } catch {
            Console.error(error.message)
            exit(error.status.rawValue)
        }
    }

    static func dockerCommand(
        _ commandLine: DockerCommandLine, options: SafebuildOptions, environment: [String: String]
    ) throws(SafebuildError) -> Int32 {
        var options = options
        if options.off, commandLine.protected != nil, !offAllowed() {
            Console.warn("--sb-off / SAFEBUILD_OFF is ignored: the host policy does not allow switching protection off (protection.allow_off: false)")
            options.off = false
        }
        guard let protected = commandLine.protected, !options.off else {
            // No policy read here (the pass-through stays as cheap as docker): SAFEBUILD_DOCKER, else PATH.
            let docker = try DockerLocator().locate(explicit: options.dockerPath, environment: environment)
            let via = DockerLocator.via(adding: docker, to: environment)
            // A typo in a job's environment must not break `docker push`: said once, then docker runs.
            for problem in options.invalidVariables { Console.warn(problem + "; it is ignored") }
            if options.dryRun {
                Console.say("dry run: passed through unprotected; nothing was run")
                Output.write(1, ShellQuote.join([docker] + commandLine.arguments) + "\n")
                return 0
            }
            try Exec.replace(with: docker, arguments: commandLine.arguments, via: via)
        }
        if let refusal = options.refusal(for: protected) { throw refusal }
        var childEnvironment = environment
        // The child must not read an `off` the host refused either (a docker called by this docker).
        if !options.off { childEnvironment["SAFEBUILD_OFF"] = nil }
        // The real docker is chosen with the policy (the host's docker.path first): Supervisor.run.
        return try Supervisor(
            commandLine: commandLine, command: protected, options: options,
            environment: childEnvironment
        ).run()
    }

    /// Whether the host policy lets `--sb-off` / `SAFEBUILD_OFF` switch protection off (`protection.allow_off`). A host
    /// policy that cannot be read leaves it allowed, as without one: the protected path would stop on it anyway.
    static func offAllowed() -> Bool {
        guard let host = try? PolicyLoader.hostLayer() else { return true }
        return host.policy.protection.allowOff.value
    }
}
