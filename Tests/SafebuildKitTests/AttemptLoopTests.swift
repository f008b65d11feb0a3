import Glibc
import SafebuildTestSupport
import Testing

@testable import SafebuildKit

/// The attempt loop through the recording fake: docker's attempts are real captured ones (Fixtures/failure), the
/// policy is YAML as a user writes it. Each test looks at what a user would see: the exit status, safebuild's lines
/// on stderr, the journal's records; and at the effects in order where the order is the point.
@Suite struct AttemptLoopTests {
    typealias Fake = RecordingSupervisionEffects
    typealias Call = RecordingSupervisionEffects.Call

    /// A policy with no pre-flight checks and a backoff without jitter: 2 s, then 4 s, 8 s….
    static func policy(retry: [String] = [], remedies: [String] = [], preflight: [String]? = nil) -> String {
        let off = ["min_available", "max_pressure", "max_build_cache", "min_free_disk", "min_free_blocks"].map { "\($0): off" }
        var retry = retry
        if !retry.contains(where: { $0.hasPrefix("backoff:") }) { retry.append("backoff: {initial: 2s, max: 1m, jitter: 0}") }
        var text = "preflight:\n" + (preflight ?? off).map { "  \($0)\n" }.joined()
        text += "retry:\n" + retry.map { "  \($0)\n" }.joined()
        if !remedies.isEmpty { text += "remedies:\n" + remedies.map { "  \($0)\n" }.joined() }
        return text
    }

    static func plan(_ argv: [String], policy: String = policy(), options: SafebuildOptions = SafebuildOptions()) throws
        -> SupervisionPlan
    {
        try SupervisionPlanTests.plan(argv, policy: policy, options: options)
    }

    /// A captured attempt: NAME.status, NAME.stdout, NAME.stderr and, for runs, the container of NAME.inspect.json.
    static func captured(_ name: String, seconds: Double = 1) -> Fake.Attempt {
        func lines(_ file: String) -> [String] {
            FailureFixture.text(file).split(separator: "\n").map(String.init)
        }
        let inspect = FailureFixture.text(name + ".inspect.json")
        var id: String?
        if let key = inspect.range(of: "\"Id\": \"") {
            id = String(inspect[key.upperBound...].prefix { $0 != "\"" })
        }
        return Fake.Attempt(
            status: FailureFixture.status(name), stdout: lines(name + ".stdout"), stderr: lines(name + ".stderr"),
            containerID: id ?? (inspect.isEmpty ? nil : "unknown"), state: ContainerState.parse(inspectJSON: inspect),
            seconds: seconds)
    }

    /// `build` failing with a real ENOMEM from runc (`process_enomem`), exit 1.
    static let buildENOMEM = "build-classic-ulimit-enomem"
    static let enomemLine =
        "failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: error adding seccomp filter rule for syscall ftruncate64: cannot allocate memory: unknown"
    static let enomemReason = "the kernel refused memory to start the container's process (fork/exec, runc, shim)"

    static func run(_ plan: SupervisionPlan, _ fake: Fake) -> Int32 {
        var loop = AttemptLoop(plan: plan, effects: fake, random: SplitMix64(seed: 1))
        return loop.run()
    }

    // MARK: - Success

    @Test func successFirstTimeIsSilentAndRecordedOnce() throws {
        let plan = try Self.plan(["run", "--rm", "-m", "64m", "img", "echo", "hi"])
        let fake = Fake(attempts: [Fake.Attempt(status: .exited(0), stdout: ["hi"], containerID: "c1")])
        #expect(Self.run(plan, fake) == 0)
        #expect(fake.console.isEmpty)
        let cid = "/tmp/safebuild-fake-1.cid"
        // --rm is docker's own: a success reads no state and removes nothing.
        let executed = ["run", "--cidfile", cid, "--memory-swap", "64m", "--rm", "-m", "64m", "img", "echo", "hi"]
        #expect(fake.effects == [
            .temporaryPath(cid), .runDocker(executed), .appendAttempt(1, decision: "succeeded"),
            .journalContext, .appendInvocation(.succeeded),
        ])
        let attempt = try #require(fake.attemptRecords.first)
        // What ran, exactly as docker got it.
        #expect(attempt.argv == executed)
        #expect(attempt.exitStatus == 0)
        #expect(attempt.failureClass == nil)
        #expect(attempt.maxAttempts == 3)
        let invocation = try #require(fake.invocationRecords.first)
        #expect(attempt.invocation == invocation.id)
        #expect(invocation.outcome == .succeeded)
        #expect(invocation.attempts == 1)
        #expect(invocation.exitStatus == 0)
        #expect(invocation.argv == ["run", "--rm", "-m", "64m", "img", "echo", "hi"])
        #expect(invocation.executedArgv == executed)
        #expect(invocation.image == "img")
        #expect(invocation.host == "build-7")
        #expect(invocation.policySource == SupervisionPlanTests.file)
    }

    // MARK: - Retry

    @Test func retryAfterENOMEMRunsTheLadderWaitsTheBackoffAndSucceeds() throws {
        let plan = try Self.plan(["build", "-m", "1g", "-q", "."])
        let fake = Fake(attempts: [Self.captured(Self.buildENOMEM), .exits(0)])
        fake.contextWarnings = ["/work/app has no .dockerignore: the whole directory is sent to the daemon"]
        #expect(Self.run(plan, fake) == 0)
        #expect(fake.console == [
            .warn("/work/app has no .dockerignore: the whole directory is sent to the daemon"),
            .say("attempt 1/3 failed: \(Self.enomemReason); dropped caches, waited 1s for memory; retrying in 2 s"),
            .say("attempt 2/3 succeeded after 1 failed"),
        ])
        // The ladder's first step, then the backoff, then the next attempt with the same arguments.
        #expect(fake.effects == [
            // The step container the failed build left (its ` ---> Running in 15f00de4a38a`) goes before the retry.
            .buildContextWarnings, .runDocker(plan.arguments), .evidence, .removeStoppedContainers(["15f00de4a38a"]),
            .runRemedy(.dropCaches), .runRemedy(.waitForMemory), .appendAttempt(1, decision: "retry in 2s"), .sleep(2), .runDocker(plan.arguments),
            .appendAttempt(2, decision: "succeeded"), .journalContext, .appendInvocation(.succeededAfterRetry),
        ])
        let first = try #require(fake.attemptRecords.first)
        #expect(first.failureClass == "process_enomem")
        #expect(first.matchedLine == Self.enomemLine)
        #expect(first.exitStatus == 1)
        #expect(first.remedies.map(\.name) == ["drop_caches", "wait_for_memory"])
        #expect(first.remedies.map(\.ran) == [true, true])
        #expect(fake.attemptRecords.last?.failureClass == nil)
        let invocation = try #require(fake.invocationRecords.first)
        #expect(invocation.outcome == .succeededAfterRetry)
        #expect(invocation.attempts == 2)
        #expect(invocation.exitStatus == 0)
        #expect(invocation.failureClass == nil)
        // 1 s attempt, 2 s of remedies, the 2 s backoff, 1 s attempt.
        #expect(invocation.durationSeconds == 6)
        #expect(fake.attemptRecords.last?.started == JournalTime.format(1_795_000_000 + 5))
    }

    /// Escalating backoff (2 s, then 4 s) and ladder steps until max_attempts; then docker's status.
    @Test func maxAttemptsReachedGivesUpWithDockersStatus() throws {
        let plan = try Self.plan(["build", "-q", "."], policy: Self.policy(retry: ["max_attempts: 3"]))
        let fake = Fake(attempts: [Self.captured(Self.buildENOMEM), Self.captured(Self.buildENOMEM), Self.captured(Self.buildENOMEM), .exits(0)])
        #expect(Self.run(plan, fake) == 1)
        #expect(fake.attempts.count == 1)  // the fourth never ran
        #expect(fake.effects.filter { if case .sleep = $0 { return true } else { return false } } == [.sleep(2), .sleep(4)])
        #expect(fake.console == [
            .say("attempt 1/3 failed: \(Self.enomemReason); dropped caches, waited 1s for memory; retrying in 2 s"),
            .say("attempt 2/3 failed: \(Self.enomemReason); pruned 0 B of build cache, dropped caches, compacted memory, waited 1s for memory; retrying in 4 s"),
            .say("attempt 3/3 failed: \(Self.enomemReason); giving up: process_enomem after 3 attempt(s): the policy allows 3"),
        ])
        #expect(fake.attemptRecords.map(\.decision) == [
            "retry in 2s", "retry in 4s", "give up: process_enomem after 3 attempt(s): the policy allows 3",
        ])
        #expect(fake.attemptRecords.last?.remedies.isEmpty == true)
        let invocation = try #require(fake.invocationRecords.first)
        #expect(invocation.outcome == .failed)
        #expect(invocation.attempts == 3)
        #expect(invocation.exitStatus == 1)
        #expect(invocation.failureClass == "process_enomem")
    }

    /// `--sb-max-attempts 1`: never retry, but say why the memory failure was not.
    @Test func oneAttemptAllowedGivesUpAtOnce() throws {
        var options = SafebuildOptions()
        options.maxAttempts = 1
        let plan = try Self.plan(["build", "."], options: options)
        let fake = Fake(attempts: [Self.captured(Self.buildENOMEM)])
        #expect(Self.run(plan, fake) == 1)
        #expect(fake.console == [
            .say("attempt 1/1 failed: \(Self.enomemReason); giving up: process_enomem after 1 attempt(s): the policy allows 1")
        ])
        #expect(!fake.effects.contains { if case .runRemedy = $0 { return true } else { return false } })
    }

    // MARK: - User errors

    /// The container's own exit 3 (it even printed "cannot allocate memory"): one attempt, nothing retried, nothing
    /// said, the container left (the user asked for no --rm).
    @Test func userErrorRunsOnceAndIsNotRetried() throws {
        let plan = try Self.plan(["run", "--name", "job", "img", "sh", "-c", "exit 3"])
        let fake = Fake(attempts: [Self.captured("run-exit3"), .exits(0)])
        #expect(Self.run(plan, fake) == 3)
        #expect(fake.console.isEmpty)
        let id = "f9d90a341c87ab0bfcae460add998bc6966fead9d5b484a2404caf44842e5114"
        #expect(fake.effects == [
            .temporaryPath("/tmp/safebuild-fake-1.cid"), .runDocker(fake.dockerAttempts[0].arguments),
            .containerState(id, settle: 0), .evidence, .appendAttempt(1, decision: fake.attemptRecords[0].decision),
            .journalContext, .appendInvocation(.failed),
        ])
        let attempt = try #require(fake.attemptRecords.first)
        #expect(attempt.failureClass == "not_memory")
        #expect(attempt.decision.hasPrefix("give up: the container's own failure (exit status 3)"), "\(attempt.decision)")
        #expect(attempt.remedies.isEmpty)
        #expect(fake.invocationRecords.first?.failureClass == "not_memory")
        #expect(fake.invocationRecords.first?.exitStatus == 3)
    }

    @Test func dockerThatCannotStartIsSafebuildsOwnFailure() throws {
        let plan = try Self.plan(["build", "."])
        let error = SafebuildError(.software, "cannot start /usr/bin/docker: Permission denied")
        let fake = Fake(attempts: [Fake.Attempt(status: .exited(0), startError: error)])
        #expect(Self.run(plan, fake) == 70)
        #expect(fake.console == [.error("cannot start /usr/bin/docker: Permission denied")])
        #expect(fake.attemptRecords.first?.failureClass == "not_memory")
        #expect(fake.invocationRecords.first?.outcome == .failed)
        #expect(fake.invocationRecords.first?.exitStatus == 70)
    }

    // MARK: - Signals

    /// SIGTERM while docker runs: docker's status, `aborted`; no wait for an OOM flag (the kill was safebuild's).
    @Test func signalDuringAnAttemptAbortsWithDockersStatus() throws {
        let plan = try Self.plan(["run", "--rm", "img", "sleep", "100"])
        let fake = Fake(attempts: [
            Fake.Attempt(
                status: .exited(137), interruptedBy: SIGTERM, containerID: "c7",
                state: ContainerState(oomKilled: false, exitCode: 137, status: "exited")),
            .exits(0),
        ])
        #expect(Self.run(plan, fake) == 137)
        #expect(fake.console == [.say("attempt 1/3 aborted by SIGTERM; docker stopped, exit status 137")])
        #expect(fake.effects.contains(.containerState("c7", settle: 0)))
        // Its --rm is docker's: the daemon removes the container safebuild killed.
        #expect(!fake.effects.contains(.removeContainer("c7")))
        #expect(fake.dockerAttempts.count == 1)
        #expect(fake.attemptRecords.map(\.decision) == ["aborted by SIGTERM"])
        let invocation = try #require(fake.invocationRecords.first)
        #expect(invocation.outcome == .aborted)
        #expect(invocation.attempts == 1)
        #expect(invocation.exitStatus == 137)
    }

    @Test func signalDuringTheBackoffEndsWithoutANewAttempt() throws {
        let plan = try Self.plan(["build", "."])
        let fake = Fake(attempts: [Self.captured(Self.buildENOMEM), .exits(0)])
        fake.sleepSignals = [SIGINT]
        #expect(Self.run(plan, fake) == 128 + SIGINT)
        #expect(fake.console.last == .say("interrupted by SIGINT before attempt 2; not retrying"))
        #expect(Array(fake.effects.suffix(4)) == [
            .appendAttempt(1, decision: "retry in 2s"), .sleep(2), .journalContext, .appendInvocation(.aborted),
        ])
        #expect(fake.dockerAttempts.count == 1)
        let invocation = try #require(fake.invocationRecords.first)
        #expect(invocation.outcome == .aborted)
        #expect(invocation.attempts == 1)
        #expect(invocation.exitStatus == 128 + SIGINT)
        #expect(invocation.failureClass == "process_enomem")
    }

    /// A signal that ends a remedy's wait: no backoff, no new attempt.
    @Test func signalDuringARemedyEndsWithoutTheBackoff() throws {
        let plan = try Self.plan(["build", "."])
        let fake = Fake(attempts: [Self.captured(Self.buildENOMEM), .exits(0)])
        let why = "interrupted by SIGTERM while waiting for MemAvailable to reach 512 MiB (wait_for_memory), 100 MiB available after 3s"
        fake.remedyReports[.waitForMemory] = RemedyReport(
            name: .waitForMemory, ran: true, detail: why, duration: 3, interruptedBy: SIGTERM)
        #expect(Self.run(plan, fake) == 128 + SIGTERM)
        #expect(!fake.effects.contains { if case .sleep = $0 { return true } else { return false } })
        guard case .say(let line) = fake.console.last else { Issue.record("\(fake.console)"); return }
        #expect(line.hasPrefix("attempt 1/"), "\(line)")
        #expect(line.contains(" failed: ") && line.hasSuffix("; \(why); not retrying"), "\(line)")
        #expect(fake.invocationRecords.first?.outcome == .aborted)
        #expect(fake.invocationRecords.first?.interrupted == why)
        // The attempt says it was aborted (no retry followed), and the remedy's record says why it did not finish.
        #expect(fake.attemptRecords.first?.decision == "aborted by SIGTERM")
        #expect(fake.attemptRecords.first?.remedies.first { $0.name == "wait_for_memory" }?.error == why)
        #expect(fake.dockerAttempts.count == 1)
    }

    // MARK: - Deadline

    /// The deadline counts attempts, remedies and backoff: retry 1 fits (1 s + 2 s < 12 s); at 8 s, retry 2's 4 s
    /// would reach it.
    @Test func noAttemptStartsPastTheDeadline() throws {
        let plan = try Self.plan(
            ["build", "."], policy: Self.policy(retry: ["max_attempts: 5", "deadline: 12s", "backoff: {initial: 4s, max: 4s, jitter: 0}"]))
        let fake = Fake(attempts: [Self.captured(Self.buildENOMEM), Self.captured(Self.buildENOMEM), .exits(0)])
        #expect(Self.run(plan, fake) == 1)
        #expect(fake.dockerAttempts.count == 2)
        let why = "process_enomem: the next attempt would start after the policy's deadline (4 s left)"
        #expect(fake.attemptRecords.map(\.decision) == ["retry in 4s", "give up: " + why])
        #expect(fake.console.last == .say("attempt 2/5 failed: \(Self.enomemReason); giving up: \(why)"))
        #expect(fake.invocationRecords.first?.outcome == .failed)
    }

    // MARK: - Remedies skipped

    /// drop_caches turned off by the policy is not run; the line on stderr says what ran and what was skipped.
    @Test func aRemedyThePolicyTurnedOffIsSkippedAndNotClaimed() throws {
        let plan = try Self.plan(["build", "."], policy: Self.policy(remedies: ["drop_caches: false"]))
        let fake = Fake(attempts: [Self.captured(Self.buildENOMEM), .exits(0)])
        #expect(Self.run(plan, fake) == 0)
        #expect(!fake.effects.contains(.runRemedy(.dropCaches)))
        #expect(fake.effects.contains(.runRemedy(.waitForMemory)))
        let line = try #require(fake.console.first)
        guard case .say(let text) = line else { throw TestSetupError("not a line: \(line)") }
        #expect(text.hasPrefix("attempt 1/3 failed: \(Self.enomemReason); waited 1s for memory; skipped drop_caches (turned off by the policy (remedies.drop_caches at "))
        #expect(text.hasSuffix("); retrying in 2 s"))
        let remedies = try #require(fake.attemptRecords.first?.remedies)
        #expect(remedies.map(\.name) == ["drop_caches", "wait_for_memory"])
        #expect(remedies.map(\.ran) == [false, true])
        #expect(remedies[0].skippedReason?.hasPrefix("turned off by the policy (remedies.drop_caches at \(SupervisionPlanTests.file):") == true)
    }

    /// Remedies that could not run (no sudoers rule for the root ones, MemAvailable unknown) are recorded as skipped
    /// and never claimed: the line says that no remedy ran, which were skipped and why, before the retry.
    @Test func remediesThatCouldNotRunAreNotClaimed() throws {
        let plan = try Self.plan(["build", "."])
        let fake = Fake(attempts: [Self.captured(Self.buildENOMEM), .exits(0)])
        let needsRoot = PrivilegedEntry.needsRoot(.dropCaches, binary: "/usr/local/bin/safebuild", sudo: nil)
        fake.remedyReports[.dropCaches] = .skip(.dropCaches, needsRoot)
        fake.remedyReports[.waitForMemory] = .skip(.waitForMemory, "MemAvailable is not known on this host")
        #expect(Self.run(plan, fake) == 0)
        #expect(fake.console.first == .say(
            "attempt 1/3 failed: \(Self.enomemReason); no remedy ran: skipped drop_caches (needs root, and sudo is not installed: allow it with Scripts/install.sh --with-sudo) and wait_for_memory (MemAvailable is not known on this host); retrying in 2 s"))
        let remedies = try #require(fake.attemptRecords.first?.remedies)
        #expect(remedies.map(\.ran) == [false, false])
        #expect(remedies.map(\.skippedReason) == [needsRoot, "MemAvailable is not known on this host"])
        #expect(fake.invocationRecords.first?.outcome == .succeededAfterRetry)
    }

    /// A `--rm --name` run whose attempt is retried: its `--rm` is docker's, so the retry waits until the daemon has
    /// removed the container (and only where it did not, in time, removes it by its id); an OOM kill its own cgroup
    /// counted needs no wait for the engine's flag.
    @Test(arguments: [true, false])
    func retryOfARemovedNamedContainerWaitsForTheDaemon(daemonRemoves: Bool) throws {
        let plan = try Self.plan(
            ["run", "--rm", "--name", "job", "-m", "16m", "img", "sh", "-c", "x"],
            policy: Self.policy(retry: ["raise_memory: {factor: 4, cap: 256m}"]))
        var oom = Self.captured("run-oom")
        oom.memory = AttemptMemory(pool: "/p", limitBytes: 16 << 20, oomKills: 1, containers: 1)
        let fake = Fake(attempts: [oom, .exits(0)])
        fake.daemonRemoves = daemonRemoves
        #expect(Self.run(plan, fake) == 0)
        let id = try #require(oom.containerID)
        #expect(fake.effects.contains(.containerState(id, settle: 0)))
        #expect(fake.effects.contains(.waitForRemoval(id)))
        #expect(fake.effects.contains(.removeContainer(id)) == !daemonRemoves)
        #expect(fake.dockerAttempts.allSatisfy { $0.arguments.contains("--rm") })
    }

    // MARK: - raise_memory

    /// An OOM-killed run under -m 16m: 64m, then 256m (each from the first attempt's arguments); a named container
    /// goes before the retry takes its name again.
    @Test func oomKilledRunIsRetriedWithTheRaisedLimit() throws {
        let plan = try Self.plan(
            ["run", "--name", "job", "-m", "16m", "img", "sh", "-c", "x"],
            policy: Self.policy(retry: ["raise_memory: {factor: 4, cap: 256m}"]))
        let oom = Self.captured("run-oom")
        let fake = Fake(attempts: [oom, oom, .exits(0)])
        #expect(Self.run(plan, fake) == 0)
        let id = try #require(oom.containerID)
        #expect(fake.effects.filter { if case .containerState = $0 { return true } else { return false } }
            == [.containerState(id, settle: 2), .containerState(id, settle: 2)])
        #expect(fake.effects.filter { $0 == .removeContainer(id) }.count == 2)
        let base = ["run", "--cidfile"]
        let tail = ["--memory-swap", "16m", "--name", "job", "-m", "16m"]
        #expect(fake.dockerAttempts.map(\.arguments) == [
            base + ["/tmp/safebuild-fake-1.cid"] + tail + ["img", "sh", "-c", "x"],
            base + ["/tmp/safebuild-fake-2.cid"] + tail + ["--memory", "64m", "--memory-swap", "64m", "img", "sh", "-c", "x"],
            base + ["/tmp/safebuild-fake-3.cid"] + tail + ["--memory", "256m", "--memory-swap", "256m", "img", "sh", "-c", "x"],
        ])
        let reason = "the container was killed by the OOM killer (State.OOMKilled=true)"
        #expect(fake.console == [
            .say("attempt 1/3 failed: \(reason); raised the memory limit from 16m to 64m; retrying in 2 s"),
            .say("attempt 2/3 failed: \(reason); raised the memory limit from 64m to 256m; retrying in 4 s"),
            .say("attempt 3/3 succeeded after 2 failed"),
        ])
        #expect(fake.attemptRecords.map(\.failureClass) == ["oom_container", "oom_container", nil])
        #expect(fake.invocationRecords.first?.executedArgv == fake.attemptRecords.last?.argv)
    }

    @Test func raiseMemoryAtItsCapGivesUp() throws {
        let plan = try Self.plan(
            ["run", "-m", "256m", "img", "sh", "-c", "x"], policy: Self.policy(retry: ["raise_memory: {factor: 4, cap: 256m}"]))
        let fake = Fake(attempts: [Self.captured("run-oom"), .exits(0)])
        #expect(Self.run(plan, fake) == 137)
        #expect(fake.dockerAttempts.count == 1)
        let why = "oom_container: the limit 256m is already at the policy's cap 256m, so the same limit would be killed again"
        #expect(fake.console == [
            .say("attempt 1/3 failed: the container was killed by the OOM killer (State.OOMKilled=true); giving up: \(why)")
        ])
        let attempt = try #require(fake.attemptRecords.first)
        #expect(attempt.decision == "give up: " + why)
        #expect(attempt.remedies.map(\.name) == ["raise_memory"])
        #expect(attempt.remedies.first?.ran == false)
        #expect(!fake.effects.contains { if case .sleep = $0 { return true } else { return false } })
        let invocation = try #require(fake.invocationRecords.first)
        #expect(invocation.outcome == .failed)
        #expect(invocation.exitStatus == 137)
        #expect(invocation.failureClass == "oom_container")
    }

    // MARK: - Pre-flight

    static let lowMemory = Preflight.Threshold(.minAvailable(bytes: 1 << 30), .remediate)

    static func decision(_ verdict: Preflight.Decision.Verdict, _ sentence: String) -> Preflight.Decision {
        Preflight.Decision(threshold: lowMemory, verdict: verdict, measured: Double(512 << 20), sentence: sentence)
    }

    static func outcome(initial: [Preflight.Decision], final: [Preflight.Decision], interruptedBy: Int32? = nil)
        -> Preflight.Outcome
    {
        Preflight.Outcome(
            initial: initial, decisions: final, remediated: [], waitedSeconds: 0, interruptedBy: interruptedBy,
            figures: HostFigures())
    }

    static let preflightPolicy = policy(preflight: [
        "min_available: {value: 1g, action: remediate}", "max_pressure: off", "max_build_cache: off",
        "min_free_disk: off", "min_free_blocks: off",
    ])

    /// A remediate threshold: its remedies run before the first attempt, are said once and recorded with it.
    @Test func preflightRemediesRunBeforeTheFirstAttempt() throws {
        let plan = try Self.plan(["build", "."], policy: Self.preflightPolicy)
        #expect(plan.thresholds == [Self.lowMemory])
        let fake = Fake(attempts: [.exits(0)])
        let below = "available memory 512.0 MiB is below min_available 1.0 GiB"
        fake.preflightOutcome = Self.outcome(
            initial: [Self.decision(.remediate, below)], final: [Self.decision(.warn, below + " even after the remedy")])
        #expect(Self.run(plan, fake) == 0)
        #expect(Array(fake.effects.prefix(5)) == [
            .buildContextWarnings, .preflight, .runRemedy(.dropCaches), .runRemedy(.compactMemory), .runDocker(plan.arguments),
        ])
        #expect(fake.console == [
            .warn(below + " even after the remedy"), .say("pre-flight: dropped caches, compacted memory"),
        ])
        let attempt = try #require(fake.attemptRecords.first)
        #expect(attempt.remedies.map(\.name) == ["drop_caches", "compact_memory"])
        #expect(attempt.preflight.map(\.action) == ["warn"])
        #expect(attempt.preflight.first?.check == "min_available")
        #expect(attempt.remedies.map(\.phase) == ["preflight", "preflight"])
        #expect(fake.invocationRecords.first?.preflight == attempt.preflight)
    }

    /// A first attempt that fails keeps pre-flight's remedies on its record, marked, before those run after it
    /// (found in review: the failed attempt's remedies replaced them); its console line names only the latter.
    @Test func preflightRemediesSurviveAFailedFirstAttempt() throws {
        let plan = try Self.plan(["build", "-m", "1g", "-q", "."], policy: Self.preflightPolicy)
        let fake = Fake(attempts: [Self.captured(Self.buildENOMEM), .exits(0)])
        let below = "available memory 512.0 MiB is below min_available 1.0 GiB"
        fake.preflightOutcome = Self.outcome(
            initial: [Self.decision(.remediate, below)], final: [Self.decision(.ok, "available memory 1.5 GiB")])
        #expect(Self.run(plan, fake) == 0)
        #expect(fake.effects.filter { if case .runRemedy = $0 { return true } else { return false } } == [
            .runRemedy(.dropCaches), .runRemedy(.compactMemory), .runRemedy(.dropCaches), .runRemedy(.waitForMemory),
        ])
        let first = try #require(fake.attemptRecords.first)
        #expect(first.failureClass == "process_enomem")
        #expect(first.remedies.map(\.name) == ["drop_caches", "compact_memory", "drop_caches", "wait_for_memory"])
        #expect(first.remedies.map(\.phase) == ["preflight", "preflight", nil, nil])
        #expect(fake.attemptRecords.last?.remedies == [])
        #expect(fake.console.contains(.say("pre-flight: dropped caches, compacted memory")))
        #expect(fake.console.contains(
            .say("attempt 1/3 failed: \(Self.enomemReason); dropped caches, waited 1s for memory; retrying in 2 s")))
        // In the journal's words: the phase survives encoding.
        let line = String(decoding: try JournalCoding.line(first), as: UTF8.self)
        #expect(line.contains("\"phase\":\"preflight\""))
    }

    @Test func preflightRefusalRunsNothing() throws {
        let plan = try Self.plan(["build", "."], policy: Self.preflightPolicy)
        let fake = Fake(attempts: [.exits(0)])
        let below = "available memory 512.0 MiB is below min_available 1.0 GiB"
        fake.preflightOutcome = Self.outcome(initial: [Self.decision(.refuse, below)], final: [Self.decision(.refuse, below)])
        #expect(Self.run(plan, fake) == 75)
        #expect(fake.dockerAttempts.isEmpty)
        #expect(fake.console.count == 1)
        guard case .error(let message) = fake.console.first else {
            Issue.record("no error line: \(fake.console)")
            return
        }
        #expect(message.hasPrefix("pre-flight refused to start: \(below)."))
        let invocation = try #require(fake.invocationRecords.first)
        #expect(invocation.outcome == .refused)
        #expect(invocation.attempts == 0)
        #expect(invocation.exitStatus == 75)
        #expect(invocation.preflight?.map(\.action) == ["refuse"])
    }

    @Test func preflightInterruptedWhileWaitingAborts() throws {
        let plan = try Self.plan(["build", "."], policy: Self.preflightPolicy)
        let fake = Fake(attempts: [.exits(0)])
        let below = "available memory 512.0 MiB is below min_available 1.0 GiB"
        fake.preflightOutcome = Self.outcome(
            initial: [Self.decision(.wait, below)], final: [Self.decision(.refuse, below + "; interrupted by SIGTERM while waiting for available memory to reach min_available 1.0 GiB after 2s")],
            interruptedBy: SIGTERM)
        let why = "interrupted by SIGTERM while waiting for available memory to reach min_available 1.0 GiB after 2s"
        fake.preflightOutcome?.interruption = why
        #expect(Self.run(plan, fake) == 128 + SIGTERM)
        #expect(fake.dockerAttempts.isEmpty)
        #expect(fake.console.last == .say(why + "; docker was not started"))
        #expect(fake.invocationRecords.first?.interrupted == why)
        #expect(fake.invocationRecords.first?.outcome == .aborted)
        #expect(fake.invocationRecords.first?.attempts == 0)
    }

    /// An engine that cannot be located skips pre-flight with a warning; the build goes on.
    @Test func preflightWithoutAnEngineIsSkipped() throws {
        let plan = try Self.plan(["build", "."], policy: Self.preflightPolicy)
        let fake = Fake(attempts: [.exits(0)])
        #expect(Self.run(plan, fake) == 0)
        #expect(fake.console == [.warn("pre-flight checks of the engine skipped: cannot locate the engine (scripted)")])
        #expect(fake.invocationRecords.first?.outcome == .succeeded)
    }
}
