import Glibc
import SafebuildTestSupport
import Testing

@testable import SafebuildKit

/// The attempt loop through the recording fake, where a retry depends on stdin and stdout: an attempt that cannot
/// be run again unchanged is not retried and its record says why; held stdout is released by the attempt that ends
/// the invocation and dropped before a retry; a separator marks a retry where stdout was live.
@Suite struct ReplayLoopTests {
    typealias Fake = RecordingSupervisionEffects

    static func host(stdin: DescriptorKind, stdout: DescriptorKind) -> HostFacts {
        var host = SupervisionPlanTests.host
        host.stdin = stdin
        host.stdout = stdout
        return host
    }

    static func plan(_ argv: [String], stdin: DescriptorKind, stdout: DescriptorKind, retry: [String] = []) throws
        -> SupervisionPlan
    {
        try SupervisionPlanTests.plan(
            argv, policy: AttemptLoopTests.policy(retry: ["raise_memory: {factor: 4, cap: 256m}"] + retry),
            host: host(stdin: stdin, stdout: stdout))
    }

    static let oomReason = "the container was killed by the OOM killer (State.OOMKilled=true)"

    static func oom(_ streams: StreamReport?) -> Fake.Attempt {
        var attempt = AttemptLoopTests.captured("run-oom")
        attempt.streams = streams
        return attempt
    }

    static func isHoldCall(_ call: Fake.Call) -> Bool {
        call == .releaseHeldOutput || call == .discardHeldOutput
    }

    /// `cat in30m | safebuild run -i -m 16m img …`, stdin past retry.stdin_spool: the OOM kill is not retried, exit
    /// 137 as docker gives, and the record says why; what stdout held is released.
    @Test func stdinPastTheSpoolIsNotRetried() throws {
        let plan = try Self.plan(
            ["run", "-i", "-m", "16m", "img", "sh", "-c", "x=$(cat)"], stdin: .stream, stdout: .regularFile(offset: 0),
            retry: ["stdin_spool: 1m"])
        #expect(plan.streams == StreamPlan(stdin: .spooled(limit: 1 << 20), stdout: .held(limit: 64 << 20)))
        let fake = Fake(attempts: [
            Self.oom(StreamReport(stdinBytes: 30_000_000, stdinSpoolExceeded: true, stdoutBytes: 0)), .exits(0),
        ])
        #expect(AttemptLoopTests.run(plan, fake) == 137)
        #expect(fake.dockerAttempts.count == 1)
        let why = "oom_container: stdin was larger than retry.stdin_spool (1.0 MiB), so a retry would not read the same input"
        #expect(fake.console == [.say("attempt 1/3 failed: \(Self.oomReason); giving up: \(why)")])
        let record = try #require(fake.attemptRecords.first)
        #expect(record.decision == "give up: " + why)
        #expect(record.replay == JournalReplay(
            retryable: false, stdin: "spool_exceeded", stdinBytes: 30_000_000, stdout: "held", stdoutBytes: 0,
            because: "stdin was larger than retry.stdin_spool (1.0 MiB), so a retry would not read the same input"))
        // No remedy for a retry that will not happen, and the held output goes out.
        #expect(record.remedies.isEmpty)
        #expect(fake.effects.filter(Self.isHoldCall) == [.releaseHeldOutput])
        #expect(fake.invocationRecords.first?.outcome == .failed)
    }

    /// Within the spool: retried with the raised limit; the retry replays stdin, the failed attempt's held stdout is
    /// dropped just before it starts, and only the last attempt's is released.
    @Test func spooledStdinAndHeldStdoutAreReplayedAndReleasedOnce() throws {
        let plan = try Self.plan(
            ["run", "-i", "-m", "16m", "img", "sh", "-c", "x=$(cat)"], stdin: .stream, stdout: .stream)
        let fake = Fake(attempts: [
            Self.oom(StreamReport(stdinBytes: 30_000_000, stdoutBytes: 6)),
            Fake.Attempt(status: .exited(0), stdout: ["30000000"], streams: StreamReport(stdinBytes: 30_000_000, stdoutBytes: 9)),
        ])
        #expect(AttemptLoopTests.run(plan, fake) == 0)
        #expect(fake.dockerAttempts.map(\.replay) == [false, true])
        #expect(fake.dockerAttempts.allSatisfy { $0.streams == plan.streams })
        let calls = fake.effects.filter { call in
            switch call {
            case .runDocker, .sleep, .releaseHeldOutput, .discardHeldOutput, .appendAttempt: return true
            default: return false
            }
        }
        #expect(calls == [
            .runDocker(fake.dockerAttempts[0].arguments), .appendAttempt(1, decision: "retry in 2s"), .sleep(2),
            .discardHeldOutput, .runDocker(fake.dockerAttempts[1].arguments), .releaseHeldOutput,
            .appendAttempt(2, decision: "succeeded"),
        ])
        // Held output: no separator.
        #expect(fake.console == [
            .say("attempt 1/3 failed: \(Self.oomReason); raised the memory limit from 16m to 64m; retrying in 2 s"),
            .say("attempt 2/3 succeeded after 1 failed"),
        ])
        #expect(fake.attemptRecords.map { $0.replay?.retryable } == [true, true])
        #expect(fake.attemptRecords.first?.replay?.stdin == "spooled")
        #expect(fake.invocationRecords.first?.outcome == .succeededAfterRetry)
    }

    /// `run -i` at a terminal: what docker read is gone, so an OOM kill is not retried.
    @Test func aTerminalStdinIsNotRetried() throws {
        let plan = try Self.plan(["run", "-it", "-m", "16m", "img", "sh"], stdin: .terminal, stdout: .terminal)
        let fake = Fake(attempts: [Self.oom(nil), .exits(0)])
        #expect(AttemptLoopTests.run(plan, fake) == 137)
        #expect(fake.dockerAttempts.count == 1)
        let record = try #require(fake.attemptRecords.first)
        #expect(record.decision == "give up: oom_container: stdin is a terminal: what docker read from it cannot be read again")
        #expect(record.replay?.stdin == "not_kept")
        #expect(record.replay?.stdout == "terminal")
        #expect(record.replay?.stdoutBytes == nil)
        #expect(!fake.effects.contains(where: Self.isHoldCall))
    }

    /// retry.stdout_hold 0: an attempt that wrote to stdout is not retried; one that wrote nothing is.
    @Test func liveStdoutStopsARetryOnlyOnceWritten() throws {
        let plan = try Self.plan(
            ["run", "-m", "16m", "img", "sh", "-c", "echo line 1; x=…"], stdin: .terminal, stdout: .regularFile(offset: 0),
            retry: ["stdout_hold: 0"])
        #expect(plan.streams == StreamPlan(stdin: .inherited, stdout: .live))
        let wrote = Fake(attempts: [Self.oom(StreamReport(stdoutBytes: 7)), .exits(0)])
        #expect(AttemptLoopTests.run(plan, wrote) == 137)
        #expect(wrote.attemptRecords.first?.decision
            == "give up: oom_container: the attempt wrote 7 B to stdout, which is not held back, so a retry would write it twice")

        let silent = Fake(attempts: [Self.oom(StreamReport(stdoutBytes: 0)), .exits(0)])
        #expect(AttemptLoopTests.run(plan, silent) == 0)
        #expect(silent.dockerAttempts.count == 2)
        // stdout was live: the retry's output follows a separator.
        #expect(silent.console == [
            .say("attempt 1/3 failed: \(Self.oomReason); raised the memory limit from 16m to 64m; retrying in 2 s"),
            .say("---- attempt 2/3 ----"),
            .say("attempt 2/3 succeeded after 1 failed"),
        ])
    }

    /// A classic build's progress on stdout stays live and is retried; the separator comes right before the retry.
    @Test func aBuildsProgressIsLiveWithASeparator() throws {
        let plan = try Self.plan(["build", "-m", "16m", "."], stdin: .terminal, stdout: .stream)
        #expect(plan.streams == StreamPlan(stdin: .inherited, stdout: .progress))
        let fake = Fake(attempts: [AttemptLoopTests.captured("build-classic-oom"), .exits(0)])
        #expect(AttemptLoopTests.run(plan, fake) == 0)
        let separator = try #require(fake.calls.firstIndex(of: .console(.say("---- attempt 2/3 ----"))))
        // After the backoff and the retry's admission, right before the retry's docker.
        #expect(fake.calls[separator - 2] == .sleep(2))
        #expect(fake.calls[separator - 1] == .admit(64 << 20, retry: true))
        #expect(fake.calls[separator + 1] == .runDocker(fake.dockerAttempts[1].arguments))
        #expect(fake.attemptRecords.first?.replay == JournalReplay(
            retryable: true, stdin: "inherited", stdout: "progress",
            stdoutBytes: Int64(FailureFixture.text("build-classic-oom.stdout").utf8.count)))
    }

    /// A signal during the backoff: the failed attempt is the last, so its held output is released, not dropped.
    @Test func heldOutputIsReleasedWhenTheWaitIsInterrupted() throws {
        let plan = try Self.plan(["run", "-m", "16m", "img", "sh"], stdin: .null, stdout: .stream)
        let fake = Fake(attempts: [Self.oom(StreamReport(stdoutBytes: 10)), .exits(0)])
        fake.sleepSignals = [SIGTERM]
        #expect(AttemptLoopTests.run(plan, fake) == 128 + SIGTERM)
        #expect(fake.effects.filter(Self.isHoldCall) == [.releaseHeldOutput])
        #expect(fake.invocationRecords.first?.outcome == .aborted)
    }
}
