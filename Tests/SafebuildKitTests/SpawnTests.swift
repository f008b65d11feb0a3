import Glibc
import SafebuildTestSupport
import Testing

@testable import SafebuildKit

/// safebuild's children die with it, and otherwise start as posix_spawn started them: real processes, read back
/// through /proc.
@Suite(.serialized) struct SpawnTests {
    /// The `Sig…` lines of a child's /proc/self/status (`cat` changes no signal disposition of its own).
    static func signalLines(defaults: [Int32]) throws -> [String: UInt64] {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw TestSetupError("pipe") }
        let pid = try Spawn.start(
            "/bin/cat", ["/proc/self/status"], environment: [:], defaults: defaults,
            redirections: [.init(from: fds[1], to: 1)])
        close(fds[1])
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(fds[0], &buffer, buffer.count)
            if n <= 0 { break }
            out.append(contentsOf: buffer[..<n])
        }
        close(fds[0])
        var raw: Int32 = 0
        waitpid(pid, &raw, 0)
        var lines: [String: UInt64] = [:]
        for line in String(decoding: out, as: UTF8.self).split(separator: "\n") where line.hasPrefix("Sig") {
            let parts = line.split(separator: ":")
            lines[String(parts[0])] = UInt64(String(parts[1]).trimmingWhitespace(), radix: 16)
        }
        return lines
    }

    static func bit(_ signal: Int32) -> UInt64 { 1 << UInt64(signal - 1) }

    /// The signal mask is emptied and handlers go back to their defaults; a signal ignored (as under `nohup`) that
    /// is not among the defaults stays ignored; one that is among them does not.
    @Test func signalMaskAndDispositions() throws {
        var blocked = sigset_t(), previous = sigset_t()
        sigemptyset(&blocked)
        sigaddset(&blocked, SIGUSR1)
        pthread_sigmask(SIG_BLOCK, &blocked, &previous)
        let oldUSR2 = signal(SIGUSR2, SIG_IGN)
        let oldHUP = signal(SIGHUP, SIG_IGN)
        defer {
            signal(SIGUSR2, oldUSR2)
            signal(SIGHUP, oldHUP)
            pthread_sigmask(SIG_SETMASK, &previous, nil)
        }
        let lines = try Self.signalLines(defaults: Spawn.allSignals.filter { $0 != SIGUSR2 })
        #expect(lines["SigBlk"] == 0)
        #expect(lines["SigIgn"] == Self.bit(SIGUSR2))
        #expect(lines["SigCgt"] == 0)
    }

    @Test func aMissingProgramIsAnErrorOfTheSpawn() {
        #expect(throws: SafebuildError(.software, "cannot start /nonexistent/docker: No such file or directory")) {
            try Spawn.start("/nonexistent/docker", [], environment: [:])
        }
    }

    @Test func aProcessGroupOfItsOwnOnlyWhenAsked() throws {
        for group in [nil, 0] as [pid_t?] {
            let pid = try Spawn.start("/bin/sleep", ["5"], environment: [:], processGroup: group)
            defer {
                kill(pid, SIGKILL)
                var raw: Int32 = 0
                waitpid(pid, &raw, 0)
            }
            #expect(getpgid(pid) == (group == nil ? getpgrp() : pid))
        }
    }

    // MARK: - No orphans

    /// A stand-in for docker: `run` writes a container id to the --cidfile and, with FAKE_RUN=hang, records its pid
    /// and sleeps; otherwise it exits 137 (an OOM kill's status), so that safebuild asks `inspect`, which records its
    /// pid and sleeps.
    static func fakeDocker(in dir: TemporaryDirectory) throws -> String {
        let script = """
            #!/bin/sh
            case "$1" in
            run)
              [ "$2" = --cidfile ] && echo 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef > "$3"
              if [ "$FAKE_RUN" = hang ]; then echo $$ > \(dir.path)/docker.pid; exec sleep 60; fi
              exit 137 ;;
            inspect) echo $$ > \(dir.path)/docker.pid; exec sleep 60 ;;
            esac
            exit 1

            """
        return try dir.write("docker", Array(script.utf8), mode: 0o755)
    }

    /// safebuild SIGKILLed while docker runs, and while a helper (`docker inspect`) runs: either is gone within 1 s.
    @Test(arguments: ["hang", "helper"])
    func childrenDieWithSafebuild(mode: String) throws {
        let dir = try TemporaryDirectory()
        let docker = try Self.fakeDocker(in: dir)
        let policy = try dir.write(
            "policy.yml",
            Array("preflight: {min_available: off, max_pressure: off, max_build_cache: off, min_free_disk: off, min_free_blocks: off}\n".utf8))
        var env = Environment.current().filter { !$0.key.hasPrefix("SAFEBUILD_") }
        env["SAFEBUILD_DOCKER"] = docker
        env["SAFEBUILD_POLICY"] = policy
        env["SAFEBUILD_JOURNAL"] = dir.path + "/journal.jsonl"
        env["FAKE_RUN"] = mode
        // The container's state is asked through the Engine API on a unix socket; the docker CLI helper runs only
        // for an engine elsewhere (nothing listens on this port: the helper is what hangs).
        env["DOCKER_HOST"] = "tcp://127.0.0.1:9"
        let safebuild = try ProcessRunner.Started(
            try SafebuildBinary.path(), ["run", "-m", "64m", "img", "true"], environment: env)
        var child: pid_t = 0
        let started = ProcessRunner.waitUntil(timeout: 20) {
            child = pid_t(String(decoding: dir.read("docker.pid"), as: UTF8.self).trimmingWhitespace()) ?? 0
            return child > 0 && Self.command(of: child) == "sleep"
        }
        try #require(started, "the fake docker did not start: \(safebuild.stderrSoFar)")
        safebuild.send(SIGKILL)
        _ = safebuild.wait(timeout: 5)
        let killedAt = Clock.now()
        let gone = ProcessRunner.waitUntil(timeout: 1) { !Self.alive(child) }
        #expect(gone, "the \(mode == "hang" ? "docker" : "docker inspect") child \(child) outlived safebuild")
        #expect(Clock.now() - killedAt < 1)
        if !gone { kill(child, SIGKILL) }
    }

    static func command(of pid: pid_t) -> String {
        let fd = open("/proc/\(pid)/comm", O_RDONLY)
        guard fd >= 0 else { return "" }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 64)
        let n = read(fd, &buffer, buffer.count)
        return n > 0 ? String(decoding: buffer[..<n], as: UTF8.self).trimmingWhitespace() : ""
    }

    /// Running, and not a zombie waiting for its parent.
    static func alive(_ pid: pid_t) -> Bool {
        let fd = open("/proc/\(pid)/stat", O_RDONLY)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 512)
        let n = read(fd, &buffer, buffer.count)
        guard n > 0, let close = buffer[..<n].lastIndex(of: UInt8(ascii: ")")), close + 2 < n else { return false }
        return buffer[close + 2] != UInt8(ascii: "Z")
    }
}
