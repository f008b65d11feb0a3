import Testing

@testable import SafebuildKit

/// Which commands read stdin, which stdout is an artifact, how each is kept for a retry, and whether an attempt can
/// be run again unchanged: pure functions of docker's argv, what safebuild's stdin and stdout are, and the policy.
/// Flags are read as docker's pflag reads them (docker/cli cli/command/container/opts.go `-i`/`--interactive`,
/// `-a`/`--attach`, `-d`/`--detach`; cli/command/image/build.go `-f`/`--file`, `-q`/`--quiet`, `-o`/`--output`).
@Suite struct StreamPlanTests {
    static func line(_ argv: [String]) -> DockerCommandLine { DockerCommandLine(argv) }

    @Test(arguments: [
        (["run", "-i", "img"], true),
        (["run", "-it", "img", "sh"], true),
        (["run", "-ti", "--rm", "img"], true),
        (["container", "run", "--interactive", "img"], true),
        (["run", "--interactive=true", "img"], true),
        (["run", "--interactive=false", "img"], false),
        (["run", "-i", "--interactive=false", "img"], false),
        (["run", "-a", "stdin", "img"], true),
        (["run", "--attach=STDIN", "img"], true),
        (["run", "-a", "stdout", "img"], false),
        (["run", "-d", "-i", "img"], false),
        (["run", "-di", "img"], false),
        (["run", "-i", "--detach=false", "img"], true),
        (["run", "img", "-i"], false),  // the container's argument
        (["run", "--rm", "img"], false),
        (["-H", "unix:///x.sock", "run", "-i", "img"], true),
        (["build", "-"], true),
        (["build", "-t", "app", "-"], true),
        (["build", "-f", "-", "."], true),
        (["build", "-f-", "."], true),
        (["build", "--file=-", "."], true),
        (["build", "--file", "-", "."], true),
        (["image", "build", "-"], true),
        (["buildx", "build", "-f", "-", "."], true),
        (["build", "."], false),
        (["build", "-f", "Dockerfile.ci", "."], false),
        (["build", "-t", "-x", "."], false),
    ] as [([String], Bool)])
    func readsStdin(_ row: ([String], Bool)) {
        #expect(StreamPlan.readsStdin(Self.line(row.0)) == row.1, "\(row.0)")
    }

    @Test(arguments: [
        (["run", "img"], true),
        (["run", "-d", "img"], true),  // the container's id
        (["build", "."], false),  // progress
        (["build", "-q", "."], true),
        (["build", "--quiet", "."], true),
        (["build", "--quiet=false", "."], false),
        (["build", "-o", "-", "."], true),
        (["build", "-o-", "."], true),
        (["build", "--output", "-", "."], true),
        (["build", "--output=type=tar,dest=-", "."], true),
        (["buildx", "build", "--output", "type=tar, dest=-", "."], true),
        (["build", "--output", "type=local,dest=out", "."], false),
        (["build", "-o", "out", "."], false),
    ] as [([String], Bool)])
    func stdoutIsArtifact(_ row: ([String], Bool)) {
        #expect(StreamPlan.stdoutIsArtifact(Self.line(row.0)) == row.1, "\(row.0)")
    }

    static let mib: UInt64 = 1 << 20

    static func decide(
        _ argv: [String], stdin: DescriptorKind, stdout: DescriptorKind, attempts: Int = 3, spool: UInt64 = 64 << 20,
        hold: UInt64 = 64 << 20
    ) -> StreamPlan {
        StreamPlan.decide(
            line(argv), stdin: stdin, stdout: stdout, maxAttempts: attempts, stdinSpool: spool, stdoutHold: hold)
    }

    @Test func decisions() {
        let terminalStdin = "stdin is a terminal: what docker read from it cannot be read again"
        // `cat in | safebuild run -i img … > out`: stdin spooled, stdout held.
        #expect(Self.decide(["run", "-i", "img"], stdin: .stream, stdout: .regularFile(offset: 0))
            == StreamPlan(stdin: .spooled(limit: 64 * Self.mib), stdout: .held(limit: 64 * Self.mib)))
        // `safebuild run -i img < in | tee out`: rewound; the pipe held.
        #expect(Self.decide(["run", "-i", "img"], stdin: .regularFile(offset: 12), stdout: .stream)
            == StreamPlan(stdin: .rewound(offset: 12), stdout: .held(limit: 64 * Self.mib)))
        // A file that cannot be repositioned is spooled like a pipe.
        #expect(Self.decide(["build", "-"], stdin: .regularFile(offset: nil), stdout: .stream).stdin
            == .spooled(limit: 64 * Self.mib))
        // `run -it` at a terminal: nothing can be replayed, so nothing is held either.
        #expect(Self.decide(["run", "-it", "img"], stdin: .terminal, stdout: .terminal)
            == StreamPlan(stdin: .unreplayable(terminalStdin), stdout: .terminal))
        #expect(Self.decide(["run", "-i", "img"], stdin: .terminal, stdout: .stream)
            == StreamPlan(stdin: .unreplayable(terminalStdin), stdout: .live))
        // A command that does not read stdin leaves it to docker, terminal or not.
        #expect(Self.decide(["run", "img"], stdin: .terminal, stdout: .terminal) == StreamPlan(stdin: .inherited, stdout: .terminal))
        #expect(Self.decide(["run", "-i", "img"], stdin: .null, stdout: .null) == StreamPlan(stdin: .inherited, stdout: .discarded))
        // One attempt: nothing kept, nothing held.
        #expect(Self.decide(["run", "-i", "img"], stdin: .stream, stdout: .stream, attempts: 1)
            == StreamPlan(stdin: .unreplayable("the policy allows one attempt, so stdin is not kept"), stdout: .live))
        #expect(Self.decide(["run", "img"], stdin: .stream, stdout: .stream, attempts: 1) == StreamPlan(stdin: .inherited, stdout: .live))
        // Limits of 0.
        #expect(Self.decide(["run", "img"], stdin: .stream, stdout: .stream, hold: 0) == StreamPlan(stdin: .inherited, stdout: .live))
        #expect(Self.decide(["run", "-i", "img"], stdin: .stream, stdout: .stream, spool: 0)
            == StreamPlan(stdin: .unreplayable("retry.stdin_spool is 0, so piped stdin is not kept"), stdout: .live))
        // Builds: progress is live; the image id and an output to stdout are held.
        #expect(Self.decide(["build", "."], stdin: .terminal, stdout: .regularFile(offset: 0)) == StreamPlan(stdin: .inherited, stdout: .progress))
        #expect(Self.decide(["build", "-q", "."], stdin: .stream, stdout: .stream) == StreamPlan(stdin: .inherited, stdout: .held(limit: 64 * Self.mib)))
        #expect(Self.decide(["build", "-o", "-", "-"], stdin: .stream, stdout: .stream, hold: 2 * Self.mib)
            == StreamPlan(stdin: .spooled(limit: 64 * Self.mib), stdout: .held(limit: 2 * Self.mib)))
    }

    @Test func separatorOnlyWhereStdoutWasShownLive() {
        #expect(StreamPlan(stdout: .terminal).stdoutIsLive)
        #expect(StreamPlan(stdout: .progress).stdoutIsLive)
        #expect(StreamPlan(stdout: .live).stdoutIsLive)
        #expect(!StreamPlan(stdout: .held(limit: 1)).stdoutIsLive)
        #expect(!StreamPlan(stdout: .discarded).stdoutIsLive)
    }

    // MARK: - After an attempt

    @Test func verdicts() {
        let spooled = StreamPlan(stdin: .spooled(limit: Self.mib), stdout: .held(limit: 2 * Self.mib))
        let fine = ReplayVerdict(plan: spooled, report: StreamReport(stdinBytes: 5000, stdoutBytes: 12))
        #expect(fine.retryable && fine.because == nil)
        #expect(fine.journal == JournalReplay(retryable: true, stdin: "spooled", stdinBytes: 5000, stdout: "held", stdoutBytes: 12))

        let tooMuchIn = ReplayVerdict(
            plan: spooled, report: StreamReport(stdinBytes: 30_000_000, stdinSpoolExceeded: true, stdoutBytes: 0))
        #expect(!tooMuchIn.retryable)
        #expect(tooMuchIn.because == "stdin was larger than retry.stdin_spool (1.0 MiB), so a retry would not read the same input")
        #expect(tooMuchIn.journal.stdin == "spool_exceeded")
        #expect(tooMuchIn.journal.stdinBytes == 30_000_000)

        let tooMuchOut = ReplayVerdict(plan: spooled, report: StreamReport(stdoutBytes: 3_000_000, stdoutHoldExceeded: true))
        #expect(tooMuchOut.because == "stdout was larger than retry.stdout_hold (2.0 MiB) and went out as it came, so a retry would write it twice")
        #expect(tooMuchOut.journal.stdout == "hold_exceeded")

        let live = StreamPlan(stdin: .inherited, stdout: .live)
        #expect(ReplayVerdict(plan: live, report: StreamReport(stdoutBytes: 0)).retryable)
        let wrote = ReplayVerdict(plan: live, report: StreamReport(stdoutBytes: 12))
        #expect(wrote.because == "the attempt wrote 12 B to stdout, which is not held back, so a retry would write it twice")
        #expect(wrote.journal == JournalReplay(retryable: false, stdin: "inherited", stdout: "live", stdoutBytes: 12, because: wrote.because))

        // A terminal's output is for a person: it stays live, and does not stop a retry.
        #expect(ReplayVerdict(plan: StreamPlan(stdin: .inherited, stdout: .terminal), report: StreamReport()).retryable)
        #expect(ReplayVerdict(plan: StreamPlan(stdin: .rewound(offset: 0), stdout: .progress), report: StreamReport(stdoutBytes: 900)).retryable)

        let terminal = ReplayVerdict(plan: StreamPlan(stdin: .unreplayable("stdin is a terminal"), stdout: .terminal), report: StreamReport())
        #expect(terminal.because == "stdin is a terminal")
        #expect(terminal.journal.stdin == "not_kept")

        let noSpool = ReplayVerdict(plan: spooled, report: StreamReport(problem: "cannot create a temporary file"))
        #expect(!noSpool.retryable && noSpool.because == "cannot create a temporary file")
    }
}
