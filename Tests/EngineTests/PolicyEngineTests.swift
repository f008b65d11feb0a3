import Glibc
import Foundation
import SafebuildTestSupport
import Testing
@testable import SafebuildKit

/// The policy (issue 3) and pre-flight / doctor (issue 4) through the real safebuild binary against the real engine:
/// memory limits read back from the container's own cgroup, a broken policy stopping only protected commands, the dry
/// run, a pre-flight prune of a filled build cache, a refusal, and the doctor naming a real OOM kill.
/// Every container and build uses `--network=none` (the engine may run without a bridge). The engine should be a
/// private one: these tests prune its build cache.
extension EngineSuites {
@Suite(.serialized) struct PolicyEngineTests {
    let engine: TestEngine
    /// safebuild installed under a temporary prefix: the policies of these tests are its host policy, the only
    /// layer that sets pre-flight actions and the lock directory.
    let installed: InstalledSafebuild
    var safebuild: String { installed.binary }
    let dir: TemporaryDirectory

    init() throws {
        engine = try TestEngine.current()
        installed = try InstalledSafebuild()
        dir = try TemporaryDirectory()
        try dir.directory("locks")
    }

    /// Reads the memory limit and the memory+swap limit of the container's own cgroup (v1, else v2), one per line.
    static let readLimits =
        "f=/sys/fs/cgroup/memory; if [ -e $f/memory.limit_in_bytes ]; then cat $f/memory.limit_in_bytes; "
        + "cat $f/memory.memsw.limit_in_bytes 2>/dev/null || echo no-memsw; else cat /sys/fs/cgroup/memory.max; "
        + "echo swap:$(cat /sys/fs/cgroup/memory.swap.max 2>/dev/null || echo none); fi"

    /// A policy with every pre-flight check off, one attempt, this test's lock directory, and `extra` appended.
    func policy(
        run: String = "48m", build: String = "40m", enforce: String = "classic", maxBuildCache: String = "off",
        remedies: String = "", _ extra: String = ""
    ) throws -> String {
        try dir.write(
            "policy.yml",
            Array("""
                version: 1
                run:
                  memory: \(run)
                  swap: none
                build:
                  memory: \(build)
                  swap: none
                  enforce: \(enforce)
                preflight:
                  min_available: off
                  max_pressure: off
                  max_build_cache: \(maxBuildCache)
                  min_free_disk: off
                  min_free_blocks: off
                retry:
                  max_attempts: 1
                  backoff: {initial: 0.1s, max: 0.1s}
                remedies:
                  lock_dir: \(dir.path)/locks
                \(remedies)

                """.utf8) + Array(extra.utf8))
    }

    var journalPath: String { dir.path + "/journal.jsonl" }

    func sb(_ arguments: [String], policy: String? = nil, env: [String: String] = [:], removing: [String] = [], timeout: Double = 120)
        throws -> ProcessResult
    {
        var environment = engine.environment(["SAFEBUILD_JOURNAL": journalPath].merging(env) { $1 })
        if let policy { try installed.useAsHostPolicy(policy, journal: journalPath) } else { installed.removeHostPolicy() }
        for key in removing { environment[key] = nil }
        return try ProcessRunner.run(safebuild, arguments, environment: environment, timeout: timeout)
    }

    /// The journal's records, parsed.
    func journal() throws -> [[String: Any]] {
        let text = String(decoding: dir.read("journal.jsonl"), as: UTF8.self)
        return try text.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    /// The limits a protected `run` container sees in its cgroup, as lines.
    func runLimits(_ flags: [String], policy: String, env: [String: String] = [:]) throws -> [String] {
        let r = try sb(["run", "--rm", "--network=none"] + flags + [engine.image, "sh", "-c", Self.readLimits], policy: policy, env: env)
        #expect(r.code == 0, "\(r.stderrText)")
        return r.stdoutText.split(separator: "\n").map(String.init)
    }

    /// memsw as the swap rule `none` leaves it: equal to memory (v1), no swap (v2), or absent (no swap accounting).
    func expectNoSwap(_ lines: [String], memory: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(lines.count == 2, sourceLocation: sourceLocation)
        guard lines.count == 2 else { return }
        #expect(lines[1] == memory || lines[1] == "swap:0" || lines[1] == "no-memsw", sourceLocation: sourceLocation)
    }

    // MARK: - run: the policy's limit in the container's cgroup

    @Test func runGetsThePolicysLimitAndNoSwap() throws {
        let lines = try runLimits([], policy: try policy(run: "48m"))
        #expect(lines.first == "50331648")
        expectNoSwap(lines, memory: "50331648")
        let records = try journal()
        let invocation = try #require(records.last)
        #expect(invocation["kind"] as? String == "invocation")
        #expect(invocation["outcome"] as? String == "succeeded")
        #expect((invocation["executed_argv"] as? [String])?.contains("48m") == true)
    }

    /// The user's own -m wins over the policy in every spelling, and the swap rule (`none`) applies to the user's
    /// value: memsw 64m, where docker alone would give twice that.
    @Test(arguments: [["-m", "64m"], ["-m=64m"], ["-m64m"], ["--memory=64m"]])
    func usersOwnMemoryWinsAndGetsTheSwapRule(_ flags: [String]) throws {
        let lines = try runLimits(flags, policy: try policy(run: "48m"))
        #expect(lines.first == "67108864")
        expectNoSwap(lines, memory: "67108864")
    }

    @Test func ruleForTheImageOverridesTheDefault() throws {
        let file = try policy(run: "48m", """
            rules:
              - name: busybox images
                match: {image: "safebuild-test/*"}
                memory: 32m
              - match: {image: "other/*"}
                memory: 16m

            """)
        let lines = try runLimits([], policy: file)
        #expect(lines.first == "33554432")
        expectNoSwap(lines, memory: "33554432")
    }

    @Test func ruleForTheJobAppliesOnlyToThatJob() throws {
        let file = try policy(run: "48m", """
            rules:
              - match: {job: "nightly/*", command: run}
                memory: 24m

            """)
        #expect(try runLimits([], policy: file, env: ["JOB_NAME": "nightly/big"]).first == "25165824")
        #expect(try runLimits([], policy: file, env: ["JOB_NAME": "pr/123"]).first == "50331648")
    }

    @Test func containersOwnArgumentsAreNeverTouched() throws {
        let r = try sb(
            ["run", "--rm", "--network=none", engine.image, "sh", "-c", "echo -m 1g --memory=2g --memory-swap 3g"],
            policy: try policy())
        #expect(r.code == 0, "\(r.stderrText)")
        #expect(r.stdoutText == "-m 1g --memory=2g --memory-swap 3g\n")
    }

    // MARK: - build

    /// `DOCKER_BUILDKIT` unset and `build.enforce: classic`: safebuild picks the classic builder, whose RUN step reads
    /// the policy's build limit from its cgroup.
    @Test func classicBuildStepReadsTheBuildLimit() throws {
        let context = try dir.directory("classic")
        try dir.write("classic/Dockerfile", Array("FROM \(engine.image)\nRUN \(Self.readLimits)\n".utf8))
        let tag = TestEngine.uniqueName("sbp-classic").lowercased()
        defer { _ = try? engine.dockerRun(["rmi", "-f", tag]) }
        let r = try sb(
            ["build", "--network=none", "--no-cache", "--force-rm", "-t", tag, context], policy: try policy(build: "40m"),
            removing: ["DOCKER_BUILDKIT"])
        #expect(r.code == 0, "\(r.stderrText)")
        let lines = r.stdoutText.split(separator: "\n").map(String.init)
        #expect(lines.contains("41943040"), "\(r.stdoutText)")
        #expect(lines.contains("41943040") && (lines.filter { $0 == "41943040" }.count == 2 || lines.contains("no-memsw") || lines.contains("swap:0")))
        #expect(!r.stderrText.contains("not be enforced") && !r.stderrText.contains("will not enforce"))
        let invocation = try #require(try journal().last)
        #expect(invocation["outcome"] as? String == "succeeded")
        #expect(invocation["memory_limit_enforced"] == nil)
        #expect((invocation["executed_argv"] as? [String])?.starts(with: ["build", "--memory", "40m", "--memory-swap", "40m"]) == true)
    }

    /// `build.enforce: notice` with BuildKit chosen: the limit is passed, BuildKit ignores it, and safebuild says so
    /// rather than pretending.
    @Test func buildKitWithNoticeSaysTheLimitIsNotEnforced() throws {
        let context = try dir.directory("buildkit")
        let token = TestEngine.uniqueName("bk")
        try dir.write("buildkit/Dockerfile", Array("FROM \(engine.image)\nRUN echo \(token); cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max\n".utf8))
        let r = try sb(
            ["build", "--network=none", "--no-cache", "--progress=plain", "-o", "type=tar,dest=/dev/null", context],
            policy: try policy(build: "40m", enforce: "notice"), env: ["DOCKER_BUILDKIT": "1"])
        #expect(r.code == 0, "\(r.stderrText)")
        #expect(r.stderrText.contains(token))  // the step ran under BuildKit (its output is on stderr)
        #expect(!r.stderrText.contains("41943040"))  // BuildKit ignored the limit …
        // … and safebuild says so: BuildKit is the user's own choice here (docs/builders.md), under either enforcement.
        #expect(r.stderrText.contains("safebuild: warning: DOCKER_BUILDKIT=1 is yours: BuildKit will not enforce the memory limit (moby/buildkit#593)"))
        let invocation = try #require(try journal().last)
        #expect(invocation["kind"] as? String == "invocation")
        #expect(invocation["memory_limit_enforced"] as? Bool == false)  // … and so does the journal
    }

    // MARK: - A broken policy

    @Test func brokenPolicyStopsProtectedCommandsBeforeDockerButNotPassThrough() throws {
        let file = try dir.write("broken.yml", Array("version: 1\nrun:\n  memroy: 1g\n".utf8))
        let name = TestEngine.uniqueName("sbp-broken")
        let r = try sb(["run", "--rm", "--network=none", "--name", name, engine.image, "true"], policy: file)
        #expect(r.code == 78)
        #expect(r.stderrText.contains("\(installed.hostPolicy):3:3: error:"), "\(r.stderrText)")
        #expect(r.stderrText.contains("memory"))  // the suggestion for the misspelt key
        let ps = try engine.dockerRun(["ps", "-a", "--filter", "name=\(name)", "--format", "{{.Names}}"])
        #expect(ps.stdoutText.isEmpty)  // docker never ran
        #expect(try journal().isEmpty)

        let passThrough = try sb(["ps", "-a", "--format", "{{.Image}}"], policy: file)
        let docker = try engine.dockerRun(["ps", "-a", "--format", "{{.Image}}"])
        #expect(passThrough.code == 0)
        #expect(passThrough.stdout == docker.stdout)
        #expect(passThrough.stderr.isEmpty)
    }

    @Test func policyCheckAndShow() throws {
        let good = try policy(run: "48m")
        let check = try sb(["policy", "check", good])
        #expect(check.code == 0, "\(check.stderrText)")
        let bad = try dir.write("bad.yml", Array("version: 1\nbuild:\n  memory: 3q\n".utf8))
        let refused = try sb(["policy", "check", bad])
        #expect(refused.code == 78)
        #expect(refused.stderrText.contains("\(bad):3:11: error:"), "\(refused.stderrText)")

        let show = try sb(["policy", "show"], policy: good)
        #expect(show.code == 0, "\(show.stderrText)")
        let line = show.stdoutText.split(separator: "\n").first { $0.contains("48m") }
        #expect(line?.contains(installed.hostPolicy) == true, "\(show.stdoutText)")
    }

    // MARK: - Dry run

    @Test func dryRunPrintsACommandThatWorksAndRunsNothing() throws {
        let name = TestEngine.uniqueName("sbp-dry")
        let r = try sb(
            ["--sb-dry-run", "run", "--rm", "--network=none", "--name", name, engine.image, "sh", "-c", Self.readLimits + "; echo \"it's \\$HOME\""],
            policy: try policy(run: "48m"))
        #expect(r.code == 0, "\(r.stderrText)")
        let file = installed.hostPolicy
        #expect(r.stderrText.contains("safebuild: dry run: policy: memory 48m from run.memory at \(file):3\n"), "\(r.stderrText)")
        #expect(r.stderrText.contains("safebuild: dry run: policy: swap none (--memory-swap 48m, equal to memory) from run.swap at \(file):4\n"))
        #expect(r.stderrText.contains("safebuild: dry run: added --memory 48m --memory-swap 48m\n"))
        #expect(r.stderrText.contains("nothing was run"))
        let ps = try engine.dockerRun(["ps", "-a", "--filter", "name=\(name)", "--format", "{{.Names}}"])
        #expect(ps.stdoutText.isEmpty)
        #expect(try journal().isEmpty)
        let command = r.stdoutText
        // Exactly what docker would get: the --cidfile safebuild adds (a path not yet made) included.
        let words = command.split(separator: " ").map(String.init)
        #expect(Array(words.prefix(2)) == [engine.docker, "run"] && words.dropFirst(2).first == "--cidfile", "\(command)")
        let cidFile = words.count > 3 ? words[3] : ""
        #expect(!FileManager.default.fileExists(atPath: cidFile))
        defer { try? FileManager.default.removeItem(atPath: cidFile) }
        #expect(command.contains(" --memory 48m --memory-swap 48m --rm --network=none --name \(name) "), "\(command)")
        #expect(command.split(separator: "\n").count == 1)

        let again = try ProcessRunner.run("/bin/sh", ["-c", command], environment: engine.environment())
        #expect(again.code == 0, "\(again.stderrText)")
        let lines = again.stdoutText.split(separator: "\n").map(String.init)
        #expect(lines.first == "50331648")
        #expect(lines.last == "it's $HOME")  // quotes, $ and ; reached the container as written
        expectNoSwap(Array(lines.dropLast()), memory: "50331648")
    }

    // MARK: - Pre-flight on the build cache

    /// BuildKit's build cache in bytes, as `docker system df` reports it.
    func buildCacheBytes() throws -> Int64 {
        let r = try engine.dockerRun(["system", "df", "--format", "{{.Type}}\t{{.Size}}"])
        let line = try #require(r.stdoutText.split(separator: "\n").first { $0.hasPrefix("Build Cache\t") })
        return try #require(Remedies.humanSize(String(line.dropFirst("Build Cache\t".count))))
    }

    /// Adds about `count` × 2 MB of build cache not shared with any image (BuildKit builds exported to /dev/null).
    func fillBuildCache(_ count: Int) throws {
        let context = try dir.directory("fill-\(TestEngine.uniqueName("c"))")
        for i in 0..<count {
            let token = TestEngine.uniqueName("fill\(i)")
            try dir.write(
                String(context.dropFirst(dir.path.count + 1)) + "/Dockerfile",
                Array("FROM \(engine.image)\nRUN head -c 2000000 /dev/urandom > /fill && echo \(token)\n".utf8))
            let r = try ProcessRunner.run(
                engine.docker, ["build", "--network=none", "-q", "-o", "type=tar,dest=/dev/null", context],
                environment: engine.environment(["DOCKER_BUILDKIT": "1"]), timeout: 120)
            #expect(r.code == 0, "\(r.stderrText)")
        }
    }

    func trivialBuildContext() throws -> String {
        let context = try dir.directory("trivial")
        try dir.write("trivial/Dockerfile", Array("FROM \(engine.image)\nRUN true\n".utf8))
        return context
    }

    @Test func preflightPrunesAFullBuildCacheBeforeTheBuild() throws {
        try fillBuildCache(3)
        let before = try buildCacheBytes()
        #expect(before >= 5_000_000)
        let file = try policy(
            maxBuildCache: "{value: 1m, action: remediate}", remedies: "  keep_storage: 0\n  prune_until: 0s")
        let r = try sb(["build", "--network=none", "-q", try trivialBuildContext()], policy: file)
        #expect(r.code == 0, "\(r.stderrText)")
        #expect(r.stderrText.contains("safebuild: pre-flight: pruned ") && r.stderrText.contains(" of build cache"), "\(r.stderrText)")
        let attempt = try #require(try journal().first { $0["kind"] as? String == "attempt" })
        #expect(attempt["attempt"] as? Int == 1)
        let remedies = attempt["remedies"] as? [[String: Any]] ?? []
        let prune = try #require(remedies.first { $0["name"] as? String == "prune_build_cache" }, "\(attempt)")
        #expect(prune["ran"] as? Bool == true)
        #expect((prune["reclaimed_bytes"] as? Int64 ?? (prune["reclaimed_bytes"] as? Int).map(Int64.init) ?? 0) > 0, "\(prune)")
        let preflight = attempt["preflight"] as? [[String: Any]] ?? []
        #expect(preflight.contains { $0["check"] as? String == "max_build_cache" }, "\(attempt)")
        #expect(try buildCacheBytes() < before)
    }

    @Test func preflightRefusesAboveTheThresholdAndRunsNothing() throws {
        try fillBuildCache(1)
        let before = try buildCacheBytes()
        #expect(before >= 1_000_000)
        let tag = TestEngine.uniqueName("sbp-refused").lowercased()
        let r = try sb(
            ["build", "--network=none", "-q", "-t", tag, try trivialBuildContext()],
            policy: try policy(maxBuildCache: "{value: 1k, action: refuse}"))
        #expect(r.code == 75, "\(r.stderrText)")
        #expect(r.stderrText.contains("max_build_cache"), "\(r.stderrText)")
        let records = try journal()
        #expect(!records.contains { $0["kind"] as? String == "attempt" })  // docker never ran
        let invocation = try #require(records.last)
        #expect(invocation["kind"] as? String == "invocation")
        #expect(invocation["outcome"] as? String == "refused")
        #expect(invocation["exit_status"] as? Int == 75)
        #expect(invocation["attempts"] as? Int == 0)
        let image = try engine.dockerRun(["image", "inspect", tag])
        #expect(image.code != 0)  // no image was built
        #expect(try buildCacheBytes() == before)  // and nothing was pruned
    }

    // MARK: - Doctor

    /// A real OOM kill (a container over its own 8m limit), then `safebuild doctor --json`: the report names the kill
    /// by its container and the build cache, and the exit status is the worst finding's.
    @Test func doctorNamesARealOOMKillAndTheBuildCache() throws {
        let cid = dir.path + "/oom.cid"
        let hog = "x=$(head -c 12000000 /dev/zero | tr '\\0' a); echo ${#x}"
        let oom = try engine.dockerRun(["run", "--rm", "--network=none", "--cidfile", cid, "-m", "8m", engine.image, "sh", "-c", hog])
        #expect(oom.code == 137)
        let container = String(decoding: dir.read("oom.cid"), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(container.count == 64)

        let r = try sb(["doctor", "--json"], timeout: 60)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout)) as? [String: Any], "\(r.stderrText)")
        #expect(report["status"] as? Int == Int(r.code))
        let findings = report["findings"] as? [[String: Any]] ?? []
        let levels = findings.compactMap { $0["level"] as? String }
        let worst: Int32 = levels.contains("problem") ? 2 : levels.contains("warning") ? 1 : 0
        #expect(r.code == worst)
        let areas = Set(findings.compactMap { $0["area"] as? String })
        for area in ["memory", "swap", "psi", "fragmentation", "oom-kill", "build-cache", "docker-root-disk", "engine"] {
            #expect(areas.contains(area), "doctor did not report \(area): \(areas.sorted())")
        }
        #expect(areas.contains { $0.hasPrefix("vm.") } && areas.contains { $0.hasPrefix("cgroup") }, "\(areas.sorted())")
        let kill = findings.first {
            $0["area"] as? String == "oom-kill" && ($0["value"] as? String)?.contains(String(container.prefix(12))) == true
        }
        #expect(kill != nil, "\(findings.filter { $0["area"] as? String == "oom-kill" })")

        let text = try sb(["doctor"], timeout: 60)
        #expect(text.code == r.code)
        #expect(text.stdoutText.contains("build-cache: "))
        #expect(text.stdoutText.contains("in container \(container.prefix(12))"))

        // With the daemon down (or hanging), --no-engine still diagnoses the host and asks no daemon.
        let host = try sb(["doctor", "--no-engine"], env: ["DOCKER_HOST": "unix:///nonexistent/docker.sock"], timeout: 60)
        #expect(host.stdoutText.contains("in container \(container.prefix(12))"), "\(host.stdoutText)")
        #expect(host.stdoutText.contains("memory: "))
        #expect(!host.stdoutText.contains("engine: ") && !host.stdoutText.contains("build-cache: "))
    }
}
}
