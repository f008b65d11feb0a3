import Glibc
import Foundation
import SafebuildTestSupport
import Testing
@testable import SafebuildKit

/// The attempt journal, `safebuild journal`, `safebuild retry`, the metrics file and a Jenkins abort, through the real
/// safebuild binary against the real engine (issue 6). Every container and build uses `--network=none`.
extension EngineSuites {
@Suite(.serialized) struct JournalEngineTests {
    let engine: TestEngine
    /// safebuild installed under a temporary prefix: the policy of these tests is its host policy, the only layer
    /// that sets the journal, metrics and lock directory.
    let installed: InstalledSafebuild
    var safebuild: String { installed.binary }
    let directory: TemporaryDirectory
    var journal: String { directory.path + "/journal.jsonl" }

    init() throws {
        engine = try TestEngine.current()
        installed = try InstalledSafebuild()
        directory = try TemporaryDirectory()
        try directory.directory("locks")
        try writePolicy()
    }

    /// A small policy: 64 MiB limits, no pre-flight checks (the host is shared), short backoff and stop grace.
    func writePolicy(extra: String = "") throws {
        try installed.writeHostPolicy(
            Array(
                """
                version: 1
                run: {memory: 64m}
                build: {memory: 64m}
                preflight:
                  min_available: off
                  max_pressure: off
                  max_build_cache: off
                  min_free_disk: off
                  min_free_blocks: off
                retry:
                  max_attempts: 2
                  backoff: {initial: 0.1s, max: 0.1s, jitter: 0}
                remedies:
                  lock_dir: \(directory.path)/locks
                \(extra)
                """.utf8))
    }

    /// The journal is the host's (`journal.path`, host-only); SAFEBUILD_JOURNAL names the same file for the reading
    /// commands.
    func environment(journal: String? = nil) throws -> [String: String] {
        try installed.useHostJournal(journal ?? self.journal)
        return engine.environment(["SAFEBUILD_JOURNAL": journal ?? self.journal])
    }

    func sb(_ arguments: [String], journal: String? = nil, in cwd: String? = nil, timeout: Double = 120) throws
        -> ProcessResult
    {
        try ProcessRunner.run(
            safebuild, arguments, environment: try environment(journal: journal), workingDirectory: cwd, timeout: timeout)
    }

    /// A build context with a Dockerfile (and a .dockerignore, so that safebuild has nothing to warn about);
    /// returns its path.
    func context(_ name: String, _ dockerfile: String) throws -> String {
        let dir = try directory.directory(name)
        try directory.write(name + "/Dockerfile", Array(dockerfile.utf8))
        try directory.write(name + "/.dockerignore", Array(".git\n".utf8))
        return dir
    }

    // MARK: - Reading the journal as a monitoring tool would

    struct Lines {
        /// The final record of each invocation.
        var invocations: [[String: Any]] = []
        /// The record each invocation leaves when its first attempt starts (`outcome: running`).
        var running: [[String: Any]] = []
        var attempts: [[String: Any]] = []
        var lineCount = 0
        var unparsable: [String] = []
        var endsWithNewline = true
    }

    /// Every line of the journal parsed with JSONSerialization (not safebuild's own reader).
    func readJournal(_ path: String? = nil) -> Lines {
        let bytes = (try? Data(contentsOf: URL(fileURLWithPath: path ?? journal))) ?? Data()
        var lines = Lines()
        lines.endsWithNewline = bytes.isEmpty || bytes.last == 10
        for line in bytes.split(separator: 10, omittingEmptySubsequences: false).dropLast() {
            lines.lineCount += 1
            guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                object["schema"] as? Int == 1
            else {
                lines.unparsable.append(String(decoding: line, as: UTF8.self))
                continue
            }
            switch object["kind"] as? String {
            case "invocation" where object["outcome"] as? String == "running": lines.running.append(object)
            case "invocation": lines.invocations.append(object)
            case "attempt": lines.attempts.append(object)
            default: lines.unparsable.append(String(decoding: line, as: UTF8.self))
            }
        }
        return lines
    }

    func journalJSON(_ arguments: [String], journal: String? = nil) throws -> Any {
        let result = try sb(["journal"] + arguments + ["--json"], journal: journal)
        #expect(result.code == 0, "\(result.stderrText)")
        return try JSONSerialization.jsonObject(with: Data(result.stdout), options: [.fragmentsAllowed])
    }

    func summary(journal: String? = nil) throws -> [String: Any] {
        try journalJSON(["summary"], journal: journal) as? [String: Any] ?? [:]
    }

    func safebuildLines(_ stderr: String) -> [String] {
        stderr.split(separator: "\n").map(String.init).filter { $0.hasPrefix("safebuild:") }
    }

    // MARK: - 1. Sixteen protected commands at once, one journal

    @Test func sixteenConcurrentCommandsWriteOneWholeRecordEach() throws {
        var started: [(Int, ProcessRunner.Started)] = []
        for i in 0..<16 {
            let arguments: [String]
            if i % 2 == 0 {
                arguments = ["run", "--network=none", "--rm", engine.image, "sh", "-c", "echo $0", "run-\(i)"]
            } else {
                let dir = try context("ctx\(i)", "FROM \(engine.image)\nRUN echo build-\(i)\n")
                arguments = ["build", "--network=none", "-q", "--rm", dir]
            }
            started.append((i, try ProcessRunner.Started(safebuild, arguments, environment: try environment())))
        }
        for (i, process) in started {
            let result = process.wait(timeout: 300)
            #expect(result.code == 0, "command \(i): \(result.stderrText)")
            if i % 2 == 0 { #expect(result.stdoutText == "run-\(i)\n") }
            #expect(safebuildLines(result.stderrText).isEmpty, "command \(i): \(result.stderrText)")
        }

        let lines = readJournal()
        #expect(lines.unparsable.isEmpty, "torn or unreadable lines: \(lines.unparsable)")
        #expect(lines.endsWithNewline)
        // Each invocation: its `running` record when its first attempt starts, the attempt, and its final record.
        #expect(lines.lineCount == 48)
        #expect(lines.invocations.count == 16)
        #expect(lines.attempts.count == 16)
        let ids = lines.invocations.compactMap { $0["id"] as? String }
        #expect(Set(ids).count == 16)
        #expect(Set(lines.running.compactMap { $0["id"] as? String }) == Set(ids))
        #expect(Set(lines.attempts.compactMap { $0["invocation"] as? String }) == Set(ids))
        #expect(lines.invocations.allSatisfy { $0["outcome"] as? String == "succeeded" && $0["attempts"] as? Int == 1 })
        #expect(lines.attempts.allSatisfy { $0["decision"] as? String == "succeeded" && $0["exit_status"] as? Int == 0 })
        let commands = lines.invocations.compactMap { $0["command"] as? String }
        #expect(commands.filter { $0 == "run" }.count == 8)
        #expect(commands.filter { $0 == "build" }.count == 8)

        // 6. `safebuild journal` and its summary count the same records.
        let summary = try summary()
        #expect(summary["invocations"] as? Int == 16)
        #expect(summary["attempts"] as? Int == 16)
        #expect(summary["retries"] as? Int == 0)
        #expect((summary["outcomes"] as? [String: Int])?["succeeded"] == 16)
        #expect(summary["unparsable"] as? Int == 0)
        #expect(summary["unfinished"] as? Int == 0)
        let list = try sb(["journal", "--limit", "0", "--json"])
        #expect(list.stdoutText.split(separator: "\n").count == 16)
        let table = try sb(["journal", "--limit", "0"])
        #expect(table.stdoutText.split(separator: "\n").count == 17)  // heading and 16 rows
        #expect(table.stdoutText.split(separator: "\n").dropFirst().allSatisfy { $0.contains(" succeeded ") })
    }

    // MARK: - 2. A journal that cannot be written loses no build

    enum Unwritable: String, CaseIterable, CustomTestStringConvertible {
        /// A read-only tmpfs mounted over the journal's directory (root ignores permission bits, not a read-only mount).
        case readOnlyMount
        /// The journal's directory would be under a regular file.
        case underAFile
        var testDescription: String { rawValue }
    }

    @Test(arguments: Unwritable.allCases)
    func anUnwritableJournalGivesOneWarningAndDockersResult(_ kind: Unwritable) throws {
        let path: String
        switch kind {
        case .readOnlyMount:
            let dir = try directory.directory("readonly")
            guard mount("tmpfs", dir, "tmpfs", UInt(MS_RDONLY), nil) == 0 else {
                throw TestSetupError("cannot mount a read-only tmpfs on \(dir): \(String(cString: strerror(errno)))")
            }
            path = dir + "/journal.jsonl"
        case .underAFile:
            path = try directory.write("a-file", []) + "/safebuild/journal.jsonl"
        }
        defer { if kind == .readOnlyMount { umount2(directory.path + "/readonly", Int32(MNT_DETACH)) } }

        let script = "echo out; echo err >&2; exit 3"
        let docker = try engine.dockerRun(["run", "--network=none", "--rm", engine.image, "sh", "-c", script])
        let run = try sb(["run", "--network=none", "--rm", engine.image, "sh", "-c", script], journal: path)
        #expect(run.code == docker.code)
        #expect(run.code == 3)
        #expect(run.stdout == docker.stdout)
        let stderr = run.stderrText.split(separator: "\n").map(String.init)
        #expect(stderr.filter { !$0.hasPrefix("safebuild:") } == ["err"])
        let warnings = safebuildLines(run.stderrText)
        #expect(warnings.count == 1, "\(run.stderrText)")
        #expect(warnings.first?.hasPrefix("safebuild: warning: cannot write journal \(path): ") == true)
        #expect(warnings.first?.hasSuffix("; the build goes on") == true)

        let dir = try context("unwritable-\(kind)", "FROM \(engine.image)\nRUN echo built > /built\n")
        let build = try sb(["build", "--network=none", "-q", dir], journal: path)
        #expect(build.code == 0, "\(build.stderrText)")
        #expect(build.stdoutText.hasPrefix("sha256:"))
        #expect(safebuildLines(build.stderrText).count == 1, "\(build.stderrText)")
        #expect(safebuildLines(build.stderrText).first?.hasPrefix("safebuild: warning: cannot write journal ") == true)
        #expect(access(path, F_OK) != 0)
    }

    // MARK: - 3. safebuild retry

    @Test func retryRunsAFailedBuildAgainInItsDirectoryAndLinksIt() throws {
        let dir = try context("retry", "FROM \(engine.image)\nCOPY needed.txt /needed.txt\nRUN cat /needed.txt\n")
        let failed = try sb(["build", "--network=none", "."], in: dir)
        #expect(failed.code == 1, "\(failed.stderrText)")
        #expect(failed.stderrText.contains("needed.txt"))
        let first = try #require(readJournal().invocations.last)
        let oldID = try #require(first["id"] as? String)
        #expect(first["outcome"] as? String == "failed")
        #expect(first["cwd"] as? String == dir)

        // The missing file appears; `safebuild retry` (the last failed invocation) from elsewhere runs it in `dir`.
        // Unique content, so that no earlier run's build cache hides the RUN step's output.
        let content = "here at last in \(directory.path)"
        try directory.write("retry/needed.txt", Array((content + "\n").utf8))
        let again = try sb(["retry"], in: "/")
        #expect(again.code == 0, "\(again.stderrText)")
        #expect(again.stdoutText.contains(content))
        #expect(safebuildLines(again.stderrText).first == "safebuild: retrying \(oldID) in \(dir): docker build --network=none .")
        let second = try #require(readJournal().invocations.last)
        #expect(second["retry_of"] as? String == oldID)
        #expect(second["id"] as? String != oldID)
        #expect(second["cwd"] as? String == dir)
        #expect(second["outcome"] as? String == "succeeded")
        #expect(second["argv"] as? [String] == ["build", "--network=none", "."])

        // By a prefix of the id.
        let prefix = String(oldID.dropLast(2))
        let byPrefix = try sb(["retry", prefix], in: "/")
        #expect(byPrefix.code == 0, "\(byPrefix.stderrText)")
        let third = try #require(readJournal().invocations.last)
        #expect(third["retry_of"] as? String == oldID)
        #expect(Set([oldID, second["id"] as? String, third["id"] as? String].compactMap { $0 }).count == 3)

        // An id nobody recorded.
        let unknown = try sb(["retry", "19990101-000000-zzzzzz"])
        #expect(unknown.code == 66)
        #expect(unknown.stderrText.contains("no invocation 19990101-000000-zzzzzz in the journal"))

        // 6. The summary: 3 invocations, 1 failed for good, 2 succeeded, 3 attempts.
        let summary = try summary()
        #expect(summary["invocations"] as? Int == 3)
        #expect(summary["failed_for_good"] as? Int == 1)
        #expect((summary["outcomes"] as? [String: Int])?["succeeded"] == 2)
        #expect(summary["attempts"] as? Int == 3)
        let failedOnly = try sb(["journal", "--outcome", "failed", "--json"])
        #expect(failedOnly.stdoutText.split(separator: "\n").count == 1)
        #expect(failedOnly.stdoutText.contains("\"id\":\"\(oldID)\""))
    }

    @Test func retryOfARedactedInvocationIsRefused() throws {
        let dir = try context("redacted", "FROM \(engine.image)\nARG TOKEN\nRUN test -n \"$TOKEN\"\n")
        let build = try sb(["build", "--network=none", "-q", "--build-arg", "TOKEN=s3cr3t-value", dir])
        #expect(build.code == 0, "\(build.stderrText)")
        let journalText = String(decoding: directory.read("journal.jsonl"), as: UTF8.self)
        #expect(!journalText.contains("s3cr3t-value"))
        let record = try #require(readJournal().invocations.last)
        #expect(record["redacted"] as? Bool == true)
        let id = try #require(record["id"] as? String)

        let retry = try sb(["retry", id])
        #expect(retry.code == 64)
        #expect(retry.stdout.isEmpty)
        #expect(
            retry.stderrText
                == "safebuild: error: invocation \(id) had values in its command line that the journal does not keep (of -e, --env and --build-arg only the names, and no secret); run it again yourself from \(record["cwd"] as? String ?? "?")\n")
        #expect(readJournal().invocations.count == 1)
    }

    // MARK: - 4. Metrics

    @Test func metricsFileParsesAndMatchesTheJournal() throws {
        let metrics = directory.path + "/metrics/safebuild.prom"
        try directory.directory("metrics")
        try writePolicy(extra: "journal:\n  metrics_path: \(metrics)\n")
        let ok = try sb(["run", "--network=none", "--rm", engine.image, "true"])
        #expect(ok.code == 0, "\(ok.stderrText)")
        #expect(access(metrics, R_OK) == 0)
        let failing = try sb(["run", "--network=none", "--rm", engine.image, "sh", "-c", "exit 3"])
        #expect(failing.code == 3)
        let dir = try context("metrics-build", "FROM \(engine.image)\nRUN true\n")
        let build = try sb(["build", "--network=none", "-q", dir])
        #expect(build.code == 0, "\(build.stderrText)")

        // prometheus_client's own parser; every sample as `name{k="v",…} value`, one a line.
        let python = """
            import sys
            from prometheus_client.parser import text_string_to_metric_families
            for family in text_string_to_metric_families(open(sys.argv[1]).read()):
                for s in family.samples:
                    labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
                    print(f"{s.name}{{{labels}}} {s.value:g}")
            """
        let parsed = try ProcessRunner.run("/usr/bin/env", ["python3", "-c", python, metrics])
        #expect(parsed.code == 0, "prometheus_client could not parse \(metrics): \(parsed.stderrText)")
        var samples: [String: Double] = [:]
        for line in parsed.stdoutText.split(separator: "\n") {
            let parts = line.split(separator: " ")
            samples[String(parts[0])] = Double(parts[1])
        }

        let lines = readJournal()
        #expect(lines.invocations.count == 3)
        func invocations(_ command: String, _ outcome: String) -> Double {
            Double(lines.invocations.filter { $0["command"] as? String == command && $0["outcome"] as? String == outcome }.count)
        }
        for command in ["build", "run"] {
            for outcome in JournalOutcome.allCases.map(\.rawValue) {
                #expect(
                    samples["safebuild_invocations_total{command=\"\(command)\",outcome=\"\(outcome)\"}"]
                        == invocations(command, outcome), "\(command) \(outcome)")
            }
        }
        #expect(samples["safebuild_invocations_total{command=\"run\",outcome=\"succeeded\"}"] == 1)
        #expect(samples["safebuild_invocations_total{command=\"run\",outcome=\"failed\"}"] == 1)
        #expect(samples["safebuild_invocations_total{command=\"build\",outcome=\"succeeded\"}"] == 1)
        #expect(samples["safebuild_attempts_total{}"] == Double(lines.attempts.count))
        #expect(samples["safebuild_attempts_total{}"] == 3)
        #expect(samples["safebuild_retries_total{}"] == 0)
        #expect(samples["safebuild_failures_total{class=\"not_memory\"}"] == 1)
        #expect(samples["safebuild_journal_unparsable_lines{}"] == 0)

        // 6. The summary agrees.
        let summary = try summary()
        #expect(summary["invocations"] as? Int == 3)
        #expect(summary["attempts"] as? Int == 3)
        #expect(summary["failed_for_good"] as? Int == 1)
    }

    // MARK: - 5. A Jenkins abort

    enum Aborted: String, CaseIterable, CustomTestStringConvertible {
        /// A classic build in a `RUN sleep 30` step.
        case build
        /// `run … sleep 30`: PID 1 of the container ignores SIGTERM.
        case run
        /// `run` of a shell that exits 143 on SIGTERM.
        case runStoppingOnSIGTERM
        var testDescription: String { rawValue }
        /// What safebuild exits with: docker's status (docs/jenkins.md, "When Jenkins aborts a build").
        var expectedStatus: Int32 { self == .run ? 137 : 143 }
    }

    /// As the Jenkins agent aborts a step: SIGTERM to the step's process group, then (after SoftKillWaitSeconds)
    /// SIGKILL to whatever is left. safebuild must end first, having written the attempt and the invocation.
    @Test(arguments: Aborted.allCases)
    func aJenkinsAbortLeavesNothingBehindAndIsRecorded(_ kind: Aborted) throws {
        let name = TestEngine.uniqueName("sb-abort")
        let arguments: [String]
        switch kind {
        case .build:
            let dir = try context("abort", "FROM \(engine.image)\nRUN echo step-running && sleep 30\n")
            arguments = ["build", "--network=none", "--no-cache", dir]
        case .run:
            arguments = ["run", "--network=none", "--rm", "--name", name, engine.image, "sleep", "30"]
        case .runStoppingOnSIGTERM:
            arguments = [
                "run", "--network=none", "--rm", "--name", name, engine.image, "sh", "-c",
                "trap 'exit 143' TERM; echo trap-set >&2; sleep 30 & wait",
            ]
        }
        let process = try ProcessRunner.Started(safebuild, arguments, environment: try environment(), newProcessGroup: true)
        let group = process.pid
        let running = try ProcessRunner.waitUntil(timeout: 60) {
            switch kind {
            case .build: return process.stdoutSoFar.contains("step-running")
            case .run: return try !engine.runningContainers(named: name).isEmpty
            // A run's stdout is held back until it ends (it may be retried): its stderr is live.
            case .runStoppingOnSIGTERM: return process.stderrSoFar.contains("trap-set")
            }
        }
        try #require(running, "the \(kind) did not start: \(process.stderrSoFar)")
        #expect(ProcessRunner.processes(inGroup: group).contains { $0.name == "docker" })

        process.sendToGroup(SIGTERM)
        // Jenkins' soft-kill wait (SoftKillWaitSeconds, 5 s by default; longer here, for a loaded machine).
        let endedInTime = ProcessRunner.waitUntil(timeout: 15) { process.hasExited }
        if !endedInTime { process.sendToGroup(SIGKILL) }
        let result = process.wait(timeout: 30)
        #expect(endedInTime, "safebuild was still running after the soft-kill wait: \(result.stderrText)")

        // docker's CLI dies of the SIGTERM (build); `run` forwards it to the container: a shell with a trap exits
        // 143, `sleep` as PID 1 ignores it, so safebuild kills the container after docker.stop_grace (3 s by
        // default) and docker exits with the container's 137.
        #expect(result.status == .exited(kind.expectedStatus), "\(result.stderrText)")
        let leftover = ProcessRunner.processes(inGroup: group)
        #expect(leftover.isEmpty, "left in the process group: \(leftover)")
        let noContainer = try ProcessRunner.waitUntil(timeout: 30) {
            try engine.dockerRun(["ps", "-q"], timeout: 20).stdoutText.isEmpty
        }
        #expect(noContainer, "a container is still running")
        if kind != .build {
            #expect(try engine.dockerRun(["ps", "-a", "-q", "--filter", "name=\(name)"]).stdoutText.isEmpty)
        }

        let lines = readJournal()
        #expect(lines.unparsable.isEmpty)
        let attempt = try #require(lines.attempts.last)
        #expect(attempt["decision"] as? String == "aborted by SIGTERM")
        #expect(attempt["exit_status"] as? Int == Int(result.status.code))
        let invocation = try #require(lines.invocations.last)
        #expect(invocation["outcome"] as? String == "aborted")
        #expect(invocation["exit_status"] as? Int == Int(result.status.code))
        #expect(invocation["id"] as? String == attempt["invocation"] as? String)
        #expect(safebuildLines(result.stderrText).contains { $0.contains("aborted by SIGTERM") }, "\(result.stderrText)")

        // 6. The summary counts it as aborted, not failed.
        let summary = try summary()
        #expect((summary["outcomes"] as? [String: Int])?["aborted"] == 1)
        #expect(summary["failed_for_good"] as? Int == 0)
        #expect(summary["unfinished"] as? Int == 0)
    }
}
}
