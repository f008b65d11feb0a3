import Glibc

/// Runs one protected docker command: reads the host's facts and the policy, makes the plan, then prints it (dry
/// run) or runs it through `AttemptLoop` with the live effects. Returns docker's final exit status.
struct Supervisor {
    let commandLine: DockerCommandLine
    let command: ProtectedCommand
    let options: SafebuildOptions
    let environment: [String: String]
    /// The invocation this one runs again (`safebuild retry`).
    var retryOf: String?

    /// `environment` is safebuild's own: the real docker (the host policy's `docker.path`, else `SAFEBUILD_DOCKER` /
    /// `--sb-docker`, else PATH) is chosen in `run` once the policy is read, and added to its `SAFEBUILD_VIA` there.
    init(
        commandLine: DockerCommandLine, command: ProtectedCommand, options: SafebuildOptions,
        environment: [String: String], retryOf: String? = nil
    ) {
        self.commandLine = commandLine
        self.command = command
        self.options = options
        self.environment = environment
        self.retryOf = retryOf
    }

    func run() throws(SafebuildError) -> Int32 {
        // First, before any thread exists: the signals are blocked in this thread and threads inherit that.
        let signals = try SignalInbox()
        signal(SIGPIPE, SIG_IGN)
        Console.quiet = options.quiet

        var environment = environment
        let host = HostFacts.current(environment: environment)
        let policy = try PolicyLoader.load(
            options: options, environment: environment, currentDirectory: host.workingDirectory,
            hostMemory: host.memory)
        for warning in policy.warnings { Console.warn(warning) }
        let (docker, dockerWarning) = try DockerLocator().locateForHost(
            policy.hostLevel.docker.path, explicit: options.dockerPath, environment: environment)
        if let dockerWarning { Console.warn(dockerWarning) }
        environment[DockerLocator.viaVariable] = DockerLocator.via(adding: docker, to: environment)
        // A build's CLI version decides docker's builder; it is kept per binary in the engine state, which is opened
        // here once and handed to pre-flight's glance (a run's pre-flight opens it itself).
        let engineState: EngineStateFile?
        let builder: BuilderFacts
        if command == .build(.docker) {
            let runtime = SupervisionPlan.runtimeFiles(policy.policy, host: host)
            let state = try? EngineStateFile(
                state: RuntimeState(directory: runtime.directory, files: runtime.files, environment: environment))
            let environment = environment
            engineState = state
            builder = BuilderFactsReader.read(
                docker: docker, commandLine: commandLine, environment: environment, workingDirectory: host.workingDirectory,
                clientVersion: { DockerClientVersion.read(docker: $0, environment: environment, state: state) })
        } else {
            engineState = nil
            builder = .unknown
        }
        let plan = SupervisionPlan(
            docker: docker, commandLine: commandLine, command: command, policy: policy, host: host, options: options,
            environment: environment, retryOf: retryOf, builder: builder)
        if let refusal = plan.refusal { throw SafebuildError(.notPermitted, refusal) }
        if let warning = plan.journalWarning { Console.warn(warning) }

        if options.dryRun {
            let dryRun = plan.dryRun(cidFile: LiveSupervisionEffects.temporaryPath("cid"))
            for line in dryRun.lines { Console.say(line) }
            Output.write(1, dryRun.command + "\n")
            return 0
        }
        var loop = AttemptLoop(plan: plan, effects: LiveSupervisionEffects(plan: plan, signals: signals, engineState: engineState))
        return loop.run()
    }
}
