import Glibc
import Foundation
import SafebuildTestSupport
import Testing

@testable import SafebuildKit

/// The whole tool against the real engine: the safebuild binary runs docker (or the docker-fault front before it),
/// classifies each failure, applies its ladder's remedies and retries as the policy allows. Every test looks at what a
/// user sees: the exit status, docker's output, safebuild's lines on stderr and the journal.
/// Containers and builds use `--network=none` (the engine may have no bridge).
extension EngineSuites {
@Suite(.serialized) struct RetryEngineTests {
    let engine: TestEngine
    /// safebuild installed under a temporary prefix: the policies of these tests are its host policy, the only
    /// layer that sets remedies, the cooldown and raise_memory.
    let installed: InstalledSafebuild
    var safebuild: String { installed.binary }
    let fault: String
    let dir: TemporaryDirectory

    /// Holds a 40 MB string: killed under -m 16m and under 64m (the shell's read buffer and the string, measured),
    /// fine under 256m. With factor 4 and cap 256m: 16m, 64m, 256m, the third attempt succeeds.
    static let hog = "x=$(head -c 40000000 /dev/zero | tr \"\\0\" a); echo ${#x}"

    init() throws {
        engine = try TestEngine.current()
        installed = try InstalledSafebuild()
        fault = SafebuildBinary.packageRoot() + "/.build/debug/docker-fault"
        guard access(fault, X_OK) == 0 else { throw TestSetupError("no docker-fault at \(fault): run `swift build` first") }
        dir = try TemporaryDirectory()
    }

    // MARK: - Helpers

    /// A policy: no pre-flight checks, no memory defaults (the tests give -m themselves), short backoff, locks in
    /// this test's directory; `ladders` replaces the default ladders of the classes it names.
    /// The host policy of a test: ENOMEM injected on this healthy host is retried by its ladder
    /// (`healthy_host_enomem: ladder`), and drop_caches and compact_memory are declared needed (memory short below
    /// 100% available, any page cache worth dropping, fragmented below 8 PiB free in large blocks): the tests are
    /// about the ladders, the lock and the cooldown, and the host's own figures would skip them
    /// (RemedyNeedTests covers those).
    func policy(
        maxAttempts: Int = 3, factor: String = "4", backoff: String = "0.1", cooldown: String = "0",
        lockDir: String? = nil, ladders: String = "", remedies: String = "", minAvailable: String = "off"
    ) throws -> String {
        let text = """
            version: 1
            run: {memory: unlimited}
            build: {memory: unlimited}
            preflight:
              wait_timeout: 10m
              min_available: \(minAvailable)
              max_pressure: off
              max_build_cache: off
              min_free_disk: off
              min_free_blocks: off
            retry:
              max_attempts: \(maxAttempts)
              backoff: {initial: \(backoff), max: \(backoff), jitter: 0}
              raise_memory: {factor: \(factor), cap: 256m}
              cooldown: \(cooldown)
              healthy_host_enomem: ladder
            \(ladders)
            remedies:
              lock_dir: \(lockDir ?? dir.path + "/locks")
              drop_caches_min_cache: 0
              drop_caches_max_available: 100%
              compact_memory_max_free: 8p
            \(remedies)

            """
        return try dir.write("policy-\(UInt32.random(in: 0...UInt32.max)).yml", Array(text.utf8))
    }

    struct Outcome {
        var result: ProcessResult
        var journal: JournalContents
        var invocation: InvocationRecord? { journal.invocations.last }
        var attempts: [AttemptRecord] { journal.attempts }
        /// safebuild's own lines on stderr.
        var lines: [String] { result.stderrText.split(separator: "\n").map(String.init) }
    }

    func environment(policy: String, journal: String, fault: [String: String]? = nil) throws -> [String: String] {
        try installed.useAsHostPolicy(policy, journal: journal)
        var extra = ["SAFEBUILD_JOURNAL": journal]
        if let fault {
            extra["SAFEBUILD_DOCKER"] = self.fault
            extra["DOCKER_FAULT_REAL"] = engine.docker
            extra["DOCKER_FAULT_STATE"] = dir.path + "/fault-\(UInt32.random(in: 0...UInt32.max)).count"
            extra.merge(fault) { $1 }
        }
        return engine.environment(extra).filter { fault != nil || !$0.key.hasPrefix("DOCKER_FAULT_") }
    }

    func sb(_ arguments: [String], policy: String, fault: [String: String]? = nil, timeout: Double = 120) throws -> Outcome {
        let journal = dir.path + "/journal-\(UInt32.random(in: 0...UInt32.max)).jsonl"
        let result = try ProcessRunner.run(
            safebuild, arguments, environment: try environment(policy: policy, journal: journal, fault: fault), timeout: timeout)
        #expect(!result.timedOut)
        return Outcome(result: result, journal: try JournalReader.read(path: journal))
    }

    /// A build context holding `dockerfile`; returns its path.
    func context(_ dockerfile: String) throws -> String {
        let name = "ctx-\(UInt32.random(in: 0...UInt32.max))"
        let path = try dir.directory(name)
        try dir.write(name + "/Dockerfile", Array(dockerfile.utf8))
        return path
    }

    func removeImage(_ result: ProcessResult) {
        let id = result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        if id.hasPrefix("sha256:") { _ = try? engine.dockerRun(["rmi", id]) }
    }

    static func value(after flag: String, in argv: [String]) -> String? {
        guard let i = argv.lastIndex(of: flag), i + 1 < argv.count else { return nil }
        return argv[i + 1]
    }

    /// Three attempts: OOM-killed under 16m, then under the raised 64m, succeeded under 256m (the cap).
    static func expectRaisedTwice(_ out: Outcome, _ failureClass: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(out.attempts.count == 3, sourceLocation: sourceLocation)
        guard out.attempts.count == 3 else { return }
        #expect(out.attempts.map(\.exitStatus) == [137, 137, 0], sourceLocation: sourceLocation)
        #expect(out.attempts.map(\.failureClass) == [failureClass, failureClass, nil], sourceLocation: sourceLocation)
        #expect(out.attempts.map { Self.value(after: "--memory", in: $0.argv) } == [nil, "64m", "256m"], sourceLocation: sourceLocation)
        #expect(out.attempts[0].remedies.map(\.name) == ["raise_memory"], sourceLocation: sourceLocation)
        #expect(out.attempts[0].remedies.first?.after["memory_limit_bytes"] == 64 << 20, sourceLocation: sourceLocation)
        #expect(out.attempts[1].remedies.first?.after["memory_limit_bytes"] == 256 << 20, sourceLocation: sourceLocation)
        #expect(out.lines.contains { $0.contains("attempt 1/3 failed: ") }, "\(out.result.stderrText)", sourceLocation: sourceLocation)
        #expect(out.lines.contains { $0.contains("attempt 2/3 failed: ") }, "\(out.result.stderrText)", sourceLocation: sourceLocation)
        #expect(out.attempts[2].decision == "succeeded", sourceLocation: sourceLocation)
        #expect(out.invocation?.outcome == .succeededAfterRetry, sourceLocation: sourceLocation)
        #expect(out.invocation?.attempts == 3, sourceLocation: sourceLocation)
        #expect(out.invocation?.exitStatus == 0, sourceLocation: sourceLocation)
    }

    // MARK: - Real OOM kills

    @Test func oomKilledRunSucceedsWithTheRaisedLimit() throws {
        let name = TestEngine.uniqueName("sbr-oomrun")
        let out = try sb(
            ["run", "--rm", "--name", name, "-m", "16m", "--network=none", engine.image, "sh", "-c", Self.hog],
            policy: try policy())
        #expect(out.result.code == 0, "\(out.result.stderrText)")
        #expect(out.result.stdoutText == "40000000\n")
        Self.expectRaisedTwice(out, "oom_container")
        // safebuild honoured --rm: no container of either attempt is left.
        let left = try engine.dockerRun(["ps", "-a", "--filter", "name=\(name)", "--format", "{{.Names}}"])
        #expect(left.stdoutText.isEmpty)
    }

    @Test func oomKilledClassicBuildStepSucceedsWithTheRaisedLimit() throws {
        let ctx = try context("FROM \(engine.image)\nRUN \(Self.hog)\n")
        let out = try sb(
            ["build", "--network=none", "--force-rm", "--no-cache", "-q", "-m", "16m", ctx], policy: try policy())
        defer { removeImage(out.result) }
        #expect(out.result.code == 0, "\(out.result.stderrText)")
        #expect(out.result.stdoutText.hasPrefix("sha256:"))
        #expect(out.attempts.first?.matchedLine?.hasSuffix("returned a non-zero code: 137") == true)
        Self.expectRaisedTwice(out, "oom_build_step")
    }

    /// A policy whose raise_memory factor is 1 cannot raise the limit: the same limit would be killed again.
    @Test func oomKillIsNotRetriedWhenTheLimitCannotBeRaised() throws {
        let out = try sb(
            ["run", "--rm", "-m", "16m", "--network=none", engine.image, "sh", "-c", Self.hog],
            policy: try policy(factor: "1"))
        #expect(out.result.code == 137)
        #expect(out.result.stdout.isEmpty)
        #expect(out.attempts.count == 1)
        #expect(out.attempts.first?.failureClass == "oom_container")
        #expect(out.attempts.first?.decision.hasPrefix("give up: ") == true)
        #expect(out.invocation?.outcome == .failed)
        #expect(out.invocation?.failureClass == "oom_container")
    }

    /// A retried `run --name x`: the OOM-killed attempt's container `x` is removed first, so the retry can take
    /// the name; the container left at the end is the retry's, with the raised limit.
    @Test func retriedNamedRunRemovesTheFailedContainerFirst() throws {
        let name = TestEngine.uniqueName("sbr-named")
        defer { _ = try? engine.dockerRun(["rm", "-f", name]) }
        let out = try sb(
            ["run", "--name", name, "-m", "16m", "--network=none", engine.image, "sh", "-c",
             Self.hog + "; cat /sys/fs/cgroup/memory/memory.limit_in_bytes"],
            policy: try policy())
        #expect(out.result.code == 0, "\(out.result.stderrText)")
        // The limit the container itself saw (cgroup v1 here).
        #expect(out.result.stdoutText == "40000000\n\(256 << 20)\n")
        Self.expectRaisedTwice(out, "oom_container")
        let inspect = try engine.dockerRun(
            ["inspect", "-f", "{{.State.ExitCode}} {{.State.OOMKilled}} {{.HostConfig.Memory}}", name])
        #expect(inspect.stdoutText == "0 false \(256 << 20)\n")
        let all = try engine.dockerRun(["ps", "-a", "--filter", "name=\(name)", "--format", "{{.Names}}"])
        #expect(all.stdoutText == name + "\n")
    }

    // MARK: - User errors are never retried

    @Test func buildWhoseRunExitsOneRunsOnce() throws {
        let ctx = try context("FROM \(engine.image)\nRUN echo broken >&2; exit 1\n")
        let out = try sb(["build", "--network=none", "--force-rm", "-q", ctx], policy: try policy())
        #expect(out.result.code == 1)
        #expect(out.result.stderrText.contains("returned a non-zero code: 1"))
        #expect(!out.lines.contains { $0.contains("attempt ") })
        #expect(out.attempts.count == 1)
        #expect(out.attempts.first?.failureClass == "not_memory")
        #expect(out.attempts.first?.remedies.isEmpty == true)
        #expect(out.invocation?.outcome == .failed)
        #expect(out.invocation?.attempts == 1)
    }

    @Test(arguments: [
        (["run", "--rm", "--network=none", "IMAGE", "sh", "-c", "exit 3"], 3),
        (["run", "--no-such-flag", "IMAGE"], 125),
    ] as [([String], Int32)])
    func userErrorOfRunRunsOnce(_ given: [String], _ status: Int32) throws {
        let out = try sb(given.map { $0 == "IMAGE" ? engine.image : $0 }, policy: try policy())
        #expect(out.result.code == status)
        #expect(out.attempts.count == 1)
        #expect(out.attempts.first?.failureClass == "not_memory")
        #expect(out.attempts.first?.remedies.isEmpty == true)
        #expect(out.invocation?.attempts == 1)
        #expect(out.invocation?.exitStatus == status)
    }

    // MARK: - Injected ENOMEM of every class

    struct Injected: Sendable, CustomStringConvertible {
        var environment: [String: String]
        var failureClass: String
        var failures: Int
        var description: String { "\(environment["DOCKER_FAULT_KIND"] ?? "text") ×\(failures) → \(failureClass)" }
    }

    /// libnetwork's endpoint error around the bridge driver's "adding interface %s to bridge %s failed: %v" (the real
    /// form of this engine is in Fixtures/failure/run-endpoint-nobridge.stderr), with ENOMEM underneath.
    static let endpointText =
        "failed to create endpoint sb_fault on network bridge: adding interface veth9c8b4fa to bridge docker0 failed: cannot allocate memory"

    static let injected: [Injected] = [
        Injected(environment: ["DOCKER_FAULT_KIND": "veth"], failureClass: "network_enomem", failures: 2),
        Injected(environment: ["DOCKER_FAULT_TEXT": endpointText], failureClass: "network_enomem", failures: 1),
        Injected(environment: ["DOCKER_FAULT_KIND": "overlay"], failureClass: "storage_enomem", failures: 2),
        Injected(environment: ["DOCKER_FAULT_KIND": "console"], failureClass: "storage_enomem", failures: 1),
        Injected(environment: ["DOCKER_FAULT_KIND": "fork"], failureClass: "process_enomem", failures: 2),
        Injected(environment: ["DOCKER_FAULT_KIND": "runc_seccomp"], failureClass: "process_enomem", failures: 1),
        Injected(environment: ["DOCKER_FAULT_KIND": "daemon"], failureClass: "daemon_unreachable", failures: 2),
        Injected(environment: ["DOCKER_FAULT_KIND": "disk"], failureClass: "disk_full", failures: 2),
    ]

    /// The remedies the built-in policy (Config/default-policy.yml) calls for before retry `n` (1-based) of a class.
    static func defaultLadder(_ failureClass: String, retry n: Int) -> [String] {
        let ladder = FailureClass(rawValue: failureClass).flatMap(PolicyLoader.builtIn.ladder(for:))
        let steps = ladder?.steps.map { $0.map(\.rawValue) } ?? []
        return steps.isEmpty ? [] : steps[min(n, steps.count) - 1]
    }

    @Test(arguments: injected)
    func injectedFailureSucceedsAfterItsLaddersRemedies(_ fault: Injected) throws {
        let ctx = try context("FROM \(engine.image)\nLABEL safebuild.test=retry\n")
        var env = fault.environment
        env["DOCKER_FAULT_COUNT"] = String(fault.failures)
        let out = try sb(["build", "--network=none", "-q", ctx], policy: try policy(), fault: env)
        defer { removeImage(out.result) }
        #expect(out.result.code == 0, "\(out.result.stderrText)")
        #expect(out.result.stdoutText.hasPrefix("sha256:"))
        #expect(out.attempts.count == fault.failures + 1)
        #expect(out.invocation?.outcome == .succeededAfterRetry)
        #expect(out.invocation?.attempts == fault.failures + 1)
        for (i, attempt) in out.attempts.enumerated() {
            if i < fault.failures {
                #expect(attempt.exitStatus == 1)
                #expect(attempt.failureClass == fault.failureClass, "\(attempt.matchedLine ?? "-")")
                #expect(attempt.remedies.map(\.name) == Self.defaultLadder(fault.failureClass, retry: i + 1))
                for remedy in attempt.remedies {
                    // root here: every remedy can run; prunes run against this engine.
                    #expect(remedy.ran, "\(remedy.name): \(remedy.skippedReason ?? remedy.error ?? "")")
                    // drop_caches and compact_memory say which of the host policy's figures made them needed.
                    if remedy.name == "drop_caches" {
                        #expect(remedy.because?.contains("below drop_caches_max_available ") == true, "\(remedy.because ?? "-")")
                    }
                    if remedy.name == "compact_memory" {
                        #expect(remedy.because?.hasSuffix("below compact_memory_max_free 8.0 PiB") == true, "\(remedy.because ?? "-")")
                    }
                }
                #expect(out.lines.contains { $0.contains("attempt \(i + 1)/3 failed: ") }, "\(out.result.stderrText)")
            } else {
                #expect(attempt.exitStatus == 0)
                #expect(attempt.decision == "succeeded")
            }
        }
        let prunes = out.attempts.flatMap(\.remedies).filter { $0.name == "prune_build_cache" }
        for prune in prunes { #expect(prune.after["build_cache_bytes"] != nil || prune.reclaimedBytes != nil) }
    }

    /// The same through `run`: docker's status 125 for the failed attempts, the container's own output at the end.
    @Test(arguments: [injected[0], injected[6]])
    func injectedRunFailureSucceedsAfterRetry(_ fault: Injected) throws {
        var env = fault.environment
        env["DOCKER_FAULT_COUNT"] = String(fault.failures)
        let out = try sb(["run", "--rm", "--network=none", engine.image, "echo", "hello"], policy: try policy(), fault: env)
        #expect(out.result.code == 0, "\(out.result.stderrText)")
        #expect(out.result.stdoutText == "hello\n")
        #expect(out.attempts.map(\.exitStatus) == Array(repeating: 125, count: fault.failures) + [0])
        #expect(out.attempts.dropLast().allSatisfy { $0.failureClass == fault.failureClass })
    }

    /// A filled build cache: the disk_full ladder's prune_build_cache gives it back down to keep_storage, and the
    /// journal records the bytes reclaimed. The cache is real (a BuildKit build whose image is then removed, so its
    /// records are no longer shared).
    @Test func diskFullPrunesAFilledBuildCacheAndRecordsTheBytes() throws {
        let fill = try context("FROM \(engine.image)\nRUN head -c 8000000 /dev/urandom > /blob-\(UInt32.random(in: 0...UInt32.max))\n")
        let tag = TestEngine.uniqueName("sbr-fill")
        let filled = try ProcessRunner.run(
            engine.docker, ["build", "--network=none", "-q", "-t", tag, fill],
            environment: engine.environment(["DOCKER_BUILDKIT": "1"]), timeout: 120)
        #expect(filled.code == 0, "\(filled.stderrText)")
        _ = try engine.dockerRun(["rmi", tag])

        let ctx = try context("FROM \(engine.image)\nLABEL safebuild.test=retry\n")
        let out = try sb(
            ["build", "--network=none", "-q", ctx],
            // The built-in disk_full ladder is free_disk now (RealFaultEngineTests); this one tests prune_build_cache.
            policy: try policy(
                ladders: "  ladders:\n    disk_full: [[prune_build_cache]]", remedies: "  keep_storage: 1m\n  prune_until: 0s"),
            fault: ["DOCKER_FAULT_KIND": "disk", "DOCKER_FAULT_COUNT": "1"])
        defer { removeImage(out.result) }
        #expect(out.result.code == 0, "\(out.result.stderrText)")
        #expect(out.attempts.first?.failureClass == "disk_full")
        let prune = out.attempts.first?.remedies.first
        #expect(prune?.name == "prune_build_cache")
        #expect(prune?.ran == true, "\(prune?.skippedReason ?? prune?.error ?? "")")
        #expect((prune?.before["build_cache_bytes"] ?? 0) >= 8_000_000)
        #expect((prune?.after["build_cache_bytes"] ?? .max) <= 1 << 20)
        #expect((prune?.reclaimedBytes ?? 0) >= 8_000_000, "\(String(describing: prune))")
        #expect(out.invocation?.outcome == .succeededAfterRetry)
    }

    /// More failures than the policy allows attempts: safebuild stops and exits with the injected status.
    @Test func injectedFailureBeyondMaxAttemptsFailsWithDockersStatus() throws {
        let ctx = try context("FROM \(engine.image)\nLABEL safebuild.test=retry\n")
        let out = try sb(
            ["build", "--network=none", "-q", ctx], policy: try policy(maxAttempts: 2),
            fault: ["DOCKER_FAULT_KIND": "overlay", "DOCKER_FAULT_COUNT": "3"])
        #expect(out.result.code == 1)
        #expect(out.result.stdout.isEmpty)
        #expect(out.attempts.count == 2)
        #expect(out.attempts.allSatisfy { $0.failureClass == "storage_enomem" && $0.exitStatus == 1 })
        #expect(out.attempts.last?.decision.hasPrefix("give up: storage_enomem after 2 attempt(s)") == true)
        #expect(out.lines.contains { $0.contains("attempt 2/2 failed: ") }, "\(out.result.stderrText)")
        #expect(out.invocation?.outcome == .failed)
        #expect(out.invocation?.exitStatus == 1)
        #expect(out.invocation?.failureClass == "storage_enomem")
    }

    // MARK: - Host-wide coordination

    /// Eight builds fail together (the fault front's shared counter fails the first eight calls): each host-wide
    /// remedy runs once under the shared lock, the others are skipped for the cooldown, and all eight succeed.
    @Test func eightConcurrentFailingBuildsRemedyOnceAndAllSucceed() throws {
        let ctx = try context("FROM \(engine.image)\nLABEL safebuild.test=concurrent\n")
        let lockDir = dir.path + "/shared-locks"
        let policy = try policy(backoff: "1", cooldown: "60", lockDir: lockDir)
        let state = dir.path + "/shared.count"
        // One host journal for the eight, as on a build host.
        let journal = dir.path + "/concurrent.jsonl"
        var env = try environment(
            policy: policy, journal: journal, fault: ["DOCKER_FAULT_KIND": "veth", "DOCKER_FAULT_COUNT": "8"])
        env["DOCKER_FAULT_STATE"] = state
        var started: [ProcessRunner.Started] = []
        for _ in 0..<8 {
            started.append(try ProcessRunner.Started(safebuild, ["build", "--network=none", "-q", ctx], environment: env))
        }
        for process in started {
            let result = process.wait(timeout: 300)
            #expect(!result.timedOut)
            #expect(result.code == 0, "\(result.stderrText)")
            removeImage(result)
        }
        let contents = try JournalReader.read(path: journal)
        #expect(contents.invocations.count == 8)
        #expect(contents.invocations.allSatisfy { $0.outcome == .succeededAfterRetry })
        for invocation in contents.invocations {
            let first = contents.attempts.first { $0.invocation == invocation.id && $0.attempt == 1 }
            #expect(first?.failureClass == "network_enomem")
        }
        let remedies = contents.attempts.flatMap(\.remedies)
        for name in ["drop_caches", "compact_memory"] {
            let all = remedies.filter { $0.name == name }
            #expect(all.count >= 8)
            #expect(all.filter(\.ran).count == 1, "\(name) ran \(all.filter(\.ran).count) times")
            for skipped in all where !skipped.ran {
                #expect(skipped.skippedReason?.contains(" s ago for another build") == true, "\(skipped.skippedReason ?? "-")")
            }
        }
        #expect(remedies.filter { $0.name.hasPrefix("prune_") && $0.ran }.count <= 1)
    }

    // MARK: - Signals

    /// SIGTERM while safebuild waits to retry: it ends at once, starts no new attempt, and says so in the journal.
    @Test func sigtermDuringBackoffEndsWithoutANewAttempt() throws {
        let ctx = try context("FROM \(engine.image)\nLABEL safebuild.test=retry\n")
        let journal = dir.path + "/sigterm.jsonl"
        let env = try environment(
            policy: try policy(backoff: "10m"), journal: journal,
            fault: ["DOCKER_FAULT_KIND": "fork", "DOCKER_FAULT_COUNT": "1"])
        let process = try ProcessRunner.Started(safebuild, ["build", "--network=none", "-q", ctx], environment: env)
        let waiting = ProcessRunner.waitUntil(timeout: 60) {
            ((try? JournalReader.read(path: journal))?.attempts.count ?? 0) >= 1
        }
        #expect(waiting)
        process.send(SIGTERM)
        let result = process.wait(timeout: 30)
        #expect(!result.timedOut)
        #expect(result.code == 128 + SIGTERM)
        #expect(result.stderrText.contains("interrupted by SIGTERM before attempt 2; not retrying"), "\(result.stderrText)")
        let contents = try JournalReader.read(path: journal)
        #expect(contents.attempts.count == 1)
        #expect(contents.invocations.last?.outcome == .aborted)
        #expect(contents.invocations.last?.attempts == 1)
        #expect(contents.invocations.last?.exitStatus == 128 + SIGTERM)
        #expect(contents.invocations.last?.interrupted?.hasPrefix("interrupted by SIGTERM while waiting for the backoff of 10m before attempt 2") == true)
    }

    /// The wait_for_memory remedy waits for more memory than this host has (min_available 99%, which pre-flight only
    /// warns about): it says so on stderr once, and SIGTERM ends it at once: exit 143, no second attempt, the
    /// remedy's record and the invocation's say what it waited for, and no container is left.
    @Test func aWaitForMemorySaysSoAndEndsOnSIGTERM() throws {
        let journal = dir.path + "/wait-for-memory.jsonl"
        let name = TestEngine.uniqueName("sb-wait-memory")
        let env = try environment(
            policy: try policy(
                ladders: "  ladders: {network_enomem: [[wait_for_memory]]}", minAvailable: "{value: 99%, action: warn}"),
            journal: journal, fault: ["DOCKER_FAULT_KIND": "veth", "DOCKER_FAULT_COUNT": "1"])
        let process = try ProcessRunner.Started(
            safebuild, ["run", "--rm", "--name", name, "--network=none", engine.image, "true"], environment: env)
        let told = ProcessRunner.waitUntil(timeout: 60) { process.stderrSoFar.contains("waiting for MemAvailable to reach") }
        #expect(told, "\(process.stderrSoFar)")
        let (result, took) = process.signalAndWait(SIGTERM)
        #expect(!result.timedOut)
        #expect(took < 1, "ended \(took) s after SIGTERM")
        #expect(result.code == 128 + SIGTERM)
        let lines = result.stderrText.split(separator: "\n").map(String.init)
        let waiting = lines.filter { $0.hasPrefix("safebuild: waiting for MemAvailable to reach ") }
        #expect(waiting.count == 1, "\(result.stderrText)")
        #expect(waiting.first?.contains("(wait_for_memory), ") == true && waiting.first?.hasSuffix(" available now; at most 10m, Ctrl-C or SIGTERM ends the wait") == true, "\(result.stderrText)")
        let contents = try JournalReader.read(path: journal)
        #expect(contents.attempts.count == 1)
        #expect(contents.attempts.first?.decision == "aborted by SIGTERM")
        let remedy = contents.attempts.first?.remedies.first { $0.name == "wait_for_memory" }
        let why = try #require(remedy?.error)
        #expect(why.hasPrefix("interrupted by SIGTERM while waiting for MemAvailable to reach "), "\(why)")
        #expect(lines.contains { $0.hasPrefix("safebuild: attempt 1/3 failed: ") && $0.hasSuffix("; \(why); not retrying") }, "\(result.stderrText)")
        let invocation = try #require(contents.invocations.last)
        #expect(invocation.outcome == .aborted)
        #expect(invocation.exitStatus == 128 + SIGTERM)
        #expect(invocation.interrupted == why)
        let left = try engine.dockerRun(["ps", "-a", "--filter", "name=\(name)", "--format", "{{.Names}}"], timeout: 20)
        #expect(left.code == 0 && left.stdoutText.isEmpty, "\(left.stdoutText)")
    }

    /// Pre-flight's `wait` for more memory than the host has (min_available 99%): it says so once, and SIGINT (a
    /// Ctrl-C) ends it at once: exit 130, docker never started, the journal's decision and invocation say what it
    /// waited for.
    @Test func aPreflightWaitSaysSoAndEndsOnSIGINT() throws {
        let journal = dir.path + "/preflight-wait.jsonl"
        let name = TestEngine.uniqueName("sb-wait-preflight")
        let env = try environment(policy: try policy(minAvailable: "{value: 99%, action: wait}"), journal: journal)
        let process = try ProcessRunner.Started(
            safebuild, ["run", "--rm", "--name", name, "--network=none", engine.image, "true"], environment: env)
        let told = ProcessRunner.waitUntil(timeout: 60) { process.stderrSoFar.contains("waiting for available memory") }
        #expect(told, "\(process.stderrSoFar)")
        let (result, took) = process.signalAndWait(SIGINT)
        #expect(!result.timedOut)
        #expect(took < 1, "ended \(took) s after SIGINT")
        #expect(result.code == 128 + SIGINT)
        let lines = result.stderrText.split(separator: "\n").map(String.init)
        let waiting = lines.filter { $0.hasPrefix("safebuild: pre-flight: available memory ") }
        #expect(waiting.count == 1, "\(result.stderrText)")
        #expect(waiting.first?.contains(" is below min_available ") == true)
        #expect(waiting.first?.hasSuffix("; waiting for available memory to reach min_available \(waitingTarget(waiting.first)), at most 10m (preflight.wait_timeout), Ctrl-C or SIGTERM ends the wait") == true, "\(result.stderrText)")
        let contents = try JournalReader.read(path: journal)
        #expect(contents.attempts.isEmpty)
        let invocation = try #require(contents.invocations.last)
        #expect(invocation.outcome == .aborted)
        #expect(invocation.attempts == 0)
        #expect(invocation.exitStatus == 128 + SIGINT)
        let why = try #require(invocation.interrupted)
        #expect(why.hasPrefix("interrupted by SIGINT while waiting for available memory to reach min_available "), "\(why)")
        #expect(lines.contains("safebuild: \(why); docker was not started"), "\(result.stderrText)")
        #expect(invocation.preflight?.first?.message?.contains("; interrupted by SIGINT while waiting for available memory") == true)
        let left = try engine.dockerRun(["ps", "-a", "--filter", "name=\(name)", "--format", "{{.Names}}"], timeout: 20)
        #expect(left.code == 0 && left.stdoutText.isEmpty, "\(left.stdoutText)")
    }

    /// `7.6 GiB` out of `… below min_available 7.6 GiB; waiting …`.
    func waitingTarget(_ line: String?) -> String {
        guard let line, let range = line.range(of: " is below min_available ") else { return "?" }
        return String(line[range.upperBound...].prefix { $0 != ";" })
    }
}
}
