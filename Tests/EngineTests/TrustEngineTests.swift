import Foundation
import Glibc
import SafebuildTestSupport
import Testing

@testable import SafebuildKit

/// The host policy holds (issue 12), end to end: safebuild installed under a temporary prefix with its host policy at
/// PREFIX/etc/safebuild/policy.yml (where the binary's own location puts it), a repository with its own
/// ./safebuild.yml, and the real engine. What a user sees: the container's own cgroup limit, the exit status,
/// safebuild's lines on stderr, and where the journal went. Containers use `--network=none`.
extension EngineSuites {
@Suite(.serialized) struct TrustEngineTests {
    let engine: TestEngine
    let installed: InstalledSafebuild
    let dir: TemporaryDirectory
    var repository: String { dir.path + "/repo" }
    var hostJournal: String { dir.path + "/log/journal.jsonl" }

    init() throws {
        engine = try TestEngine.current()
        installed = try InstalledSafebuild()
        dir = try TemporaryDirectory()
        try dir.directory("repo")
        try dir.directory("log")
        try dir.directory("locks")
    }

    /// The host's policy: `run.memory` 64m, no pre-flight checks (the host is shared), one attempt, the journal and
    /// locks in this test's directory; `extra` appended.
    func hostPolicy(_ extra: String = "") throws {
        try installed.writeHostPolicy("""
            version: 1
            run:
              memory: 64m
              swap: none
            preflight:
              min_available: off
              max_pressure: off
              max_build_cache: off
              min_free_disk: off
              min_free_blocks: off
            retry:
              max_attempts: 1
            remedies:
              state_dir: \(dir.path)/locks
            journal:
              path: \(hostJournal)
            \(extra)
            """)
    }

    /// The installed safebuild in the repository, with no SAFEBUILD_* variable but `environment`.
    func sb(_ arguments: [String], environment: [String: String] = [:]) throws -> ProcessResult {
        try ProcessRunner.run(
            installed.binary, arguments, environment: engine.environment(environment), workingDirectory: repository,
            timeout: 120)
    }

    /// The memory limit of a protected run's container, from its own cgroup (v1, else v2).
    static let readLimit =
        "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max"

    /// The repository: `run.memory: unlimited` and the journal moved into the repository, with secrets on
    /// the command line. The container gets the host's 64m, the journal stays the host's and keeps no value, and
    /// safebuild says what it ignored.
    @Test func aRepositoryCannotLiftTheLimitOrMoveTheJournal() throws {
        try hostPolicy()
        let project = try dir.write(
            "repo/safebuild.yml",
            Array("run:\n  memory: unlimited\njournal:\n  path: \(repository)/journal.jsonl\n  max_size: 1k\n  keep: 0\n".utf8))
        let r = try sb([
            "run", "--rm", "--network=none", "-e", "DB_PWD=hunter2", engine.image, "sh", "-c",
            "MYSQL_PWD=hunter3 true; " + Self.readLimit,
        ])
        #expect(r.code == 0, "\(r.stderrText)")
        #expect(r.stdoutText == "67108864\n")
        #expect(r.stderrText == "safebuild: warning: \(project):3:1: journal can be set only in the host policy; ignored here\n")
        #expect(access(repository + "/journal.jsonl", F_OK) != 0)
        let journal = try String(contentsOfFile: hostJournal, encoding: .utf8)
        let invocation = try #require(try JournalReader.read(path: hostJournal).invocations.last)
        #expect(invocation.decisions?.first
            == "memory unlimited from run.memory at \(project):2, lowered to the host's ceiling 64m (run.max_memory 64m at \(installed.hostPolicy):3)")
        #expect(invocation.argv.contains("DB_PWD=***"))
        #expect(invocation.policySource == "\(installed.hostPolicy) < \(project)")
        #expect(!journal.contains("hunter2") && !journal.contains("hunter3"))

        // Below the ceiling, the repository's own limit holds.
        try dir.write("repo/safebuild.yml", Array("run:\n  memory: 32m\n".utf8))
        let lower = try sb(["run", "--rm", "--network=none", engine.image, "sh", "-c", Self.readLimit])
        #expect(lower.stdoutText == "33554432\n", "\(lower.stderrText)")
        #expect(lower.stderrText == "")
    }

    /// A job's `SAFEBUILD_JOURNAL` and `--sb-journal` do not move its records out of the host's journal: the run is
    /// recorded there, nothing is written to the files they name, and stderr says so once. The reading commands
    /// still follow them.
    @Test func aJobCannotMoveTheJournal() throws {
        try hostPolicy()
        unlink(repository + "/safebuild.yml")
        let elsewhere = dir.path + "/elsewhere.jsonl"
        let option = dir.path + "/option.jsonl"
        let token = TestEngine.uniqueName("moved")
        let r = try sb(
            ["--sb-journal", option, "run", "--rm", "--network=none", engine.image, "echo", token],
            environment: ["SAFEBUILD_JOURNAL": elsewhere])
        #expect(r.code == 0, "\(r.stderrText)")
        #expect(r.stdoutText == token + "\n")
        #expect(r.stderrText
            == "safebuild: warning: --sb-journal and SAFEBUILD_JOURNAL only choose the journal that safebuild journal/retry read; this run is recorded in \(hostJournal) (journal.path of the host policy \(installed.hostPolicy))\n")
        #expect(access(elsewhere, F_OK) != 0)
        #expect(access(option, F_OK) != 0)
        let recorded = try JournalReader.read(path: hostJournal).invocations.filter { $0.argv.contains(token) }
        #expect(recorded.count == 1)
        #expect(recorded.first?.outcome.isSuccess == true)

        // The variable alone: named alone.
        let alone = try sb(
            ["run", "--rm", "--network=none", engine.image, "true"], environment: ["SAFEBUILD_JOURNAL": elsewhere])
        #expect(alone.stderrText
            == "safebuild: warning: SAFEBUILD_JOURNAL only chooses the journal that safebuild journal/retry read; this run is recorded in \(hostJournal) (journal.path of the host policy \(installed.hostPolicy))\n")
        #expect(access(elsewhere, F_OK) != 0)

        // Reading: the variable's file when given, else where protected commands write.
        #expect(try sb(["journal", "path"], environment: ["SAFEBUILD_JOURNAL": elsewhere]).stdoutText == elsewhere + "\n")
        #expect(try sb(["journal", "path"]).stdoutText == hostJournal + "\n")
    }

    /// The host policy's `docker.path` is the docker of protected commands, over a job's `SAFEBUILD_DOCKER` (said
    /// once); pass-through commands, which read no policy, keep `SAFEBUILD_DOCKER`, and doctor says the two differ.
    @Test func theHostsDockerRunsProtectedCommands() throws {
        try dir.directory("hostbin")
        try dir.directory("otherbin")
        let calls = dir.path + "/host-docker.calls"
        let otherCalls = dir.path + "/other-docker.calls"
        unlink(calls)
        unlink(otherCalls)
        let hostDocker = try dir.write(
            "hostbin/docker", Array("#!/bin/sh\necho \"$1\" >> \(calls)\nexec \(engine.docker) \"$@\"\n".utf8), mode: 0o755)
        let other = try dir.write(
            "otherbin/docker", Array("#!/bin/sh\necho \"$1\" >> \(otherCalls)\nexit 99\n".utf8), mode: 0o755)
        try hostPolicy("docker:\n  path: \(hostDocker)\n")
        unlink(repository + "/safebuild.yml")

        let r = try sb(
            ["run", "--rm", "--network=none", engine.image, "echo", "hello"], environment: ["SAFEBUILD_DOCKER": other])
        #expect(r.code == 0, "\(r.stderrText)")
        #expect(r.stdoutText == "hello\n")
        #expect(r.stderrText
            == "safebuild: warning: SAFEBUILD_DOCKER names \(other), but protected commands run the host's docker \(hostDocker) (docker.path of the host policy \(installed.hostPolicy)); SAFEBUILD_DOCKER still chooses the docker of pass-through commands\n")
        let ran = String(decoding: TemporaryDirectory.readFileIfPresent(calls), as: UTF8.self)
        #expect(ran.split(separator: "\n").contains("run"), "\(ran)")
        #expect(access(otherCalls, F_OK) != 0)

        // A pass-through command: SAFEBUILD_DOCKER, as before.
        let ps = try sb(["ps", "-q"], environment: ["SAFEBUILD_DOCKER": other])
        #expect(ps.code == 99)
        #expect(String(decoding: TemporaryDirectory.readFileIfPresent(otherCalls), as: UTF8.self) == "ps\n")

        let doctor = try sb(["doctor", "--no-engine"], environment: ["SAFEBUILD_DOCKER": other])
        #expect(doctor.stdoutText.contains(
            "warning docker: protected commands run \(hostDocker) (docker.path of the host policy \(installed.hostPolicy)), but pass-through commands (docker ps, push, pull…) run \(other): they read no policy, only SAFEBUILD_DOCKER and PATH\n"),
            "\(doctor.stdoutText)")
        #expect(doctor.stdoutText.contains("fix: set SAFEBUILD_DOCKER=\(hostDocker) in the agent's environment"), "\(doctor.stdoutText)")
    }

    /// The host refuses a command line's -m above its ceiling: exit 77, one line naming the flag and the ceiling,
    /// and no container.
    @Test func aMemoryFlagAboveTheCeilingIsRefused() throws {
        try hostPolicy("protection:\n  memory_flag: refuse\n")
        unlink(repository + "/safebuild.yml")
        let name = TestEngine.uniqueName("sbt-refused")
        let r = try sb(["run", "--rm", "--network=none", "--name", name, "-m", "1g", engine.image, "true"])
        #expect(r.code == 77)
        #expect(r.stderrText
            == "safebuild: error: --memory 1g is above the host's ceiling 64m (run.max_memory 64m at \(installed.hostPolicy):3); give at most --memory 64m, or none (protection.memory_flag: refuse)\n")
        let ps = try engine.dockerRun(["ps", "-a", "--filter", "name=\(name)", "--format", "{{.Names}}"])
        #expect(ps.stdoutText.isEmpty)

        try hostPolicy("protection:\n  memory_flag: clamp\n")
        let clamped = try sb(["run", "--rm", "--network=none", "-m", "1g", engine.image, "sh", "-c", Self.readLimit])
        #expect(clamped.code == 0, "\(clamped.stderrText)")
        #expect(clamped.stdoutText == "67108864\n")
    }

    /// `SAFEBUILD_OFF=1` when the host does not allow it: said once, and the command stays protected.
    @Test func offIsIgnoredWhenTheHostSaysSo() throws {
        try hostPolicy("protection:\n  allow_off: false\n")
        unlink(repository + "/safebuild.yml")
        let r = try sb(["run", "--rm", "--network=none", engine.image, "sh", "-c", Self.readLimit], environment: ["SAFEBUILD_OFF": "1"])
        #expect(r.code == 0, "\(r.stderrText)")
        #expect(r.stdoutText == "67108864\n")
        #expect(r.stderrText
            == "safebuild: warning: --sb-off / SAFEBUILD_OFF is ignored: the host policy does not allow switching protection off (protection.allow_off: false)\n")

        try hostPolicy()
        let off = try sb(["run", "--rm", "--network=none", engine.image, "sh", "-c", Self.readLimit], environment: ["SAFEBUILD_OFF": "1"])
        #expect(off.stdoutText != "67108864\n")
        #expect(off.stderrText == "")
    }

    /// `policy show` and `policy path` of the installed binary name the host policy its prefix gives it.
    @Test func policyShowMarksTheLayers() throws {
        try hostPolicy()
        let project = try dir.write("repo/safebuild.yml", Array("run:\n  memory: 128m\n".utf8))
        let path = try sb(["policy", "path"])
        #expect(path.stdoutText == "built-in: built-in default\nhost: \(installed.hostPolicy)\nproject: \(project)\n")
        let show = try sb(["policy", "show"])
        #expect(show.code == 0, "\(show.stderrText)")
        let lines = show.stdoutText.split(separator: "\n").map(String.init)
        #expect(lines.first == "# effective policy: built-in default < host \(installed.hostPolicy) < project \(project)")
        #expect(lines.contains("  memory: 128m                          # project \(project):2 (above the host's ceiling: lowered to run.max_memory 64m)"), "\(show.stdoutText)")
        #expect(lines.contains("  max_memory: 64m                       # host \(installed.hostPolicy):3 (the host layer's run.memory)"))
    }
}
}
