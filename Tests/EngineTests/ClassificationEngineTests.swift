import Foundation
import Glibc
import SafebuildTestSupport
import Testing

@testable import SafebuildKit

/// Every failure class this machine's engine can produce for real (issue 11), through the safebuild binary: what the
/// user sees (exit status, stderr) and what the journal records (class per attempt, remedies, enforcement). Where a
/// failure needs an engine of its own — a full disk (a data root on a small tmpfs), a lost daemon (killed and started
/// again), BuildKit as docker's default (daemon.json `features.buildkit`), an OOM kill inside BuildKit (a daemon under
/// a memory-limited cgroup parent) — the test starts one with Scripts/engine.sh and stops it.
///
/// Produced elsewhere and not repeated here: a run OOM-killed under `-m` and a classic build step killed with 137
/// (FailureEngineTests, RetryEngineTests). Not producible here: veth and overlay ENOMEM, a generic ENOMEM with the
/// kernel's page allocation failure (docker-fault injects those, RetryEngineTests).
extension EngineSuites {
@Suite(.serialized) struct ClassificationEngineTests {
    let engine: TestEngine
    /// safebuild installed under a temporary prefix: the policies of these tests are its host policy, the only
    /// layer that sets the retry bounds and the remedies.
    let installed: InstalledSafebuild
    var safebuild: String { installed.binary }
    let dir: TemporaryDirectory

    init() throws {
        engine = try TestEngine.current()
        installed = try InstalledSafebuild()
        dir = try TemporaryDirectory()
        try dir.directory("locks")
    }

    /// Holds a 40 MB string: killed under -m 16m and 64m, fine under 256m (RetryEngineTests).
    static let hog = "x=$(head -c 40000000 /dev/zero | tr \"\\0\" a); echo ${#x}"

    // MARK: - Helpers

    /// A policy with every pre-flight check off, memory limits only where a test gives them, a short backoff, and
    /// this test's lock directory; `retry` and `remedies` lines are added under their keys. `minFreeDisk`: the free
    /// space free_disk prunes for (the check itself only warns).
    func policy(
        build: String = "unlimited", enforce: String = "classic", maxAttempts: Int = 3, backoff: String = "0.1",
        retry: String = "", remedies: String = "", minFreeDisk: String = "off"
    ) throws -> String {
        let text = """
            version: 1
            run: {memory: unlimited}
            build:
              memory: \(build)
              swap: none
              enforce: \(enforce)
            preflight:
              min_available: off
              max_pressure: off
              max_build_cache: off
              min_free_disk: \(minFreeDisk == "off" ? "off" : "{value: \(minFreeDisk), action: warn}")
              min_free_blocks: off
            retry:
              max_attempts: \(maxAttempts)
              backoff: {initial: \(backoff), max: \(backoff), jitter: 0}
              raise_memory: {factor: 4, cap: 256m}
              cooldown: 0
              healthy_host_enomem: ladder
            \(retry)
            remedies:
              lock_dir: \(dir.path)/locks
              drop_caches: false
              compact_memory: false
            \(remedies)

            """
        return try dir.write("policy-\(UInt32.random(in: 0...UInt32.max)).yml", Array(text.utf8))
    }

    struct Outcome {
        var result: ProcessResult
        var journal: JournalContents
        var invocation: InvocationRecord? { journal.invocations.last }
        var attempts: [AttemptRecord] { journal.attempts }
        var stderr: String { result.stderrText }
    }

    /// The environment of safebuild against `host` (the test engine's by default), with `policy` as the installed
    /// copy's host policy; `set` on top, `unset` removed.
    func environment(policy: String, journal: String, host: String? = nil, set: [String: String] = [:], unset: [String] = [])
        throws -> [String: String]
    {
        try installed.useAsHostPolicy(policy, journal: journal)
        var env = engine.environment(["SAFEBUILD_JOURNAL": journal])
        if let host { env["DOCKER_HOST"] = host }
        for (k, v) in set { env[k] = v }
        for k in unset { env.removeValue(forKey: k) }
        return env
    }

    func sb(
        _ arguments: [String], policy: String, host: String? = nil, set: [String: String] = [:], unset: [String] = [],
        timeout: Double = 180
    ) throws -> Outcome {
        let journal = dir.path + "/journal-\(UInt32.random(in: 0...UInt32.max)).jsonl"
        let result = try ProcessRunner.run(
            safebuild, arguments,
            environment: try environment(policy: policy, journal: journal, host: host, set: set, unset: unset),
            timeout: timeout)
        #expect(!result.timedOut)
        return Outcome(result: result, journal: try JournalReader.read(path: journal))
    }

    func context(_ dockerfile: String) throws -> String {
        let name = "ctx-\(UInt32.random(in: 0...UInt32.max))"
        let path = try dir.directory(name)
        try dir.write(name + "/Dockerfile", Array(dockerfile.utf8))
        return path
    }

    /// A private engine of this test's own (Scripts/engine.sh start), stopped by `stop()`.
    final class OwnEngine {
        let directory: String
        let host: String
        let script = SafebuildBinary.packageRoot() + "/Scripts/engine.sh"
        let arguments: [String]

        init(_ directory: String, dockerdArguments: [String] = []) throws {
            self.directory = directory
            host = "unix://\(directory)/docker.sock"
            arguments = dockerdArguments.flatMap { ["--dockerd-arg", $0] }
            try start()
        }

        func start() throws {
            var env = Environment.current()
            env.removeValue(forKey: "SAFEBUILD_DOCKERD_ARGS")
            let r = try ProcessRunner.run("/bin/bash", [script, "start", directory] + arguments, environment: env, timeout: 120)
            guard r.code == 0 else { throw TestSetupError("engine.sh start \(directory): \(r.stderrText)") }
        }

        /// kill -9 of its dockerd, as a crash would.
        func kill() {
            let pid = (try? String(contentsOfFile: directory + "/docker.pid", encoding: .utf8))
                .flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            if let pid { Glibc.kill(pid, SIGKILL) }
            _ = ProcessRunner.waitUntil(timeout: 10) { pid.map { Glibc.kill($0, 0) != 0 } ?? true }
        }

        func stop() {
            _ = try? ProcessRunner.run("/bin/bash", [script, "stop", directory], timeout: 60)
        }

        func docker(_ arguments: [String], docker: String = "/usr/bin/docker") throws -> ProcessResult {
            var env = Environment.current()
            env["DOCKER_HOST"] = host
            env["DOCKER_BUILDKIT"] = "0"
            return try ProcessRunner.run(docker, arguments, environment: env, timeout: 120)
        }
    }

    // MARK: - oom_build_step behind a step's own exit code

    /// The classic build step's child is OOM-killed; the step's shell says `Killed` and exits 2, so docker exits 2
    /// with no 137 anywhere. The hint in the step's own output makes it an OOM kill: the limit is raised and the build
    /// succeeds the third time. The child raises its own oom_score_adj so that the OOM killer takes it, not the step's
    /// shell (without that the shell was taken in about one run of three, measured, and the step exits 137). `-q`:
    /// docker prints the build's output on stderr only when it fails.
    @Test func aChildKilledBehindTheStepsOwnCodeGetsMoreMemory() throws {
        let ctx = try context(
            "FROM \(engine.image)\nRUN sh -c 'echo 1000 > /proc/self/oom_score_adj; \(Self.hog)' && exit 0; echo status $?; exit 2\n")
        let out = try sb(["build", "--network=none", "--force-rm", "--no-cache", "-q", "-m", "16m", ctx], policy: try policy())
        #expect(out.result.code == 0, "\(out.stderr)")
        #expect(out.attempts.map(\.exitStatus) == [2, 2, 0])
        #expect(out.attempts.map(\.failureClass) == ["oom_build_step", "oom_build_step", nil])
        #expect(out.attempts.first?.matchedLine == "Killed")
        #expect(out.attempts.first?.remedies.map(\.name) == ["raise_memory"])
        #expect(out.attempts.map { RetryEngineTests.value(after: "--memory", in: $0.argv) } == [nil, "64m", "256m"])
        #expect(out.stderr.contains("attempt 1/3 failed: "), "\(out.stderr)")
        #expect(out.invocation?.outcome == .succeededAfterRetry)
        let id = out.result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        if id.hasPrefix("sha256:") { _ = try? engine.dockerRun(["rmi", id]) }
    }

    /// The same words in a step that went on and succeeded, before a step's own failure: not retried.
    @Test func aKilledLineInAnEarlierStepIsNotTheFailuresCause() throws {
        let ctx = try context("FROM \(engine.image)\nRUN sh -c 'kill -9 $$'; echo survived\nRUN echo broken >&2; exit 1\n")
        let out = try sb(["build", "--network=none", "--force-rm", "--no-cache", "-q", ctx], policy: try policy())
        #expect(out.result.code == 1)
        #expect(out.attempts.count == 1)
        #expect(out.attempts.first?.failureClass == "not_memory")
        #expect(out.invocation?.outcome == .failed)
    }

    // MARK: - process_enomem

    /// runc gets ENOMEM adding a seccomp rule under `--ulimit data=1000000` (docker-engine-here.md): docker exits 125
    /// with `docker: Error response from daemon: … cannot allocate memory`. Retried by its ladder (here without
    /// remedies), it fails the same way: two attempts, docker's status.
    @Test func runcENOMEMIsProcessENOMEM() throws {
        let out = try sb(
            ["run", "--rm", "--network=none", "--ulimit", "data=1000000", engine.image, "true"],
            policy: try policy(maxAttempts: 2, retry: "  ladders: {process_enomem: [[]]}"))
        #expect(out.result.code == 125)
        #expect(out.stderr.contains("cannot allocate memory"))
        #expect(out.attempts.map(\.failureClass) == ["process_enomem", "process_enomem"])
        #expect(out.attempts.first?.matchedLine?.hasPrefix("docker: Error response from daemon: failed to create shim task") == true)
        #expect(out.invocation?.failureClass == "process_enomem")
    }

    // MARK: - daemon_unreachable

    @Test(arguments: [
        (["run", "--rm", "IMAGE", "true"], 125),
        (["build", "-q", "CONTEXT"], 1),
    ] as [([String], Int32)])
    func aDeadSocketIsDaemonUnreachable(arguments: [String], status: Int32) throws {
        let ctx = try context("FROM \(engine.image)\n")
        let argv = arguments.map { $0 == "IMAGE" ? engine.image : $0 == "CONTEXT" ? ctx : $0 }
        let out = try sb(argv, policy: try policy(maxAttempts: 2), host: "unix://\(dir.path)/dead.sock")
        #expect(out.result.code == status)
        #expect(out.stderr.contains("Cannot connect to the Docker daemon at unix://\(dir.path)/dead.sock"), "\(out.stderr)")
        #expect(out.attempts.map(\.failureClass) == ["daemon_unreachable", "daemon_unreachable"])
        #expect(out.attempts.first?.remedies.isEmpty == true)  // its ladder only waits
    }

    // MARK: - daemon_lost

    /// The daemon is killed while a build step runs (docker -q prints `error during connect: Post …: EOF`, exit 1;
    /// without -q `unexpected EOF`, Fixtures/failure/build-classic-daemon-lost) and comes back: the
    /// build is daemon_lost, waits its backoff and succeeds on the second attempt. A run lost the same way
    /// (`error waiting for container: unexpected EOF`, exit 125) is daemon_lost too.
    @Test func aDaemonLostMidCommandIsRetriedOnceItIsBack() throws {
        let own = try OwnEngine(dir.path + "/lost")
        defer {
            try? own.start()  // it was killed last: start it again so that stop ends it cleanly
            own.stop()
        }
        let ctx = try context("FROM \(engine.image)\nRUN echo started; sleep 4\n")
        let journal = dir.path + "/lost.jsonl"
        let policy = try policy(backoff: "6")
        let build = try ProcessRunner.Started(
            safebuild, ["build", "--network=none", "--force-rm", "-q", ctx],
            environment: try environment(policy: policy, journal: journal, host: own.host))
        // Kill the daemon once the step's container runs, then start it again during the backoff.
        let running = try ProcessRunner.waitUntil(timeout: 30) {
            try own.docker(["ps", "-q"]).stdoutText.contains { $0.isHexDigit }
        }
        #expect(running)
        own.kill()
        try own.start()
        let result = build.wait(timeout: 120)
        let attempts = try JournalReader.read(path: journal).attempts
        #expect(result.code == 0, "\(result.stderrText)")
        #expect(attempts.map(\.failureClass) == ["daemon_lost", nil])
        #expect(attempts.first?.exitStatus == 1)
        // `-q` waits for the whole answer, so docker reports the cut connection as its request's EOF.
        #expect(attempts.first?.matchedLine?.hasPrefix("error during connect: Post ") == true, "\(result.stderrText)")
        #expect(attempts.first?.matchedLine?.hasSuffix("/build?") == false)
        #expect(attempts.first?.matchedLine?.hasSuffix(": EOF") == true)

        // A run lost the same way.
        let runJournal = dir.path + "/lost-run.jsonl"
        let run = try ProcessRunner.Started(
            safebuild, ["run", "--rm", "--network=none", engine.image, "sh", "-c", "echo started; sleep 30"],
            environment: try environment(policy: try self.policy(maxAttempts: 1), journal: runJournal, host: own.host))
        #expect(try ProcessRunner.waitUntil(timeout: 30) { try own.docker(["ps", "-q"]).stdoutText.contains { $0.isHexDigit } })
        own.kill()
        let lost = run.wait(timeout: 60)
        #expect(lost.code == 125, "\(lost.stderrText)")
        #expect(lost.stderrText.contains("error waiting for container: unexpected EOF"), "\(lost.stderrText)")
        #expect(try JournalReader.read(path: runJournal).attempts.map(\.failureClass) == ["daemon_lost"])
    }

    // MARK: - disk_full

    /// A daemon whose data root is a 600 MB tmpfs (vfs: a layer is a full copy), 250 MB of it held by a dangling
    /// image: a build step writing 400 MB fills it (`No space left on device` in its own output, exit 1). The ladder's
    /// free_disk prunes in steps (build cache and dangling images older than the age, down to the floor) until
    /// min_free_disk (500m here) is free, and a retry fits.
    @Test func aFullDataRootIsPrunedUntilTheBuildFits() throws {
        let base = dir.path + "/disk"
        try dir.directory("disk")
        try dir.directory("disk/data")
        let mount = try ProcessRunner.run("/bin/mount", ["-t", "tmpfs", "-o", "size=600m", "tmpfs", base + "/data"])
        try #require(mount.code == 0, "\(mount.stderrText)")
        defer { _ = try? ProcessRunner.run("/bin/umount", ["-l", base + "/data"]) }
        let own = try OwnEngine(base, dockerdArguments: ["--data-root=\(base)/data/root"])
        defer { own.stop() }

        let fill = try context("FROM \(engine.image)\nRUN head -c 250000000 /dev/zero > /fill\n")
        let filled = try own.docker(["build", "--network=none", "--force-rm", "-q", fill])
        #expect(filled.code == 0, "\(filled.stderrText)")
        // The leftovers of earlier builds are older than the prune floor (2 s here): the steps may remove them.
        usleep(2_500_000)
        // busybox's dd says `No space left on device` (its head says `standard output: I/O error`).
        let ctx = try context("FROM \(engine.image)\nRUN dd if=/dev/zero of=/scratch bs=1048576 count=400 && rm /scratch\n")
        let out = try sb(
            ["build", "--network=none", "--force-rm", "-q", ctx], policy: try policy(remedies: "  prune_until: 2s\n  prune_floor: 2s", minFreeDisk: "500m"),
            host: own.host)
        #expect(out.result.code == 0, "\(out.stderr)")
        // Free space is measured after each step, so it may take a second free_disk before the build fits.
        #expect(out.attempts.first?.failureClass == "disk_full")
        #expect(out.attempts.dropLast().allSatisfy { $0.failureClass == "disk_full" && $0.remedies.map(\.name) == ["free_disk"] })
        #expect(out.attempts.last?.failureClass == nil)
        #expect(out.attempts.first?.exitStatus == 1)
        #expect(out.attempts.first?.matchedLine?.contains("No space left on device") == true, "\(String(describing: out.attempts.first?.matchedLine))")
        #expect(out.attempts.first?.remedies.map(\.name) == ["free_disk"])
        #expect(out.attempts.first?.remedies.last?.ran == true)
        #expect(out.invocation?.outcome == .succeededAfterRetry)
    }

    // MARK: - oom_build_step inside BuildKit

    /// docker 20.10's BuildKit ignores `-m`, but runs its steps under the daemon's cgroup parent: under a daemon
    /// started with `--cgroup-parent` to a 64 MiB memory cgroup, a step holding 100 MB is OOM-killed for real
    /// (`executor failed running […]: exit code: 137`, docker exits 1). It is an OOM kill; raising `-m` cannot help a
    /// builder that ignores it, and the journal says the limit was not enforced.
    @Test func anOOMKillInsideBuildKitIsAnOOMKill() throws {
        let cgroup = "sbcls-\(getpid())"
        let path = "/sys/fs/cgroup/memory/\(cgroup)"
        try #require(mkdir(path, 0o755) == 0 || errno == EEXIST, "cannot make \(path)")
        defer { rmdir(path) }
        for file in ["memory.limit_in_bytes", "memory.memsw.limit_in_bytes"] {
            try String(64 << 20).write(toFile: "\(path)/\(file)", atomically: false, encoding: .utf8)
        }
        let own = try OwnEngine(dir.path + "/cg", dockerdArguments: ["--cgroup-parent=/\(cgroup)"])
        defer { own.stop() }
        let ctx = try context("FROM \(engine.image)\nRUN x=$(head -c 100000000 /dev/zero | tr \"\\0\" a); echo ${#x}\n")
        let out = try sb(
            ["build", "--network=none", "--no-cache", "--progress=plain", ctx],
            policy: try policy(build: "48m", maxAttempts: 1), host: own.host, set: ["DOCKER_BUILDKIT": "1"])
        #expect(out.result.code == 1)
        #expect(out.attempts.first?.failureClass == "oom_build_step")
        #expect(out.attempts.first?.matchedLine?.hasSuffix("]: exit code: 137") == true)
        #expect(out.invocation?.memoryLimitEnforced == false)
    }

    // MARK: - Builders

    /// A daemon whose daemon.json enables BuildKit: docker 20.10 with DOCKER_BUILDKIT unset builds with BuildKit.
    /// A Dockerfile that needs it (`RUN --mount`) keeps it under `build.enforce: classic`, with one warning and
    /// `memory_limit_enforced: false`; moved to the classic builder it would fail ("the --mount option requires
    /// BuildKit").
    @Test func buildKitIsKeptWhereItIsDockersDefault() throws {
        try dir.directory("bk")
        let config = try dir.write("bk/daemon.json", Array("{\"features\": {\"buildkit\": true}}\n".utf8))
        let own = try OwnEngine(dir.path + "/bk", dockerdArguments: ["--config-file=\(config)"])
        defer { own.stop() }
        let ctx = try context("FROM \(engine.image)\nRUN --mount=type=tmpfs,target=/cache echo 42 > /cache/x && cat /cache/x\n")
        let out = try sb(
            ["build", "--network=none", "--progress=plain", ctx], policy: try policy(build: "64m"), host: own.host,
            unset: ["DOCKER_BUILDKIT"])
        #expect(out.result.code == 0, "\(out.stderr)")  // the classic builder refuses RUN --mount
        #expect(out.stderr.contains("42"), "the step's output, on stderr under BuildKit: \(out.stderr)")
        let warnings = out.stderr.split(separator: "\n").filter { $0.contains("BuildKit is docker's builder here and safebuild keeps it") }
        #expect(warnings.count == 1, "\(out.stderr)")
        #expect(warnings.first?.contains("follows the daemon, which advertises BuildKit") == true)
        #expect(out.invocation?.memoryLimitEnforced == false)
        #expect(out.invocation?.executedArgv.starts(with: ["build", "--memory", "64m"]) == true)
        #expect(out.invocation?.decisions?.contains { $0.contains("safebuild keeps it") } == true)
    }

    /// Without daemon.json's feature, the same daemon's default is the classic builder: safebuild sets nothing, the
    /// classic builder enforces the limit, and a `RUN --mount` Dockerfile fails as it does under docker alone.
    @Test func theClassicBuilderStaysWhereItIsDockersDefault() throws {
        let ctx = try context("FROM \(engine.image)\nRUN cat /sys/fs/cgroup/memory/memory.limit_in_bytes\n")
        let out = try sb(
            ["build", "--network=none", "--no-cache", "--force-rm", ctx], policy: try policy(build: "40m"),
            unset: ["DOCKER_BUILDKIT"])
        #expect(out.result.code == 0, "\(out.stderr)")
        #expect(out.result.stdoutText.contains("41943040"), "\(out.result.stdoutText)")
        #expect(out.invocation?.memoryLimitEnforced == nil)
        #expect(out.invocation?.decisions?.contains { $0.hasPrefix("the classic builder enforces the memory limit on RUN steps: docker 20.10") } == true)

        let mount = try context("FROM \(engine.image)\nRUN --mount=type=tmpfs,target=/cache true\n")
        let alone = try ProcessRunner.run(
            engine.docker, ["build", "--network=none", mount], environment: engine.environment().filter { $0.key != "DOCKER_BUILDKIT" })
        let protected = try sb(["build", "--network=none", mount], policy: try policy(build: "40m"), unset: ["DOCKER_BUILDKIT"])
        #expect(alone.code == 1)
        #expect(protected.result.code == alone.code)
        #expect(protected.stderr.contains("the --mount option requires BuildKit"))
        #expect(protected.invocation?.decisions?.contains { $0.contains("the build uses what the classic builder lacks (Dockerfile line 2: RUN --mount)") } == true)
    }

    /// The docker 28.2 client (/usr/local/bin/docker) picks BuildKit when a buildx plugin is installed. The plugin
    /// here is a stand-in (no buildx package or registry on this machine): it answers the CLI's metadata call and
    /// hands `buildx build` to docker 20.10's own BuildKit. safebuild finds it where the CLI does
    /// (`$DOCKER_CONFIG/cli-plugins`), keeps BuildKit for a `# syntax=`-less `RUN --mount` Dockerfile and says so;
    /// without the plugin the 28.2 CLI falls back to the classic builder itself, and safebuild sets nothing (docker's
    /// deprecation warning names the missing buildx, not a DOCKER_BUILDKIT=0 of safebuild's).
    @Test func docker28KeepsItsBuilder() throws {
        let docker28 = "/usr/local/bin/docker"
        try #require(access(docker28, X_OK) == 0, "the docker 28.2 client is expected at \(docker28) (docker-engine-here.md)")
        let config = try dir.directory("docker-config")
        try dir.directory("docker-config/cli-plugins")
        _ = try dir.write(
            "docker-config/cli-plugins/docker-buildx",
            Array("""
                #!/bin/sh
                # A stand-in for the buildx plugin: metadata for the docker CLI, then docker 20.10's own BuildKit.
                if [ "$1" = docker-cli-plugin-metadata ]; then
                  echo '{"SchemaVersion":"0.1.0","Vendor":"safebuild tests","Version":"v0.0.0-stand-in","ShortDescription":"stand-in for buildx"}'
                  exit 0
                fi
                shift
                [ "$1" = build ] && shift
                exec env DOCKER_BUILDKIT=1 /usr/bin/docker build "$@"

                """.utf8), mode: 0o755)
        let ctx = try context("FROM \(engine.image)\nRUN --mount=type=tmpfs,target=/cache echo 42 > /cache/x && cat /cache/x\n")
        let withBuildx = try sb(
            ["build", "--network=none", "--progress=plain", ctx], policy: try policy(build: "64m"),
            set: ["SAFEBUILD_DOCKER": docker28, "DOCKER_CONFIG": config], unset: ["DOCKER_BUILDKIT"])
        #expect(withBuildx.result.code == 0, "\(withBuildx.stderr)")
        #expect(withBuildx.stderr.contains("docker 28.2 builds with BuildKit through the docker-buildx plugin"), "\(withBuildx.stderr)")
        #expect(withBuildx.invocation?.memoryLimitEnforced == false)

        let plain = try context("FROM \(engine.image)\nRUN cat /sys/fs/cgroup/memory/memory.limit_in_bytes\n")
        let empty = try dir.directory("docker-config-empty")
        let classic = try sb(
            ["build", "--network=none", "--no-cache", "--force-rm", plain], policy: try policy(build: "40m"),
            set: ["SAFEBUILD_DOCKER": docker28, "DOCKER_CONFIG": empty], unset: ["DOCKER_BUILDKIT"])
        #expect(classic.result.code == 0, "\(classic.stderr)")
        #expect(classic.result.stdoutText.contains("41943040"))
        #expect(classic.stderr.contains("Install the buildx component"), "\(classic.stderr)")
        #expect(!classic.stderr.contains("BuildKit is currently disabled"))
        #expect(classic.invocation?.memoryLimitEnforced == nil)
    }
}
}
