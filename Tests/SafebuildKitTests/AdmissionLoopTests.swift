import Glibc
import SafebuildTestSupport
import Testing

@testable import SafebuildKit

/// Memory admission and the OOM diagnosis in the attempt loop, through the recording fake: what is reserved, when it
/// is given back, what a refusal or a signal during the wait does, and that a kill by the shared pool is retried
/// under the same limit after admission while a kill at the container's own limit raises it as before.
@Suite struct AdmissionLoopTests {
    typealias Fake = RecordingSupervisionEffects
    static let m: UInt64 = 1 << 20

    static func plan(
        _ argv: [String], policy: String = "", retry: [String] = [], environment: [String: String] = ["PATH": "/usr/bin"]
    ) throws -> SupervisionPlan {
        try SupervisionPlanTests.plan(argv, policy: AttemptLoopTests.policy(retry: retry) + policy, environment: environment)
    }

    static func run(_ plan: SupervisionPlan, _ fake: Fake) -> Int32 {
        var loop = AttemptLoop(plan: plan, effects: fake, random: SplitMix64(seed: 1))
        return loop.run()
    }

    /// An attempt OOM-killed (the real `run-oom` capture) with what its cgroups showed.
    static func oomKilled(_ memory: AttemptMemory) -> Fake.Attempt {
        var attempt = AttemptLoopTests.captured("run-oom")
        attempt.memory = memory
        return attempt
    }

    static let poolKill = AttemptMemory(
        pool: "/sbbench", peakBytes: 600 * m, limitBytes: 800 * m, oomKills: 1, poolOOMKills: 0, poolPeakBytes: 1024 * m,
        poolLimitBytes: 1024 * m, containers: 1)

    // MARK: Reservations

    @Test func theLimitIsReservedBeforeDockerAndGivenBackAfterIt() throws {
        let plan = try Self.plan(["run", "--rm", "-m", "800m", "img", "true"])
        #expect(plan.admission.enabled)
        #expect(plan.admission.label == "run img")
        let fake = Fake(attempts: [Fake.Attempt(status: .exited(0), containerID: "c1")])
        #expect(Self.run(plan, fake) == 0)
        let cid = "/tmp/safebuild-fake-1.cid"
        #expect(fake.effectsWithAdmission == [
            .admit(800 * Self.m, retry: false), .temporaryPath(cid),
            .runDocker(["run", "--cidfile", cid, "--memory-swap", "800m", "--rm", "-m", "800m", "img", "true"]),
            .releaseReservation, .appendAttempt(1, decision: "succeeded"), .withdrawReservation, .journalContext, .appendInvocation(.succeeded),
        ])
        #expect(fake.admissionRequests.first?.source == "its memory limit 800m")
        let record = try #require(fake.attemptRecords.first?.admission)
        #expect(record.outcome == .admitted)
        #expect(record.requestBytes == 800 * Self.m)
    }

    @Test func withoutALimitTheDefaultRequestIsReserved() throws {
        let plan = try Self.plan(["run", "img", "true"], policy: "run: {memory: unlimited}\nadmission: {default_request: 1536m}\n")
        let fake = Fake(attempts: [.exits(0)])
        #expect(Self.run(plan, fake) == 0)
        #expect(fake.admissionRequests.map(\.bytes) == [1536 * Self.m])
        #expect(fake.admissionRequests.first?.source == "admission.default_request 1536m, as it has no memory limit")
    }

    @Test func turnedOffThereIsNoAdmissionAtAll() throws {
        let plan = try Self.plan(["run", "-m", "1g", "img", "true"], policy: "admission: {enabled: false}\n")
        let fake = Fake(attempts: [.exits(0)])
        #expect(Self.run(plan, fake) == 0)
        #expect(!fake.calls.contains { $0.isAdmission })
        #expect(fake.attemptRecords.first?.admission == nil)
    }

    /// `reserve: learned` reserves the learned figure, the container's -m stays the policy's; never more than the
    /// limit, since the container cannot use more.
    @Test(arguments: [(UInt64(640), UInt64(640)), (2048, 1024)])
    func learnedReservations(learnedMiB: UInt64, reserved: UInt64) throws {
        let plan = try Self.plan(
            ["build", "-t", "app:1", "."], policy: "build: {memory: 1g}\nadmission: {reserve: learned}\n",
            environment: ["PATH": "/usr/bin", "JOB_NAME": "app/main"])
        #expect(plan.admission.job == "app/main")
        #expect(plan.admission.image == "app:1")
        let fake = Fake(attempts: [.exits(0)])
        fake.learned = (learnedMiB * Self.m, "learned from 5 runs of job app/main")
        #expect(Self.run(plan, fake) == 0)
        #expect(fake.calls.first(where: \.isAdmission) == .learnedReservation)
        #expect(fake.admissionRequests.map(\.bytes) == [reserved * Self.m])
        #expect(fake.dockerAttempts.first?.arguments.contains("1g") == true)
    }

    // MARK: Refusals and signals

    @Test func aRefusalStartsNothingAndExits75() throws {
        let plan = try Self.plan(["run", "-m", "4g", "img", "true"], policy: "admission: {oversize: refuse}\n")
        let fake = Fake(attempts: [.exits(0)])
        let message = "needs 4 GiB (its memory limit 4g), more than the whole memory budget of 1 GiB (memory limit of cgroup /sbbench (1.0 GiB)), and admission.oversize is refuse"
        fake.admissions = [AdmissionResult(record: JournalAdmission(
            outcome: .refusedOversize, requestBytes: 4 << 30, freeBytes: 1 << 30, message: message))]
        #expect(Self.run(plan, fake) == 75)
        #expect(fake.dockerAttempts.isEmpty)
        #expect(fake.console == [.error("memory admission refused to start docker: " + message)])
        let invocation = try #require(fake.invocationRecords.first)
        #expect(invocation.outcome == .refused)
        #expect(invocation.attempts == 0)
        #expect(invocation.exitStatus == 75)
        #expect(invocation.preflight == [JournalDecision(
            check: "admission", measured: Double(1 << 30), limit: Double(4 << 30), unit: "bytes", action: "refuse",
            message: message)])
        #expect(fake.effectsWithAdmission.suffix(3) == [.withdrawReservation, .journalContext, .appendInvocation(.refused)])
    }

    @Test func aSignalWhileWaitingStartsNothing() throws {
        let plan = try Self.plan(["run", "-m", "800m", "img", "true"])
        let fake = Fake(attempts: [.exits(0)])
        let why = "interrupted by SIGTERM while waiting for memory admission: needs 800 MiB (its memory limit 800m) after 12s"
        var record = JournalAdmission(outcome: .interrupted, requestBytes: 800 * Self.m, waitedSeconds: 12)
        record.message = why
        fake.admissions = [AdmissionResult(record: record, interruptedBy: SIGTERM)]
        #expect(Self.run(plan, fake) == 143)
        #expect(fake.dockerAttempts.isEmpty)
        #expect(fake.console == [.say(why + "; docker was not started")])
        #expect(fake.invocationRecords.first?.interrupted == why)
        #expect(fake.invocationRecords.first?.outcome == .aborted)
        #expect(fake.invocationRecords.first?.durationSeconds == 12)
    }

    // MARK: Which limit killed it

    /// Killed at 600 MiB of its 800 MiB while the pool was full: the limit stays, the retry is admitted again with
    /// the same request and the first attempt's ticket, and it succeeds.
    @Test func aKillByTheSharedPoolIsRetriedUnderTheSameLimit() throws {
        let plan = try Self.plan(["run", "-m", "800m", "img", "sh", "-c", "x"])
        let fake = Fake(attempts: [Self.oomKilled(Self.poolKill), .exits(0)])
        #expect(Self.run(plan, fake) == 0)
        #expect(fake.admissionRequests.map(\.bytes) == [800 * Self.m, 800 * Self.m])
        #expect(fake.admissionRequests.map(\.retry) == [false, true])
        #expect(fake.dockerAttempts.map { $0.arguments.filter { $0.hasSuffix("m") && $0 != "-m" } } == [["800m", "800m"], ["800m", "800m"]])
        let first = try #require(fake.attemptRecords.first)
        #expect(first.failureClass == "oom_container")
        #expect(first.memory?.oomCause == .poolPressure)
        #expect(first.remedies.map(\.name) == ["raise_memory"])
        #expect(first.remedies.first?.ran == false)
        #expect(first.remedies.first?.skippedReason == "killed by pressure on the shared pool, below its own limit: the limit stays")
        let reason = "the container was killed by the OOM killer (State.OOMKilled=true); killed by pressure on the shared pool, not its own limit: peak 600 MiB, below its own limit 800 MiB, while the pool /sbbench reached 1 GiB of its 1 GiB limit; the limit is not raised, the retry waits for memory"
        #expect(fake.console == [
            .say("attempt 1/3 failed: \(reason); no remedy ran: skipped raise_memory (killed by pressure on the shared pool, below its own limit: the limit stays); retrying in 2 s"),
            .say("attempt 2/3 succeeded after 1 failed"),
        ])
        let calls = fake.effectsWithAdmission
        let sleep = try #require(calls.firstIndex(of: .sleep(2)))
        #expect(calls[sleep + 1] == .admit(800 * Self.m, retry: true))
        #expect(fake.invocationRecords.first?.outcome == .succeededAfterRetry)
    }

    /// At its own limit: raised as before, and the retry reserves the raised limit.
    @Test func aKillAtItsOwnLimitRaisesIt() throws {
        let plan = try Self.plan(
            ["run", "-m", "16m", "img", "sh", "-c", "x"], retry: ["raise_memory: {factor: 4, cap: 256m}"])
        let own = AttemptMemory(pool: "/docker", peakBytes: 16 * Self.m, limitBytes: 16 * Self.m, oomKills: 1, containers: 1)
        let fake = Fake(attempts: [Self.oomKilled(own), .exits(0)])
        #expect(Self.run(plan, fake) == 0)
        #expect(fake.admissionRequests.map(\.bytes) == [16 * Self.m, 64 * Self.m])
        let first = try #require(fake.attemptRecords.first)
        #expect(first.memory?.oomCause == .ownLimit)
        #expect(first.memory?.diagnosis == "reached its own memory limit: peak 16 MiB of its own limit 16 MiB")
        #expect(first.remedies.map(\.name) == ["raise_memory"] && first.remedies.first?.ran == true)
    }

    /// A pool kill under a policy that would give up for want of raising memory (factor 1) is still retried: a
    /// higher limit was never the cure.
    @Test func aPoolKillIsRetriedEvenWhereTheLimitCouldNotBeRaised() throws {
        let plan = try Self.plan(
            ["run", "-m", "800m", "img", "sh", "-c", "x"], retry: ["raise_memory: {factor: 1, cap: 1g}"])
        let fake = Fake(attempts: [Self.oomKilled(Self.poolKill), .exits(0)])
        #expect(Self.run(plan, fake) == 0)
        #expect(fake.dockerAttempts.count == 2)
    }

    /// docker reported OOMKilled=false (its event was lost) but the container's own cgroup counted the kill.
    @Test func aKillTheCgroupCountedIsAnOOMKill() throws {
        let plan = try Self.plan(["run", "-m", "800m", "img", "sh", "-c", "x"])
        var killed = Fake.Attempt(
            status: .exited(137), containerID: "c1",
            state: ContainerState.parse(inspectJSON: FailureFixture.text("run-killed.inspect.json")))
        #expect(killed.state?.oomKilled == false)
        killed.memory = Self.poolKill
        let fake = Fake(attempts: [killed, .exits(0)])
        #expect(Self.run(plan, fake) == 0)
        let first = try #require(fake.attemptRecords.first)
        #expect(first.failureClass == "oom_container")
        #expect(first.memory?.oomCause == .poolPressure)
        #expect(fake.dockerAttempts.count == 2)
        // Without the counter, a 137 stays any SIGKILL: not retried.
        var plain = killed
        plain.memory = AttemptMemory(pool: "/sbbench", peakBytes: 10 * Self.m, limitBytes: 800 * Self.m, oomKills: 0, containers: 1)
        let other = Fake(attempts: [plain])
        #expect(Self.run(plan, other) == 137)
        #expect(other.attemptRecords.first?.failureClass == "not_memory")
    }

    /// A retry whose admission is refused (it waited past wait_timeout under on_timeout: refuse) ends the command
    /// with the failed attempt's status.
    @Test func aRefusedReadmissionEndsWithTheFailure() throws {
        let plan = try Self.plan(["run", "-m", "800m", "img", "sh", "-c", "x"])
        let fake = Fake(attempts: [Self.oomKilled(Self.poolKill), .exits(0)])
        fake.admissions = [
            AdmissionResult(record: JournalAdmission(outcome: .admitted, requestBytes: 800 * Self.m)),
            AdmissionResult(record: JournalAdmission(outcome: .refusedTimeout, requestBytes: 800 * Self.m, message: "waited 30m")),
        ]
        #expect(Self.run(plan, fake) == 137)
        #expect(fake.dockerAttempts.count == 1)
        #expect(fake.console.last == .error("memory admission refused to start docker: waited 30m"))
        let invocation = try #require(fake.invocationRecords.first)
        #expect(invocation.outcome == .failed)
        #expect(invocation.failureClass == "oom_container")
        #expect(invocation.preflight?.last?.check == "admission")
    }
}
