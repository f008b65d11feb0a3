import Testing

@testable import SafebuildKit

/// The plan as data: docker's command line, a policy (YAML, as a user writes it), the host's facts, safebuild's
/// options and the environment in; what will run out.
@Suite struct SupervisionPlanTests {
    static let file = "/etc/safebuild/policy.yml"
    static let host = HostFacts(
        workingDirectory: "/work/app", memory: 16 << 30, defaultJournalPath: "/home/ci/.local/state/safebuild/journal.jsonl",
        defaultLockDirectory: "/tmp/safebuild-1000")

    /// docker as on this machine: the 20.10 CLI without buildx, a daemon that advertises no builder, a Dockerfile
    /// that uses nothing of BuildKit's: docker's own builder is the classic one.
    static let classicDocker = BuilderFacts(
        client: DockerVersion(20, 10), builderPluginInstalled: false, daemonBuilder: .unset, daemonOS: "linux",
        dockerfile: DockerfileFeatures())

    static func plan(
        _ argv: [String], policy yaml: String = "", options: SafebuildOptions = SafebuildOptions(),
        environment: [String: String] = ["PATH": "/usr/bin"], host: HostFacts = host, builder: BuilderFacts = classicDocker
    ) throws -> SupervisionPlan {
        let policy = try PolicyParser.parse("version: 1\n" + yaml, file: file, over: PolicyLoader.builtIn).get()
        let line = DockerCommandLine(argv)
        let command = try #require(line.protected)
        return SupervisionPlan(
            docker: "/usr/bin/docker", commandLine: line, command: command,
            policy: LoadedPolicy(policy: policy, file: file, origin: .host), host: host, options: options,
            environment: environment, builder: builder)
    }

    @Test("the journal, metrics and runtime files take the host policy's journal.group; docker when it names none")
    func filesTakeTheJournalGroup() throws {
        #expect(try Self.plan(["run", "img"], policy: "journal:\n  group: root\n").files == SharedFiles(group: 0))
        #expect(try Self.plan(["run", "img"]).files == SharedFiles(group: HostSettings.groupID("docker")))
        #expect(try Self.plan(["run", "img"], policy: "journal:\n  group: no-such-group\n").files.group == nil)
    }

    @Test("a job's --sb-journal and SAFEBUILD_JOURNAL do not move the run's records out of the host's journal")
    func theJournalIsTheHosts() throws {
        var options = SafebuildOptions()
        options.journalPath = "/tmp/elsewhere"
        let plan = try Self.plan(
            ["run", "img"], policy: "journal:\n  path: /var/log/ci/journal.jsonl\n  metrics_path: /var/lib/node/sb.prom\n",
            options: options, environment: ["SAFEBUILD_JOURNAL": "/tmp/elsewhere"])
        #expect(plan.journalPath == "/var/log/ci/journal.jsonl")
        #expect(plan.metricsPath == "/var/lib/node/sb.prom")
        #expect(plan.journalWarning == "SAFEBUILD_JOURNAL only chooses the journal that safebuild journal/retry read; this run is recorded in /var/log/ci/journal.jsonl (journal.path of the host policy \(Self.file))")
        // No option, no variable: the host's, no word.
        let plain = try Self.plan(["run", "img"], policy: "journal:\n  path: /var/log/ci/journal.jsonl\n")
        #expect(plain.journalPath == "/var/log/ci/journal.jsonl")
        #expect(plain.journalWarning == nil)
    }

    @Test func runGetsThePolicysMemoryAndTheDryRunPrintsIt() throws {
        let plan = try Self.plan(
            ["-H", "unix:///x.sock", "run", "--rm", "--name", "web", "img", "sh", "-c", "echo hi"],
            policy: "run:\n  memory: 1g\n")
        let expected = ["-H", "unix:///x.sock", "run", "--memory", "1g", "--memory-swap", "1g", "--rm", "--name", "web", "img", "sh", "-c", "echo hi"]
        #expect(plan.arguments == expected)
        #expect(plan.memory == 1 << 30)
        #expect(plan.limitEnforced)
        #expect(plan.notice == nil)
        #expect(plan.injectedEnvironment.isEmpty)
        #expect(plan.dockerEnvironment == ["PATH": "/usr/bin"])
        #expect(plan.image == "img")
        #expect(plan.tags == nil)
        #expect(plan.namesContainer)
        #expect(plan.policyDecisions.first == "memory 1g from run.memory at \(Self.file):3")
        #expect(plan.injectionDecisions == ["added --memory 1g --memory-swap 1g"])
        #expect(plan.decisions == plan.policyDecisions + plan.injectionDecisions)

        let dryRun = plan.dryRun(cidFile: "/tmp/sb.cid")
        #expect(dryRun.lines == ["dry run: policy \(Self.file)"]
            + plan.policyDecisions.map { "dry run: policy: \($0)" }
            + ["dry run: added --memory 1g --memory-swap 1g",
               "dry run: added --cidfile /tmp/sb.cid to follow the container (a fresh path each attempt)",
               "dry run: at most 3 attempt(s); nothing was run"])
        #expect(dryRun.command
            == "/usr/bin/docker -H unix:///x.sock run --cidfile /tmp/sb.cid --memory 1g --memory-swap 1g --rm --name web img sh -c 'echo hi'")
    }

    /// The build's context is resolved from the host's working directory before the rules match it; where docker's
    /// own builder is the classic one, it stays (nothing is set in docker's environment) and enforces the limit.
    @Test func buildMatchesItsContextFromTheWorkingDirectoryAndKeepsDockersClassicBuilder() throws {
        let plan = try Self.plan(
            ["build", "-t", "app:1", "--tag=app:latest", "."],
            policy: "rules:\n  - match: {context: /work/app}\n    memory: 2g\n")
        #expect(plan.arguments == ["build", "--memory", "2g", "--memory-swap", "2g", "-t", "app:1", "--tag=app:latest", "."])
        #expect(plan.memory == 2 << 30)
        #expect(plan.policyDecisions.contains("memory 2g from rule 1 (context /work/app) at \(Self.file):4"), "\(plan.policyDecisions)")
        #expect(plan.injectedEnvironment.isEmpty)
        #expect(plan.dockerEnvironment == ["PATH": "/usr/bin"])
        #expect(plan.limitEnforced)
        #expect(plan.notice == nil)
        #expect(plan.injectionDecisions.contains(
            "the classic builder enforces the memory limit on RUN steps: docker 20.10 with DOCKER_BUILDKIT unset follows the daemon, which advertises no builder (no features.buildkit, daemon 20.10 or older)"))
        #expect(plan.environment == ["PATH": "/usr/bin"])
        #expect(plan.tags == ["app:1", "app:latest"])
        #expect(plan.image == nil)
        #expect(!plan.namesContainer)
        #expect(plan.dryRun(cidFile: "/tmp/sb.cid").command.hasPrefix("/usr/bin/docker build --memory 2g "))

        // Elsewhere the rule does not match: the default, 25% of the host.
        var elsewhere = Self.host
        elsewhere.workingDirectory = "/work/other"
        let other = try Self.plan(
            ["build", "."], policy: "rules:\n  - match: {context: /work/app}\n    memory: 2g\n", host: elsewhere)
        #expect(other.memory == 4 << 30)
    }

    /// Where docker's own builder is not known (no `docker --version`), the classic builder is chosen through
    /// docker's environment only for a Dockerfile that was read and needs nothing of BuildKit's.
    @Test func anUnknownBuilderIsMadeClassicOnlyForAPlainDockerfile() throws {
        let plain = try Self.plan(["build", "."], builder: BuilderFacts(dockerfile: DockerfileFeatures()))
        #expect(plain.injectedEnvironment == ["DOCKER_BUILDKIT": "0"])
        #expect(plain.dockerEnvironment == ["PATH": "/usr/bin", "DOCKER_BUILDKIT": "0"])
        #expect(plain.dryRun(cidFile: "/tmp/sb.cid").command.hasPrefix("DOCKER_BUILDKIT=0 /usr/bin/docker build --memory 4g "))
        #expect(plain.limitEnforced)
        let mounts = try Self.plan(
            ["build", "."], builder: BuilderFacts(dockerfile: DockerfileFeatures.parse("FROM a\nRUN --mount=type=cache,target=/c make\n")))
        #expect(mounts.injectedEnvironment.isEmpty)
        #expect(!mounts.limitEnforced)
        #expect(mounts.notice?.contains("the build needs BuildKit (Dockerfile line 2: RUN --mount)") == true)
        let unread = try Self.plan(["build", "."], builder: .unknown)
        #expect(unread.injectedEnvironment.isEmpty)
        #expect(!unread.limitEnforced)
    }

    @Test func aUsersBuildKitKeepsTheLimitButNotItsEnforcement() throws {
        let plan = try Self.plan(["build", "-m", "1g", "."], environment: ["DOCKER_BUILDKIT": "1"])
        #expect(plan.arguments == ["build", "--memory-swap", "1g", "-m", "1g", "."])
        #expect(!plan.limitEnforced)
        #expect(plan.notice == "DOCKER_BUILDKIT=1 is yours: BuildKit will not enforce the memory limit (moby/buildkit#593)")
        #expect(plan.injectedEnvironment.isEmpty)
        #expect(plan.dockerEnvironment == ["DOCKER_BUILDKIT": "1"])
    }

    @Test func retryRemedyAndStopSettingsComeFromThePolicy() throws {
        let plan = try Self.plan(
            ["run", "img"],
            policy: """
                preflight:
                  min_available: off
                  max_pressure: {value: 60, action: refuse}
                  max_build_cache: off
                  min_free_disk: off
                  min_free_blocks: off
                  wait_timeout: 45s
                retry:
                  max_attempts: 5
                  backoff: {initial: 1s, max: 8s, jitter: 0}
                  deadline: 2m
                  raise_memory: {factor: 2, cap: 4g}
                  cooldown: 30s
                  ladders:
                    process_enomem: [[wait_for_memory]]
                remedies:
                  drop_caches: false
                  lock_dir: /var/lock/sb
                docker:
                  stop_grace: 7s

                """)
        #expect(plan.retry.maxAttempts == 5)
        #expect(plan.retry.deadline == 120)
        #expect(plan.retry.backoff == Backoff(base: 1, max: 8, jitter: .none, spread: 0))
        #expect(plan.retry.ladder(for: .processENOMEM) == Ladder([[.waitForMemory]]))
        #expect(plan.remedies.raiseFactor == 2)
        #expect(plan.remedies.raiseCap == 4 << 30)
        #expect(plan.thresholds == [Preflight.Threshold(.maxPressure(percent: 60), .refuse)])
        #expect(plan.preflightWaitTimeout == 45)
        #expect(plan.disabledRemedies.keys.sorted { $0.rawValue < $1.rawValue } == [.dropCaches])
        #expect(plan.disabledRemedies[.dropCaches]?.hasPrefix("turned off by the policy (remedies.drop_caches at \(Self.file):") == true)
        #expect(plan.stopGrace == 7)
        #expect(plan.lockDirectory == "/var/lock/sb")
        #expect(plan.cooldown == 30)
        #expect(plan.dryRun(cidFile: "/tmp/sb.cid").lines.last == "dry run: at most 5 attempt(s); nothing was run")
    }

    /// `--sb-max-attempts` wins over the policy; `--sb-journal` does not move the journal a protected command writes. (The host's defaults are for a policy without a
    /// journal path or lock directory, which the built-in one always gives.)
    @Test func optionsWinOverThePolicyAndThePolicyOverTheHostsDefaultsButNotTheJournal() throws {
        let builtIn = try Self.plan(["run", "img"])
        #expect(builtIn.journalPath == "/var/log/safebuild/journal.jsonl")
        #expect(builtIn.lockDirectory == "/run/safebuild")
        #expect(builtIn.policySource == Self.file)

        let policy = try Self.plan(["run", "img"], policy: "journal: {path: /srv/j.jsonl}\nremedies: {lock_dir: /srv/lock}\n")
        #expect(policy.journalPath == "/srv/j.jsonl")
        #expect(policy.lockDirectory == "/srv/lock")

        var options = SafebuildOptions()
        options.journalPath = "/tmp/j.jsonl"
        options.maxAttempts = 1
        let given = try Self.plan(["run", "img"], options: options)
        // --sb-journal does not move a protected command's records (Journal.forWriting): the host's journal.
        #expect(given.journalPath == "/var/log/safebuild/journal.jsonl")
        #expect(given.retry.maxAttempts == 1)
        #expect(given.dryRun(cidFile: "/tmp/sb.cid").lines.last == "dry run: at most 1 attempt(s); nothing was run")
    }
}

/// The argv edits of one attempt: argv in, argv out.
@Suite struct AttemptCommandTests {
    static let cid = "/tmp/safebuild-1-x.cid"

    static let cases: [(given: String, expected: String, cidFile: String?, users: Bool, removes: Bool)] = [
        // build runs as given.
        ("build --rm -t app .", "build --rm -t app .", nil, false, false),
        // run: a --cidfile right after the subcommand, after docker's global flags.
        ("run img", "run --cidfile \(cid) img", cid, false, false),
        ("-H unix:///x.sock container run img", "-H unix:///x.sock container run --cidfile \(cid) img", cid, false, false),
        // The user's own --cidfile is used, in every spelling.
        ("run --cidfile /tmp/mine img", "run --cidfile /tmp/mine img", "/tmp/mine", true, false),
        ("run --cidfile=/tmp/mine img", "run --cidfile=/tmp/mine img", "/tmp/mine", true, false),
        // --rm stays docker's own, as given (the daemon removes the container even if safebuild is SIGKILLed);
        // the last one wins, as pflag reads it.
        ("run --rm img", "run --cidfile \(cid) --rm img", cid, false, true),
        ("run --rm=true -e A=1 img", "run --cidfile \(cid) --rm=true -e A=1 img", cid, false, true),
        ("run --rm -e A=1 --rm img", "run --cidfile \(cid) --rm -e A=1 --rm img", cid, false, true),
        ("run --rm=false img", "run --cidfile \(cid) --rm=false img", cid, false, false),
        ("run --rm --rm=false img", "run --cidfile \(cid) --rm --rm=false img", cid, false, false),
        // A --rm after the image is the container's.
        ("run img --rm", "run --cidfile \(cid) img --rm", cid, false, false),
        // Detached: docker removes it when it stops.
        ("run -d --rm img", "run --cidfile \(cid) -d --rm img", cid, false, true),
        ("run --detach --rm img", "run --cidfile \(cid) --detach --rm img", cid, false, true),
    ]

    @Test(arguments: cases)
    func prepare(_ c: (given: String, expected: String, cidFile: String?, users: Bool, removes: Bool)) {
        let given = c.given.split(separator: " ").map(String.init)
        let command = DockerCommandLine(given).protected!
        let attempt = AttemptCommand.prepare(given, command: command, temporaryCIDFile: Self.cid)
        #expect(attempt.arguments.joined(separator: " ") == c.expected)
        #expect(attempt.cidFile == c.cidFile)
        #expect(attempt.cidFileIsUsers == c.users)
        #expect(attempt.dockerRemovesContainer == c.removes)
    }

    @Test func aTemporaryCIDFileIsAskedForOnlyWhenOneIsAdded() {
        var asked = 0
        func path() -> String {
            asked += 1
            return Self.cid
        }
        _ = AttemptCommand.prepare(["run", "--cidfile", "/tmp/mine", "img"], command: .run, temporaryCIDFile: path())
        _ = AttemptCommand.prepare(["build", "."], command: .build(.docker), temporaryCIDFile: path())
        #expect(asked == 0)
        _ = AttemptCommand.prepare(["run", "img"], command: .run, temporaryCIDFile: path())
        #expect(asked == 1)
    }

    /// Each raise starts from the first attempt's arguments, so flags never pile up; the new limit goes last among
    /// the options (docker keeps the last of a repeated flag), before the image.
    @Test(arguments: [
        ("run -m 16m --rm img sh -c x", 64 << 20, 64 << 20, "run -m 16m --rm --memory 64m --memory-swap 64m img sh -c x"),
        ("run --memory 1g --memory-swap -1 img", 2 << 30, nil, "run --memory 1g --memory-swap -1 --memory 2g --memory-swap -1 img"),
        ("build -m 16m -t app .", 256 << 20, nil, "build -m 16m -t app . --memory 256m"),
    ] as [(String, UInt64, Int64?, String)])
    func raisingMemory(_ first: String, _ bytes: UInt64, _ swap: Int64?, _ expected: String) {
        let raised = AttemptCommand.raisingMemory(
            of: first.split(separator: " ").map(String.init), to: bytes, memorySwap: swap)
        #expect(raised.joined(separator: " ") == expected)
    }
}
