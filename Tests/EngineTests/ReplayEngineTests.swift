import Glibc
import SafebuildTestSupport
import Testing

@testable import SafebuildKit

/// Retries that never change what a job reads or writes, against the real engine with real OOM kills: a retry reads
/// the same stdin, stdout holds exactly one attempt's output, and what cannot be replayed is not retried, with the
/// status docker gives; docker dies with a SIGKILLed safebuild; a Dockerfile or .dockerignore that is not a regular
/// file leaves the probe at once and docker gives its own error.
extension EngineSuites {
@Suite(.serialized) struct ReplayEngineTests {
    let engine: TestEngine
    /// The binary under test, installed under a temporary prefix: the policies below are its host policy (their
    /// retry bounds and remedy settings are host-only keys).
    let installed: InstalledSafebuild
    var safebuild: String { installed.binary }
    let dir: TemporaryDirectory

    /// Holds a 40 MB string: killed under -m 16m and 64m, fine under 256m (RetryEngineTests measured it).
    static let hog = "x=$(head -c 40000000 /dev/zero | tr \"\\0\" a); echo ${#x}"
    /// Reads all of stdin into memory (killed under 16m while reading 30 MB), then prints its length and checksum.
    static let reader = "x=$(cat); echo ${#x}; printf %s \"$x\" | sha256sum"

    init() throws {
        engine = try TestEngine.current()
        installed = try InstalledSafebuild()
        dir = try TemporaryDirectory()
    }

    // MARK: - Helpers

    /// No pre-flight, no memory defaults, a short backoff, raise_memory ×4 up to 256m; `retry` adds keys.
    func policy(_ retry: [String] = []) throws -> String {
        let text = """
            version: 1
            run: {memory: unlimited}
            build: {memory: unlimited}
            preflight: {min_available: off, max_pressure: off, max_build_cache: off, min_free_disk: off, min_free_blocks: off}
            retry:
              backoff: {initial: 0.1, max: 0.1, jitter: 0}
              raise_memory: {factor: 4, cap: 256m}
              cooldown: 0
            \(retry.map { "  \($0)\n" }.joined())remedies:
              lock_dir: \(dir.path)/locks

            """
        return try dir.write("policy-\(UInt32.random(in: 0...UInt32.max)).yml", Array(text.utf8))
    }

    func environment(policy: String, journal: String) throws -> [String: String] {
        try installed.useAsHostPolicy(policy, journal: journal)
        return engine.environment(["SAFEBUILD_JOURNAL": journal])
    }

    func newJournal() -> String { dir.path + "/journal-\(UInt32.random(in: 0...UInt32.max)).jsonl" }

    /// 30,000,000 bytes of text lines, not ending in a newline (the container's `$(cat)` keeps it all), and its
    /// sha256sum line as the container prints it.
    static func input() throws -> (bytes: [UInt8], checksum: String) {
        var text = ""
        text.reserveCapacity(30_000_100)
        var n = 0
        while text.utf8.count < 30_000_000 {
            text += "line \(n) of the input, abcdefghijklmnopqrstuvwxyz\n"
            n += 1
        }
        var bytes = Array(text.utf8.prefix(30_000_000))
        if bytes.last == 0x0A { bytes[bytes.count - 1] = 0x2E }
        let file = try TemporaryDirectory()
        let path = try file.write("in", bytes)
        let sum = try Command("/usr/bin/sha256sum", [path]).run().stdout
        return (bytes, String(sum.prefix(64)) + "  -\n")
    }

    /// Runs `script` with /bin/sh, arguments after it as $1…, in this test's environment.
    func shell(_ script: String, _ arguments: [String], environment: [String: String], timeout: Double = 180) throws
        -> ProcessResult
    {
        try ProcessRunner.run("/bin/sh", ["-c", script, "sh"] + arguments, environment: environment, timeout: timeout)
    }

    /// The pid of `parent`'s child named `name` (from /proc/PID/stat), if there is one.
    static func child(of parent: pid_t, named name: String) -> pid_t? {
        guard let proc = opendir("/proc") else { return nil }
        defer { closedir(proc) }
        while let entry = readdir(proc) {
            let entryName = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let pid = pid_t(entryName), let stat = stat(of: pid) else { continue }
            if stat.ppid == parent && stat.name == name && stat.state != "Z" { return pid }
        }
        return nil
    }

    /// Name, state and parent of `pid` from /proc/PID/stat.
    static func stat(of pid: pid_t) -> (name: String, state: Character, ppid: pid_t)? {
        let fd = open("/proc/\(pid)/stat", O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 1024)
        let n = read(fd, &buffer, buffer.count)
        guard n > 0 else { return nil }
        let text = String(decoding: buffer[..<n], as: UTF8.self)
        guard let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 2, let state = fields[0].first, let ppid = pid_t(fields[1]) else { return nil }
        return (String(text[text.index(after: open)..<close]), state, ppid)
    }

    /// Whether `pid` runs (not gone, not a zombie waiting to be reaped).
    static func running(_ pid: pid_t) -> Bool {
        guard let s = stat(of: pid) else { return false }
        return s.state != "Z"
    }

    /// `/usr/bin/time -f maxrss=%M` around a command: its result and its peak resident set in KiB.
    func timed(_ arguments: [String], environment: [String: String]) throws -> (ProcessResult, Int, Double) {
        let start = Clock.now()
        let result = try ProcessRunner.run("/usr/bin/time", ["-f", "maxrss=%M"] + arguments, environment: environment, timeout: 20)
        let seconds = Clock.now() - start
        let last = result.stderrText.split(separator: "\n").last.map(String.init) ?? ""
        let rss = last.hasPrefix("maxrss=") ? Int(last.dropFirst(7)) ?? -1 : -1
        return (result, rss, seconds)
    }

    /// docker's own lines on stderr (without safebuild's, /usr/bin/time's, and the legacy builder's notice).
    static func dockerLines(_ stderr: String) -> [String] {
        stderr.split(separator: "\n").map(String.init).filter {
            !$0.hasPrefix("safebuild:") && !$0.hasPrefix("maxrss=") && !$0.hasPrefix("Command exited with")
        }
    }

    static func expectRetriedOOMs(_ attempts: [AttemptRecord], _ failureClass: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(attempts.count >= 2, sourceLocation: sourceLocation)
        #expect(attempts.dropLast().allSatisfy { $0.failureClass == failureClass }, "\(attempts.map(\.failureClass))", sourceLocation: sourceLocation)
        #expect(attempts.last?.decision == "succeeded", sourceLocation: sourceLocation)
    }

    // MARK: - stdin

    /// `cat in30m | safebuild run -i -m 16m …`: the first attempt is OOM-killed while reading (16 MiB of it, say),
    /// the retry reads the same 30,000,000 bytes from the spool and the rest of the pipe, and stdout holds only the
    /// last attempt's output.
    @Test func pipedStdinIsReplayedToTheRetry() throws {
        let input = try Self.input()
        let file = try dir.write("in30m", input.bytes)
        let journal = newJournal()
        let result = try shell(
            "cat \"$1\" | \"$2\" run -i --rm -m 16m --network=none \"$3\" sh -c \"$4\"",
            [file, safebuild, engine.image, Self.reader], environment: try environment(policy: try policy(), journal: journal))
        #expect(result.code == 0, "\(result.stderrText)")
        #expect(result.stdoutText == "30000000\n" + input.checksum)
        let attempts = try JournalReader.read(path: journal).attempts
        Self.expectRetriedOOMs(attempts, "oom_container")
        #expect(attempts.allSatisfy { $0.replay?.stdin == "spooled" && $0.replay?.retryable == true })
        #expect((attempts.first?.replay?.stdinBytes ?? 0) > 0)
        #expect(attempts.last?.replay?.stdinBytes == 30_000_000)
        #expect(result.stderrText.contains("attempt 1/3 failed: the container was killed by the OOM killer"))
    }

    /// `safebuild run -i … < in30m`: a regular file is rewound to where it was before the first attempt.
    @Test func fileStdinIsRewoundForTheRetry() throws {
        let input = try Self.input()
        let journal = newJournal()
        let result = try ProcessRunner.run(
            safebuild, ["run", "-i", "--rm", "-m", "16m", "--network=none", engine.image, "sh", "-c", Self.reader],
            environment: try environment(policy: try policy(), journal: journal), stdin: input.bytes, timeout: 180)
        #expect(result.code == 0, "\(result.stderrText)")
        #expect(result.stdoutText == "30000000\n" + input.checksum)
        let attempts = try JournalReader.read(path: journal).attempts
        Self.expectRetriedOOMs(attempts, "oom_container")
        #expect(attempts.allSatisfy { $0.replay?.stdin == "rewound" })
    }

    /// Past retry.stdin_spool (1 MiB here) the OOM kill is not retried: exit 137 and no output, as docker gives, and
    /// the journal says why.
    @Test func pipedStdinPastTheSpoolIsNotRetried() throws {
        let input = try Self.input()
        let file = try dir.write("in30m", input.bytes)
        let journal = newJournal()
        let script = "cat \"$1\" | \"$2\" run -i --rm -m 16m --network=none \"$3\" sh -c \"$4\""
        let result = try shell(
            script, [file, safebuild, engine.image, Self.reader],
            environment: try environment(policy: try policy(["stdin_spool: 1m"]), journal: journal))
        let docker = try shell(script, [file, engine.docker, engine.image, Self.reader], environment: engine.environment())
        #expect(docker.code == 137)
        #expect(result.code == docker.code, "\(result.stderrText)")
        #expect(result.stdout == docker.stdout)
        let attempts = try JournalReader.read(path: journal).attempts
        #expect(attempts.count == 1)
        let why = "stdin was larger than retry.stdin_spool (1.0 MiB), so a retry would not read the same input"
        #expect(attempts.first?.decision == "give up: oom_container: " + why)
        #expect(attempts.first?.replay?.because == why)
        #expect(attempts.first?.replay?.stdin == "spool_exceeded")
        #expect(result.stderrText.contains("giving up: oom_container: " + why), "\(result.stderrText)")
    }

    /// `safebuild build -q -m 16m - < Dockerfile` from a pipe: the RUN step is OOM-killed, and each retry reads the
    /// same Dockerfile (its label reaches the image) with the raised limit.
    @Test func dockerfileFromStdinIsReplayedToTheRetry() throws {
        let nonce = String(UInt64.random(in: 0...UInt64.max), radix: 36)
        let dockerfile = try dir.write(
            "Dockerfile-\(nonce)", Array("FROM \(engine.image)\nLABEL safebuild.nonce=\(nonce)\nRUN \(Self.hog)\n".utf8))
        let journal = newJournal()
        let result = try shell(
            "cat \"$1\" | \"$2\" build -q -m 16m --network=none -", [dockerfile, safebuild],
            environment: try environment(policy: try policy(), journal: journal))
        #expect(result.code == 0, "\(result.stderrText)")
        let id = result.stdoutText.trimmingWhitespace()
        defer { _ = try? engine.dockerRun(["rmi", id]) }
        #expect(result.stdoutText.hasPrefix("sha256:") && result.stdoutText.filter { $0 == "\n" }.count == 1)
        let label = try engine.dockerRun(["inspect", "--format", "{{index .Config.Labels \"safebuild.nonce\"}}", id])
        #expect(label.stdoutText == nonce + "\n")
        let attempts = try JournalReader.read(path: journal).attempts
        Self.expectRetriedOOMs(attempts, "oom_build_step")
        let size = Int64(FileIdentity(path: dockerfile)?.size ?? 0)
        #expect(attempts.allSatisfy { $0.replay?.stdin == "spooled" && $0.replay?.stdinBytes == size })
    }

    /// `safebuild run -it` at a terminal: what docker read from the terminal is gone, so the OOM kill is not retried.
    @Test func aTerminalStdinIsNotRetried() throws {
        let journal = newJournal()
        let result = try ProcessRunner.runUnderTerminal(
            [safebuild, "run", "-i", "--rm", "-m", "16m", "--network=none", engine.image, "sh", "-c", Self.hog],
            environment: try environment(policy: try policy(), journal: journal), timeout: 120)
        #expect(result.code == 137, "\(result.stdoutText)")
        let attempts = try JournalReader.read(path: journal).attempts
        #expect(attempts.count == 1)
        #expect(attempts.first?.decision
            == "give up: oom_container: stdin is a terminal: what docker read from it cannot be read again")
    }

    // MARK: - stdout

    static let twoLines = "echo line 1; \(hog); echo line 2"

    /// A run that writes, is OOM-killed, and is retried with stdout to a file: the file holds exactly the last
    /// attempt's output (without safebuild: `line 1`, `line 1`, `line 1`, `40000000`, `line 2`).
    @Test func heldStdoutInAFileHoldsOneAttempt() throws {
        let journal = newJournal()
        let result = try ProcessRunner.run(
            safebuild, ["run", "--rm", "-m", "16m", "--network=none", engine.image, "sh", "-c", Self.twoLines],
            environment: try environment(policy: try policy(), journal: journal), timeout: 120)
        #expect(result.code == 0, "\(result.stderrText)")
        #expect(result.stdoutText == "line 1\n40000000\nline 2\n")
        let attempts = try JournalReader.read(path: journal).attempts
        #expect(attempts.count == 3)
        Self.expectRetriedOOMs(attempts, "oom_container")
        #expect(attempts.map { $0.replay?.stdoutBytes } == [7, 7, 23])
        #expect(attempts.allSatisfy { $0.replay?.stdout == "held" })
        #expect(!result.stderrText.contains("----"))
    }

    /// The same with stdout to a pipe.
    @Test func heldStdoutInAPipeHoldsOneAttempt() throws {
        let out = dir.path + "/out-\(UInt32.random(in: 0...UInt32.max))"
        let journal = newJournal()
        let result = try shell(
            "{ \"$1\" run --rm -m 16m --network=none \"$2\" sh -c \"$3\"; echo $? > \"$4.status\"; } | cat > \"$4\"",
            [safebuild, engine.image, Self.twoLines, out], environment: try environment(policy: try policy(), journal: journal))
        #expect(result.code == 0)
        #expect(readText(out + ".status") == "0\n", "\(result.stderrText)")
        #expect(readText(out) == "line 1\n40000000\nline 2\n")
        let attempts = try JournalReader.read(path: journal).attempts
        Self.expectRetriedOOMs(attempts, "oom_container")
        #expect(attempts.first?.replay?.stdout == "held")
    }

    /// Past retry.stdout_hold (1 KiB here) what was held goes out, the rest follows live, and the OOM kill is not
    /// retried: the output complete once and exit 137, byte for byte as docker gives.
    @Test func stdoutPastTheHoldIsNotRetried() throws {
        let script = "head -c 10000 /dev/zero | tr \"\\0\" b; echo; \(Self.hog)"
        let arguments = ["run", "--rm", "-m", "16m", "--network=none", engine.image, "sh", "-c", script]
        let journal = newJournal()
        let result = try ProcessRunner.run(
            safebuild, arguments, environment: try environment(policy: try policy(["stdout_hold: 1k"]), journal: journal),
            timeout: 120)
        let docker = try engine.dockerRun(arguments)
        #expect(docker.code == 137)
        #expect(result.code == 137, "\(result.stderrText)")
        #expect(result.stdout == docker.stdout)
        #expect(result.stdout.count == 10_001)
        let attempts = try JournalReader.read(path: journal).attempts
        #expect(attempts.count == 1)
        let why = "stdout was larger than retry.stdout_hold (1.0 KiB) and went out as it came, so a retry would write it twice"
        #expect(attempts.first?.decision == "give up: oom_container: " + why)
        #expect(attempts.first?.replay?.stdout == "hold_exceeded")
        #expect(attempts.first?.replay?.stdoutBytes == 10_001)
    }

    /// stdout at a terminal stays docker's and live: each attempt's output is shown, and a separator on stderr
    /// marks where the retry's begins.
    @Test func aTerminalStdoutIsLiveWithASeparator() throws {
        let journal = newJournal()
        let result = try ProcessRunner.runUnderTerminal(
            [safebuild, "run", "--rm", "-m", "16m", "--network=none", engine.image, "sh", "-c", Self.twoLines],
            environment: try environment(policy: try policy(), journal: journal), timeout: 120)
        #expect(result.code == 0, "\(result.stdoutText)")
        let lines = result.stdoutText.split(separator: "\r\n").map(String.init)
        let shown = lines.filter { $0.hasPrefix("line ") || $0.hasPrefix("safebuild: ---- ") || $0 == "40000000" }
        #expect(shown == [
            "line 1", "safebuild: ---- attempt 2/3 ----", "line 1", "safebuild: ---- attempt 3/3 ----", "line 1",
            "40000000", "line 2",
        ], "\(lines)")
        let attempts = try JournalReader.read(path: journal).attempts
        #expect(attempts.map { $0.replay?.stdout } == ["terminal", "terminal", "terminal"])
    }

    // MARK: - No orphans

    /// SIGKILL of safebuild while docker runs: docker (the CLI) is gone within 1 s, as it would be with its shell.
    @Test(arguments: ["build", "run"])
    func sigkillOfSafebuildTakesDockerWithIt(command: String) throws {
        let name = TestEngine.uniqueName("sb-orphan")
        let arguments: [String]
        if command == "build" {
            let ctx = try dir.directory("ctx-\(name)")
            try dir.write("ctx-\(name)/Dockerfile", Array("FROM \(engine.image)\nRUN echo started >&2; sleep 60\n".utf8))
            try dir.write("ctx-\(name)/.dockerignore", Array("\n".utf8))
            arguments = ["build", "--no-cache", "--network=none", ctx]
        } else {
            arguments = ["run", "--rm", "--name", name, "--network=none", engine.image, "sh", "-c", "echo started >&2; sleep 60"]
        }
        defer { _ = try? engine.dockerRun(["rm", "-f", name]) }
        let process = try ProcessRunner.Started(
            safebuild, arguments, environment: try environment(policy: try policy(), journal: newJournal()))
        // The classic builder prints a step's output on its stdout (progress); a run's stdout is held, its stderr is not.
        let started = ProcessRunner.waitUntil(timeout: 90) {
            process.stdoutSoFar.contains("started") || process.stderrSoFar.contains("started") || process.hasExited
        }
        try #require(started && !process.hasExited, "\(process.stderrSoFar)")
        let docker = try #require(Self.child(of: process.pid, named: "docker"))
        process.send(SIGKILL)
        _ = process.wait(timeout: 5)
        let killed = Clock.now()
        let gone = ProcessRunner.waitUntil(timeout: 1) { !Self.running(docker) }
        #expect(gone, "docker \(docker) outlived safebuild")
        #expect(Clock.now() - killed <= 1.05)
        if !gone { kill(docker, SIGKILL) }
    }

    // MARK: - Files a repository controls

    /// A Dockerfile that is a symlink to /dev/zero: safebuild's probe gives up at once, and the command ends as
    /// docker's does (its own error, its status) within 1 s, in bounded memory.
    @Test func aDockerfileOnDevZeroIsDockersError() throws {
        let ctx = try dir.directory("zero-\(UInt32.random(in: 0...UInt32.max))")
        try dir.symlink(String(ctx.split(separator: "/").last!) + "/Dockerfile", to: "/dev/zero")
        try dir.write(String(ctx.split(separator: "/").last!) + "/.dockerignore", Array("\n".utf8))
        try expectDockersOwnError(["build", ctx], warning: "cannot read \(ctx)/Dockerfile: it is a device, not a regular file")
    }

    /// The same for a .dockerignore on /dev/zero (docker: `Error reading .dockerignore: bufio.Scanner: token too long`).
    @Test func aDockerignoreOnDevZeroIsDockersError() throws {
        let ctx = try dir.directory("zeroignore-\(UInt32.random(in: 0...UInt32.max))")
        let base = String(ctx.split(separator: "/").last!)
        try dir.write(base + "/Dockerfile", Array("FROM \(engine.image)\n".utf8))
        try dir.symlink(base + "/.dockerignore", to: "/dev/zero")
        try expectDockersOwnError(["build", ctx], warning: "cannot read \(ctx)/.dockerignore: it is a device, not a regular file")
    }

    func expectDockersOwnError(_ arguments: [String], warning: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let (docker, dockerRSS, _) = try timed([engine.docker] + arguments, environment: engine.environment())
        let (result, rss, seconds) = try timed(
            [safebuild] + arguments, environment: try environment(policy: try policy(), journal: newJournal()))
        #expect(docker.code != 0, sourceLocation: sourceLocation)
        #expect(result.code == docker.code, "\(result.stderrText)", sourceLocation: sourceLocation)
        #expect(Self.dockerLines(result.stderrText) == Self.dockerLines(docker.stderrText), sourceLocation: sourceLocation)
        #expect(result.stdout == docker.stdout, sourceLocation: sourceLocation)
        #expect(result.stderrText.contains("safebuild: warning: " + warning), "\(result.stderrText)", sourceLocation: sourceLocation)
        #expect(seconds < 1, sourceLocation: sourceLocation)
        // The peak of safebuild and the docker it waited for, against docker's alone (about 40 MB here).
        #expect(rss > 0 && rss < dockerRSS + 64 * 1024, "safebuild \(rss) KiB, docker \(dockerRSS) KiB", sourceLocation: sourceLocation)
    }

    /// `-f FIFO`: the probe neither waits on the FIFO nor reads it (a reader would take the bytes meant for docker);
    /// docker has it open within 1 s of the start and builds what is written into it.
    @Test func aFIFODockerfileIsLeftToDocker() throws {
        let fifo = dir.path + "/fifo-\(UInt32.random(in: 0...UInt32.max))"
        #expect(mkfifo(fifo, 0o600) == 0)
        let ctx = try dir.directory("fifoctx-\(UInt32.random(in: 0...UInt32.max))")
        let start = Clock.now()
        let process = try ProcessRunner.Started(
            safebuild, ["build", "-q", "--network=none", "-f", fifo, ctx],
            environment: try environment(policy: try policy(), journal: newJournal()))
        // A writer can open the FIFO once a reader is there (docker, blocked in its open, or the probe for an
        // instant); what it writes stays in the pipe while the writer holds it open.
        var writer: Int32 = -1
        _ = ProcessRunner.waitUntil(timeout: 10) {
            writer = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
            return writer >= 0
        }
        try #require(writer >= 0, "nobody opened the FIFO: \(process.stderrSoFar)")
        let text = Array("FROM \(engine.image)\nLABEL safebuild.fifo=1\n".utf8)
        #expect(text.withUnsafeBytes { write(writer, $0.baseAddress, $0.count) } == text.count)
        let opened = ProcessRunner.waitUntil(timeout: 10) {
            Self.child(of: process.pid, named: "docker").map { Self.openFiles(of: $0).contains(fifo) } ?? false
        }
        let seconds = Clock.now() - start
        close(writer)
        try #require(opened, "docker did not open the FIFO: \(process.stderrSoFar)")
        #expect(seconds < 1)
        let result = process.wait(timeout: 60)
        defer { _ = try? engine.dockerRun(["rmi", result.stdoutText.trimmingWhitespace()]) }
        #expect(result.code == 0, "\(result.stderrText)")
        #expect(result.stdoutText.hasPrefix("sha256:"))
        #expect(result.stderrText.contains("safebuild: warning: cannot read \(fifo): it is a FIFO, not a regular file"))
    }

    /// The paths `pid` has open (readlink of /proc/PID/fd/*).
    static func openFiles(of pid: pid_t) -> [String] {
        guard let fds = opendir("/proc/\(pid)/fd") else { return [] }
        defer { closedir(fds) }
        var paths: [String] = []
        while let entry = readdir(fds) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            var buffer = [CChar](repeating: 0, count: 4096)
            let n = readlink("/proc/\(pid)/fd/\(name)", &buffer, buffer.count - 1)
            if n > 0 { paths.append(String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)) }
        }
        return paths
    }
}
}

/// The text of the file at `path` ("" when it cannot be read).
private func readText(_ path: String) -> String {
    (try? BoundedFile.read(path, limit: 1 << 20).get()).map { String(decoding: $0, as: UTF8.self) } ?? ""
}
