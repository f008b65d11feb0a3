import Foundation
import Glibc
import SafebuildTestSupport
import Testing
@testable import SafebuildKit

/// The corners of issue 14 against the real engine: argv bytes, a user's `--cidfile`, what ran, settings that would
/// break docker, SIGKILL, exit 137 without an OOM.
extension EngineSuites {
@Suite(.serialized) struct CornersEngineTests {
    let engine: TestEngine
    let installed: InstalledSafebuild
    var safebuild: String { installed.binary }
    let directory: TemporaryDirectory
    var journal: String { directory.path + "/journal.jsonl" }

    init() throws {
        engine = try TestEngine.current()
        installed = try InstalledSafebuild()
        directory = try TemporaryDirectory()
        try directory.directory("state")
        try installed.writeHostPolicy(
            """
            version: 1
            run: {memory: 64m}
            build: {memory: 64m}
            preflight: {min_available: off, max_pressure: off, max_build_cache: off, min_free_disk: off, min_free_blocks: off}
            retry:
              max_attempts: 2
              backoff: {initial: 0.1s, max: 0.1s, jitter: 0}
              healthy_host_enomem: ladder
            remedies: {state_dir: \(directory.path)/state}
            journal: {path: \(journal)}
            """)
    }

    func sb(_ arguments: [String], env: [String: String] = [:], timeout: Double = 60) throws -> ProcessResult {
        try ProcessRunner.run(safebuild, arguments, environment: engine.environment(env), timeout: timeout)
    }

    func journalLines() throws -> [[String: Any]] {
        String(decoding: TemporaryDirectory.readFileIfPresent(journal), as: UTF8.self).split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    // MARK: - 1. argv as bytes

    /// A pass-through argument that is not UTF-8 reaches docker byte for byte (a stand-in docker dumps its argv).
    @Test func passThroughArgumentIsByteExact() throws {
        let dump = directory.path + "/argv"
        let standIn = try directory.write(
            "docker-dump", Array("#!/bin/sh\nfor a in \"$@\"; do printf '%s\\0' \"$a\"; done > \(dump)\n".utf8),
            mode: 0o755)
        let format = String(lossless: [0x78, 0xFF, 0x79])
        let result = try sb(["ps", "--format", format], env: ["SAFEBUILD_DOCKER": standIn])
        #expect(result.code == 0, "\(result.stderrText)")
        #expect(TemporaryDirectory.readFileIfPresent(dump) == Array("ps\0--format\0".utf8) + [0x78, 0xFF, 0x79, 0])
    }

    /// The real docker writes `docker save -o $'real\xff.tar'` to exactly that file name.
    @Test func realDockerSaveWritesTheByteExactName() throws {
        let name = [UInt8]((directory.path + "/real").utf8) + [0xFF] + Array(".tar".utf8)
        let result = try sb(["save", "-o", String(lossless: name), engine.image])
        #expect(result.code == 0, "\(result.stderrText)")
        var info = stat()
        let found = name.withUnsafeBufferPointer { buffer in
            (Array(buffer) + [0]).withUnsafeBufferPointer { stat(UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), &info) == 0 }
        }
        #expect(found && info.st_size > 0)
    }

    /// A protected `run` hands docker the bytes (the container gets what it gets from docker itself: docker's JSON
    /// makes `\xfe` U+FFFD) and the journal keeps them as `{"base64": …}`.
    @Test func protectedRunKeepsTheBytesInTheJournal() throws {
        let word = String(lossless: [0x61, 0xFE, 0x62])
        let arguments = ["run", "--rm", "--network=none", engine.image, "printf", "%s", word]
        let result = try sb(arguments)
        #expect(result.code == 0, "\(result.stderrText)")
        #expect(result.stdout == (try engine.dockerRun(arguments)).stdout)
        let line = try #require(try journalLines().last)
        let argv = try #require(line["argv"] as? [Any])
        #expect(argv.last as? [String: String] == ["base64": "Yf5i"])
        let executed = try #require(line["executed_argv"] as? [Any])
        #expect(executed.last as? [String: String] == ["base64": "Yf5i"])
    }
    // MARK: - 2. A user's --cidfile

    /// A `--cidfile` that exists before the first attempt is the user's: left alone, and docker's own guard fires.
    @Test func staleCidfileIsLeftToDockersGuard() throws {
        let cidfile = try directory.write("stale.cid", Array("not-ours".utf8))
        let result = try sb(["run", "--rm", "--network=none", "--cidfile", cidfile, engine.image, "true"])
        #expect(result.code == 125)
        #expect(result.stderrText.contains("container ID file found, make sure the other container isn't running"))
        #expect(TemporaryDirectory.readFileIfPresent(cidfile) == Array("not-ours".utf8))
    }

    /// A retry deletes only what the attempt before wrote: the second attempt fails for the same real reason (runc
    /// out of memory), not on docker's guard, and the file holds the last attempt's container.
    @Test func retryReplacesOnlyTheFileItsAttemptWrote() throws {
        let cidfile = directory.path + "/retry.cid"
        let result = try sb([
            "run", "--rm", "--network=none", "--cidfile", cidfile, "--ulimit", "data=1000000", engine.image, "true",
        ])
        #expect(result.code == 125)
        #expect(!result.stderrText.contains("container ID file found"), "\(result.stderrText)")
        let attempts = try journalLines().filter { $0["kind"] as? String == "attempt" }.suffix(2)
        #expect(attempts.map { $0["failure_class"] as? String } == ["process_enomem", "process_enomem"])
        let id = String(decoding: TemporaryDirectory.readFileIfPresent(cidfile), as: UTF8.self)
        #expect(id.count == 64)
    }
    // MARK: - 6. Settings that break docker

    /// A `SAFEBUILD_*` typo never stops a pass-through command: one warning, then docker's own output and status.
    @Test func invalidVariableOnlyWarnsOnPassThrough() throws {
        let docker = try engine.dockerRun(["version", "--format", "{{.Server.Version}}"])
        let ours = try sb(["version", "--format", "{{.Server.Version}}"], env: ["SAFEBUILD_MAX_ATTEMPTS": "abc"])
        #expect(ours.code == 0)
        #expect(ours.stdout == docker.stdout)
        #expect(ours.stderrText == "safebuild: warning: SAFEBUILD_MAX_ATTEMPTS takes a whole number from 1 to 100 (got 'abc'); it is ignored\n")
    }

    /// A protected command refuses it, naming the variable (exit 64), and runs nothing.
    @Test func invalidVariableStopsAProtectedRun() throws {
        let name = TestEngine.uniqueName("sb-badvar")
        let result = try sb(["run", "--name", name, "--network=none", engine.image, "true"], env: ["SAFEBUILD_DRY_RUN": "ture"])
        #expect(result.code == 64)
        #expect(result.stderrText.contains("SAFEBUILD_DRY_RUN=ture is not a boolean; use 1 or 0: docker run was not run"))
        let ps = try engine.dockerRun(["ps", "-a", "--filter", "name=\(name)", "--format", "{{.Names}}"])
        #expect(ps.stdoutText.isEmpty)
    }

    /// `SAFEBUILD_OFF=' 1'` (a stray space) is read as 1.
    @Test func strayBlankInAVariableIsAccepted() throws {
        let result = try sb(["run", "--rm", engine.image, "true"], env: ["SAFEBUILD_OFF": " 1", "SAFEBUILD_DRY_RUN": "1 "])
        #expect(result.code == 0)
        #expect(result.stderrText.contains("dry run: passed through unprotected"), "\(result.stderrText)")
    }
    // MARK: - 5. What ran

    /// The journal's `executed_argv` and the attempt's `argv` are what docker got: the `--cidfile` safebuild adds,
    /// and `--rm` as passed; the dry run prints the same shape.
    @Test func journalShowsExactlyWhatDockerGot() throws {
        let result = try sb(["run", "--rm", "--network=none", engine.image, "true"])
        #expect(result.code == 0, "\(result.stderrText)")
        let lines = try journalLines()
        let invocation = try #require(lines.last)
        let executed = try #require(invocation["executed_argv"] as? [String])
        let cid = try #require(executed.firstIndex(of: "--cidfile"))
        #expect(executed[cid - 1] == "run" && executed[cid + 1].hasSuffix(".cid"))
        #expect(executed.contains("--rm"))
        let attempt = try #require(lines.dropLast().last)
        #expect(attempt["argv"] as? [String] == executed)

        let dry = try sb(["--sb-dry-run", "run", "--rm", "--network=none", engine.image, "true"])
        #expect(dry.code == 0)
        let words = dry.stdoutText.split(separator: " ").map(String.init)
        #expect(words.contains("--cidfile") && words.contains("--rm"), "\(dry.stdoutText)")
    }

    // MARK: - 3. SIGKILL

    /// safebuild SIGKILLed during `run --rm` of a container that sleeps 2 s: docker goes with it (PDEATHSIG), the
    /// daemon still removes the container when it ends (its `--rm` is docker's own), and no cidfile is left.
    @Test func sigkilledRunLeavesNothingBehind() throws {
        let name = TestEngine.uniqueName("sb-sigkill")
        let tmp = try directory.directory("tmp")
        let started = try ProcessRunner.Started(
            safebuild, ["run", "--rm", "--name", name, "--network=none", engine.image, "sleep", "2"],
            environment: engine.environment(["TMPDIR": tmp]))
        let running = try ProcessRunner.waitUntil(timeout: 20) { try !engine.runningContainers(named: name).isEmpty }
        #expect(running)
        let containerStarted = Clock.now()
        _ = ProcessRunner.waitUntil(timeout: 2) { (try? FileManager.default.contentsOfDirectory(atPath: tmp))?.isEmpty == true }
        started.send(SIGKILL)
        _ = started.wait(timeout: 10)
        var gone = 0.0
        let removed = try ProcessRunner.waitUntil(timeout: 20) {
            let ps = try engine.dockerRun(["ps", "-a", "--filter", "name=\(name)", "--format", "{{.Names}}"], timeout: 10)
            gone = Clock.now()
            return ps.code == 0 && ps.stdoutText.isEmpty
        }
        #expect(removed)
        // The container's own end is ~2 s after it started.
        let cleanUp = gone - (containerStarted + 2)
        print("CLEANUP after the container's end: \(String(format: "%.2f", cleanUp)) s")
        #expect(cleanUp < 3)
        #expect((try? FileManager.default.contentsOfDirectory(atPath: tmp)) == [])
        // The journal: its start, no end, its safebuild dead: killed.
        let list = try sb(["journal", "--json"], env: ["SAFEBUILD_JOURNAL": journal])
        #expect(list.code == 0, "\(list.stderrText)")
        let killed = list.stdoutText.split(separator: "\n").contains { $0.contains(name) && $0.contains(#""outcome":"killed""#) }
        #expect(killed, "\(list.stdoutText)")
    }

    // MARK: - 4. Exit 137 without an OOM

    /// A container that SIGKILLs itself: no OOM, and no wait for an OOM flag (it cost 2.5 s).
    @Test func exit137WithoutAnOOMCostsNoWait() throws {
        // --init: PID 1 of a container ignores a SIGKILL sent from inside it; the shell under docker-init does not.
        let arguments = ["run", "--rm", "--init", "--network=none", engine.image, "sh", "-c", "kill -9 $$"]
        let t0 = Clock.now()
        let docker = try engine.dockerRun(arguments)
        let t1 = Clock.now()
        let ours = try sb(arguments)
        let t2 = Clock.now()
        #expect(docker.code == 137 && ours.code == 137)
        print("EXIT137 docker \(String(format: "%.3f", t1 - t0)) s, safebuild \(String(format: "%.3f", t2 - t1)) s")
        #expect((t2 - t1) - (t1 - t0) < 1.0)
        let attempt = try #require(try journalLines().dropLast().last)
        #expect(attempt["failure_class"] as? String == "not_memory")
    }

    // MARK: - Stale cidfiles

    /// docker creates its `--cidfile` empty before it creates the container and writes the id after (docker/cli
    /// cli/command/container/create.go, `newCIDFile`): a safebuild SIGKILLed in between (docker dies with it,
    /// PDEATHSIG) leaves its own cidfile in $TMPDIR. Here docker is held in between for real: the image is pulled
    /// from a "registry" on 127.0.0.1 that accepts the connection and never answers. The next protected run sweeps
    /// the stale file (its writer is gone); a user's own --cidfile in the same directory stays.
    @Test func aLaterRunSweepsTheCidfileOfAKilledOne() throws {
        let tmp = try directory.directory("sweep-tmp")
        let env = engine.environment(["TMPDIR": tmp])
        // The user's own --cidfile, through safebuild: kept by it, and by every later sweep.
        let mine = tmp + "/mine.cid"
        let own = try sb(["run", "--cidfile", mine, "--rm", "--network=none", engine.image, "true"], env: ["TMPDIR": tmp])
        #expect(own.code == 0, "\(own.stderrText)")

        let silent = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(silent) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(silent, $0, length) } }
        #expect(listen(silent, 16) == 0)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(silent, $0, &length) } }
        let port = UInt16(bigEndian: address.sin_port)
        let killed = try ProcessRunner.Started(
            safebuild, ["run", "--rm", "--network=none", "127.0.0.1:\(port)/sb-never:latest", "true"], environment: env)
        func stale() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: tmp)) ?? []).filter { $0.hasPrefix("safebuild-\(killed.pid)-") }
        }
        let created = ProcessRunner.waitUntil(timeout: 30) { !stale().isEmpty }
        #expect(created, "\(killed.stderrSoFar)")
        killed.send(SIGKILL)
        _ = killed.wait(timeout: 10)
        usleep(300_000)
        let left = stale()
        #expect(left.count == 1, "\(left)")
        let path = tmp + "/" + (left.first ?? "-")
        #expect(TemporaryDirectory.readFileIfPresent(path).isEmpty, "docker had not written an id yet")
        // The sweep spares a file under 10 s old (a live safebuild in another pid namespace may be about to read
        // it): this one is dated 20 s back rather than waited for.
        let back = Int(Clock.wall()) - 20
        for file in [path, mine] {
            var times = [timespec(tv_sec: back, tv_nsec: 0), timespec(tv_sec: back, tv_nsec: 0)]
            #expect(utimensat(AT_FDCWD, file, &times, 0) == 0)
        }

        let next = try sb(["run", "--rm", "--network=none", engine.image, "true"], env: ["TMPDIR": tmp])
        #expect(next.code == 0, "\(next.stderrText)")
        #expect(stale().isEmpty, "the killed run's cidfile is still there")
        #expect(TemporaryDirectory.readFileIfPresent(mine).count == 64, "the user's own --cidfile went")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: tmp)) ?? []) == ["mine.cid"])
    }

    // MARK: - 8. Warnings

    /// `docker buildx build` through safebuild: one warning that the memory limit is not enforced and why, before
    /// anything docker says (docker 20.10 here has no buildx plugin, so docker itself then fails, with its own
    /// status); the journal records memory_limit_enforced: false.
    @Test func buildxBuildWarnsBeforeDockerSpeaks() throws {
        let context = try directory.directory("buildx-context")
        _ = try directory.write("buildx-context/Dockerfile", Array("FROM \(engine.image)\nRUN true\n".utf8))
        let arguments = ["buildx", "build", "--network=none", context]
        let docker = try engine.dockerRun(arguments)
        let ours = try sb(arguments)
        #expect(ours.code == docker.code, "\(ours.stderrText)")
        let lines = ours.stderrText.split(separator: "\n").map(String.init)
        let warning = "safebuild: warning: the policy's memory limit 64m is not enforced for docker buildx build: buildx always builds with BuildKit, which ignores -m/--memory-swap on RUN steps (moby/buildkit#593), so safebuild adds no memory flags"
        #expect(lines.filter { $0.contains("is not enforced for docker buildx build") } == [warning], "\(ours.stderrText)")
        #expect(lines.first == warning, "\(ours.stderrText)")
        // What docker said follows, unchanged.
        #expect(ours.stderrText.hasSuffix(docker.stderrText), "\(ours.stderrText)\n---\n\(docker.stderrText)")
        let invocation = try #require(try journalLines().last { $0["kind"] as? String == "invocation" && $0["outcome"] as? String != "running" })
        #expect(invocation["memory_limit_enforced"] as? Bool == false)
    }

    /// `safebuild --sb-policy run --rm img`: the file was left out. safebuild says so and runs nothing (exit 64);
    /// with a file named `run` in the working directory, that file is the policy.
    @Test func aPolicyOptionWithoutItsFileIsRefused() throws {
        let name = TestEngine.uniqueName("sb-nopolicy")
        let before = try journalLines().count
        let refused = try sb(["--sb-policy", "run", "--rm", "--name", name, "--network=none", engine.image, "true"])
        #expect(refused.code == 64)
        #expect(refused.stderrText == "safebuild: error: --sb-policy needs a file: \"run\" looks like the docker command; write --sb-policy FILE run …\n", "\(refused.stderrText)")
        #expect(try journalLines().count == before)
        let ps = try engine.dockerRun(["ps", "-a", "--filter", "name=\(name)", "--format", "{{.Names}}"], timeout: 20)
        #expect(ps.stdoutText.isEmpty)

        let cwd = try directory.directory("has-a-run-file")
        _ = try directory.write("has-a-run-file/run", Array("version: 1\nrun: {memory: 32m}\n".utf8))
        let taken = try ProcessRunner.run(
            safebuild, ["--sb-policy", "run", "--sb-dry-run", "run", "--rm", "--network=none", engine.image, "true"],
            environment: engine.environment(), workingDirectory: cwd, timeout: 60)
        #expect(taken.code == 0, "\(taken.stderrText)")
        #expect((taken.stdoutText + taken.stderrText).contains("--memory 32m"), "\(taken.stdoutText)\(taken.stderrText)")
    }
}
}
