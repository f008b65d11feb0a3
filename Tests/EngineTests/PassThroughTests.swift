import Glibc
import SafebuildTestSupport
import Testing
@testable import SafebuildKit

/// safebuild in front of a real Docker engine (Scripts/engine.sh): everything it does not protect behaves exactly as
/// docker, and the protected `run` keeps docker's streams, terminal, signals and exit status.
/// Containers run with `--network=none`: nothing here needs a network, and the engine may run without a bridge of its
/// own (beside another daemon, `--bridge=none`).
extension EngineSuites {
@Suite(.serialized) struct PassThroughTests {
    let engine: TestEngine
    let safebuild: String

    init() throws {
        engine = try TestEngine.current()
        safebuild = try SafebuildBinary.path()
    }

    func sb(_ arguments: [String], stdin: [UInt8]? = nil, env: [String: String] = [:], timeout: Double = 60) throws
        -> ProcessResult
    {
        try ProcessRunner.run(safebuild, arguments, environment: engine.environment(env), stdin: stdin, timeout: timeout)
    }

    /// safebuild's output equals docker's, run just before or just after (the engine is shared: a container may come
    /// or go, a CREATED column may tick over between two calls).
    func expectSameAsDocker(_ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let before = try engine.dockerRun(arguments)
        let ours = try sb(arguments)
        let after = try engine.dockerRun(arguments)
        #expect(ours.code == before.code, sourceLocation: sourceLocation)
        #expect(!ours.stdout.isEmpty, sourceLocation: sourceLocation)
        // docker itself lists images created in the same second in no fixed order: compare the lines as a set.
        func lines(_ bytes: [UInt8]) -> [String] { String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init).sorted() }
        #expect(lines(ours.stdout) == lines(before.stdout) || lines(ours.stdout) == lines(after.stdout),
            "safebuild \(arguments) printed:\n\(ours.stdoutText)\ndocker printed:\n\(after.stdoutText)",
            sourceLocation: sourceLocation)
        #expect(ours.stderr == before.stderr || ours.stderr == after.stderr, sourceLocation: sourceLocation)
    }

    // MARK: - Pass-through prints what docker prints

    @Test(arguments: [["ps"], ["ps", "-a"], ["images"], ["image", "ls"], ["version"], ["info", "--format", "{{.Driver}}"]])
    func passThroughPrintsWhatDockerPrints(_ arguments: [String]) throws {
        try expectSameAsDocker(arguments)
    }

    // MARK: - Exit statuses

    /// A container's exit status comes back unchanged through the protected `run`.
    @Test(arguments: [0, 1, 2, 125, 126, 127, 137, 255] as [Int32])
    func containerExitStatusComesBack(_ n: Int32) throws {
        let result = try sb(["run", "--network=none", "--rm", engine.image, "sh", "-c", "exit \(n)"])
        #expect(result.code == n)
    }

    /// docker's own statuses, the same as docker itself gives: 125 for docker's errors, 126 for a command that cannot
    /// be run, 127 for one that does not exist, 137 for a process killed with SIGKILL, 1 for an unknown command.
    @Test(arguments: [
        (["--badflag"], 125),
        (["ps", "--badflag"], 125),
        (["nosuchcommand"], 1),
        (["run", "--network=none", "--badflag", "IMAGE"], 125),
        (["run", "--network=none", "--rm", "IMAGE", "/nonexistent"], 127),
        (["run", "--network=none", "--rm", "IMAGE", "/etc/passwd"], 126),
        (["run", "--network=none", "--rm", "IMAGE", "sh", "-c", "sleep 5 & kill -9 $!; wait $!"], 137),
        (["run", "--network=none", "--rm", "IMAGE", "false"], 1),
        (["inspect", "no-such-container-safebuild"], 1),
    ] as [([String], Int32)])
    func dockersOwnExitStatusComesBack(_ given: [String], _ expected: Int32) throws {
        let arguments = given.map { $0 == "IMAGE" ? engine.image : $0 }
        let docker = try engine.dockerRun(arguments)
        let ours = try sb(arguments)
        #expect(docker.code == expected, "docker itself: \(docker.stderrText)")
        #expect(ours.code == expected, "\(ours.stderrText)")
        #expect(ours.stdout == docker.stdout)
    }

    // MARK: - stdin, terminal

    @Test func stdinReachesTheContainer() throws {
        let result = try sb(["run", "--network=none", "-i", "--rm", engine.image, "cat"], stdin: Array("hi\n".utf8))
        #expect(result.stdoutText == "hi\n")
        #expect(result.code == 0)
    }

    @Test func largeStdinReachesTheContainerWhole() throws {
        let input = [UInt8](repeating: 0x78, count: 3 << 20)
        let result = try sb(["run", "--network=none", "-i", "--rm", engine.image, "wc", "-c"], stdin: input)
        #expect(result.stdoutText.trimmingWhitespace() == "\(3 << 20)")
    }

    @Test func runWithTGetsATerminal() throws {
        let result = try ProcessRunner.runUnderTerminal(
            [safebuild, "run", "--network=none", "-t", "--rm", engine.image, "tty"], environment: engine.environment())
        #expect(result.code == 0)
        #expect(result.stdoutText.hasPrefix("/dev/pts/"), "\(result.stdoutText)")
    }

    @Test func runWithoutTHasNoTerminal() throws {
        let result = try ProcessRunner.runUnderTerminal(
            [safebuild, "run", "--network=none", "--rm", engine.image, "tty"], environment: engine.environment())
        #expect(result.stdoutText.hasPrefix("not a tty"), "\(result.stdoutText)")
        #expect(result.code == 1)
    }

    /// A pass-through command run under a terminal sees that terminal (docker is exec'd, not piped).
    @Test func passThroughKeepsTheTerminal() throws {
        let name = TestEngine.uniqueName("sb-tty")
        defer { _ = try? engine.dockerRun(["rm", "-f", name]) }
        let create = try engine.dockerRun(["create", "--network=none", "-t", "--name", name, engine.image, "tty"])
        #expect(create.code == 0)
        let result = try ProcessRunner.runUnderTerminal(
            [safebuild, "start", "-a", name], environment: engine.environment())
        #expect(result.stdoutText.hasPrefix("/dev/pts/"), "\(result.stdoutText)")
    }

    // MARK: - Signals

    /// busybox `sleep` as PID 1 ignores SIGTERM: docker forwards it in vain, so after a grace safebuild kills the
    /// container by the id docker wrote to the --cidfile safebuild gave it, and exits as docker did (137).
    @Test func sigtermStopsTheContainer() throws {
        let name = TestEngine.uniqueName("sb-term")
        defer { _ = try? engine.dockerRun(["rm", "-f", name]) }
        let process = try ProcessRunner.Started(
            safebuild, ["run", "--network=none", "--name", name, engine.image, "sleep", "30"], environment: engine.environment())
        let running = try ProcessRunner.waitUntil(timeout: 30) { try engine.runningContainers(named: name) == [name] }
        #expect(running, "the container never ran")
        let (result, took) = process.signalAndWait(SIGTERM, timeout: 40)
        #expect(!result.timedOut)
        #expect(took < 20, "stopping took \(took) s")
        #expect(try engine.runningContainers(named: name).isEmpty)
        let state = try engine.dockerRun(["inspect", "--format", "{{.State.ExitCode}}", name])
        #expect(state.stdoutText.trimmingWhitespace() == "137")
        #expect(result.code == 137, "\(result.stderrText)")
    }

    /// A container that handles SIGTERM gets it (docker proxies what safebuild forwards) and decides the status.
    @Test func sigtermIsForwardedToTheContainer() throws {
        let name = TestEngine.uniqueName("sb-trap")
        defer { _ = try? engine.dockerRun(["rm", "-f", name]) }
        let process = try ProcessRunner.Started(
            safebuild,
            ["run", "--network=none", "--rm", "--name", name, engine.image, "sh", "-c", "trap 'echo got TERM; exit 7' TERM; sleep 30 & wait"],
            environment: engine.environment())
        let running = try ProcessRunner.waitUntil(timeout: 30) { try engine.runningContainers(named: name) == [name] }
        #expect(running, "the container never ran")
        usleep(300_000)  // let sh install its trap
        process.send(SIGTERM)
        let result = process.wait(timeout: 30)
        #expect(result.code == 7, "\(result.stderrText)")
        #expect(result.stdoutText == "got TERM\n")
    }

    // MARK: - safebuild named docker

    @Test func aDockerSymlinkFirstOnPathRunsTheRealDocker() throws {
        let dir = try TemporaryDirectory()
        let link = try dir.symlink("docker", to: safebuild)
        let realDir = String(engine.docker[..<engine.docker.lastIndex(of: "/")!])
        let env = engine.environment(pinDocker: false, ["PATH": "\(dir.path):\(realDir):/bin"])
        let ps = try ProcessRunner.run(link, ["ps"], environment: env, timeout: 30)
        #expect(ps.code == 0, "\(ps.stderrText)")
        #expect(ps.stdoutText.hasPrefix("CONTAINER ID"))
        // Under the name docker, --version is docker's.
        let version = try ProcessRunner.run(link, ["--version"], environment: env, timeout: 30)
        let real = try ProcessRunner.run(engine.docker, ["--version"], environment: env, timeout: 30)
        #expect(version.stdoutText == real.stdoutText)
        #expect(version.stdoutText.hasPrefix("Docker version"))
        // A protected run through the link works too.
        let run = try ProcessRunner.run(link, ["run", "--network=none", "--rm", engine.image, "echo", "ok"], environment: env, timeout: 60)
        #expect(run.stdoutText == "ok\n")
    }

    @Test func onlySafebuildOnPathStopsWith127() throws {
        let dir = try TemporaryDirectory()
        let link = try dir.symlink("docker", to: safebuild)
        let env = engine.environment(pinDocker: false, ["PATH": dir.path])
        let result = try ProcessRunner.run(link, ["ps"], environment: env, timeout: 10)
        #expect(result.code == 127)
        #expect(result.stderrText == "safebuild: error: the only docker on PATH is safebuild itself; install docker or set SAFEBUILD_DOCKER to the real docker\n")
    }

    /// A wrapper script named docker that calls safebuild again: the second safebuild sees (SAFEBUILD_VIA) that it
    /// was already handed to that script, so it goes on to the real docker after it, or stops when there is none,
    /// instead of looping.
    @Test(arguments: [true, false])
    func aWrapperBetweenTwoSafebuildsDoesNotLoop(realDockerAfter: Bool) throws {
        let dir = try TemporaryDirectory()
        try dir.directory("front")
        try dir.directory("wrap")
        let link = try dir.symlink("front/docker", to: safebuild)
        try dir.write("wrap/docker", Array("#!/bin/sh\nexec \(link) \"$@\"\n".utf8), mode: 0o755)
        let realDir = String(engine.docker[..<engine.docker.lastIndex(of: "/")!])
        let path = "\(dir.path)/front:\(dir.path)/wrap" + (realDockerAfter ? ":\(realDir)" : "")
        let env = engine.environment(pinDocker: false, ["PATH": path])
        let result = try ProcessRunner.run(link, ["ps"], environment: env, timeout: 10)
        #expect(!result.timedOut)
        if realDockerAfter {
            #expect(result.code == 0, "\(result.stderrText)")
            #expect(result.stdoutText.hasPrefix("CONTAINER ID"))
        } else {
            #expect(result.code == 127)
            #expect(result.stderrText.contains("the only docker on PATH is safebuild itself"))
        }
    }

    // MARK: - Global flags before the subcommand

    @Test(arguments: [
        ["-H", "HOST", "ps"], ["--host=HOST", "ps"], ["--context", "default", "ps"], ["--log-level=error", "ps"],
        ["-D", "images"], ["-l", "error", "version"],
    ])
    func globalFlagsArePassedThrough(_ given: [String]) throws {
        try expectSameAsDocker(given.map { $0.hasSuffix("HOST") ? $0.dropLast(4) + engine.host : $0 })
    }

    @Test func aWrongHostFlagReachesDocker() throws {
        let result = try sb(["-H", "unix:///nonexistent/docker.sock", "ps"])
        #expect(result.code == 1)
        #expect(result.stderrText.contains("unix:///nonexistent/docker.sock"))
    }

    @Test(arguments: [
        ["-H", "HOST", "run", "--network=none", "--rm", "IMAGE", "echo", "ok"],
        ["--context", "default", "run", "--network=none", "--rm", "IMAGE", "echo", "ok"],
        ["--log-level=error", "container", "run", "--network=none", "--rm", "IMAGE", "echo", "ok"],
        ["-H", "HOST", "-D", "--log-level", "error", "run", "--network=none", "--rm", "IMAGE", "echo", "ok"],
    ])
    func aProtectedRunAfterGlobalFlagsIsStillProtected(_ given: [String]) throws {
        let arguments = given.map { $0 == "HOST" ? engine.host : $0 == "IMAGE" ? engine.image : $0 }
        let dry = try sb(["--sb-dry-run"] + arguments)
        #expect(dry.code == 0)
        // Protected: safebuild's --cidfile, then the policy's memory limit right after the subcommand, the rest as
        // given.
        let words = dry.stdoutText.split(separator: " ").map(String.init)
        let run = try #require(words.firstIndex(of: "run"))
        #expect(words[run + 1] == "--cidfile" && words[run + 3] == "--memory", "\(dry.stdoutText)")
        #expect(dry.stdoutText.hasSuffix(" --network=none --rm \(engine.image) echo ok\n"))
        #expect(dry.stderrText.contains("safebuild: dry run: added --memory"), "\(dry.stderrText)")
        let real = try sb(arguments)
        #expect(real.code == 0, "\(real.stderrText)")
        #expect(real.stdoutText == "ok\n")
    }

    @Test func aPassThroughCommandIsNotSupervised() throws {
        let dry = try sb(["--sb-dry-run", "-H", engine.host, "ps", "-a"])
        #expect(dry.stdoutText == "\(engine.docker) -H \(engine.host) ps -a\n")
        #expect(dry.stderrText == "safebuild: dry run: passed through unprotected; nothing was run\n")
    }

    // MARK: - Output of a protected command streams unchanged

    @Test(arguments: [
        ("printf 'a\\nb\\nno newline at the end'", "a\nb\nno newline at the end"),
        ("printf 'crlf\\r\\nline\\r\\n'", "crlf\r\nline\r\n"),
        ("printf ''", ""),
        ("printf '\\n\\n\\n'", "\n\n\n"),
    ])
    func protectedOutputIsByteForByte(_ script: String, _ expected: String) throws {
        let result = try sb(["run", "--network=none", "--rm", engine.image, "sh", "-c", script])
        #expect(result.stdout == Array(expected.utf8))
        #expect(result.code == 0)
    }

    @Test func stdoutAndStderrStaySeparate() throws {
        let result = try sb(["run", "--network=none", "--rm", engine.image, "sh", "-c", "echo out; echo err >&2; echo out2"])
        #expect(result.stdoutText == "out\nout2\n")
        #expect(result.stderrText == "err\n")
    }

    /// 8 MiB of output, lines longer than safebuild's line limit, and no final newline: the same bytes as docker's.
    @Test func largeOutputIsTheSameAsDockers() throws {
        let script = "seq 1 300000; head -c 100000 /dev/zero | tr '\\0' x; echo; head -c 4194304 /dev/zero; printf tail"
        let arguments = ["run", "--network=none", "--rm", engine.image, "sh", "-c", script]
        let docker = try engine.dockerRun(arguments)
        let ours = try sb(arguments)
        #expect(docker.stdout.count > 6_000_000)
        #expect(ours.stdout.count == docker.stdout.count)
        #expect(ours.stdout == docker.stdout)
        #expect(ours.stdout.suffix(4) == Array("tail".utf8))
    }
}
}
