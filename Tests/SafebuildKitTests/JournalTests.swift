import Testing
import Foundation
import Glibc
import SafebuildTestSupport
@testable import SafebuildKit

/// The fixture journal (Fixtures/journal/README.md says what it holds).
let journalFixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Fixtures/journal/journal.jsonl").path
/// 2026-11-23T10:00:00Z, just after the fixture's last record.
let fixtureNow = JournalTime.parse("2026-11-23T10:00:00Z")!

func temporaryDirectory(_ name: String) -> String {
    let dir = "/tmp/sb-journal-tests-\(getpid())-\(name)-\(Int.random(in: 0..<1_000_000))"
    mkdir(dir, 0o755)
    return dir
}

func removeTree(_ dir: String) {
    try? FileManager.default.removeItem(atPath: dir)
}

func sampleAttempt(invocation: String = "20261123-094236-3f9a2c", attempt: Int = 2, filler: String = "")
    -> AttemptRecord
{
    AttemptRecord(
        invocation: invocation, attempt: attempt, maxAttempts: 3, started: "2026-11-23T09:42:36.123Z",
        ended: "2026-11-23T09:43:36.000Z", durationSeconds: 59.877,
        argv: ["build", "-m", "2g", "-t", "app:1", "--label", "filler=\(filler)", "."],
        preflight: [JournalDecision(check: "mem_available", measured: 2.1e9, limit: 5.12e8, unit: "bytes", action: "ok")],
        exitStatus: 1, failureClass: "network_enomem",
        matchedLine: "failed to create endpoint x on network bridge: failed to add the host (a) <=> sandbox (b) pair interfaces: cannot allocate memory",
        remedies: [
            JournalRemedy(
                name: "prune_build_cache", ran: true, before: ["build_cache_bytes": 1_400_000_000],
                after: ["build_cache_bytes": 200_000_000], reclaimedBytes: 1_200_000_000, seconds: 3.2),
            JournalRemedy(
                name: "drop_caches", ran: true, before: ["mem_available_bytes": 1_000_000_000],
                after: ["mem_available_bytes": 1_840_000_000], seconds: 0.4),
        ],
        decision: AttemptDecision.retry(afterSeconds: 4).text)
}

@Suite("Journal")
struct JournalTests {
    /// `safebuild journal ARGUMENTS…` on the fixture, at `fixtureNow`; stdout goes to `print`.
    func journal(_ arguments: [String], print: @escaping (String) -> Void) throws(SafebuildError) -> Int32 {
        var options = SafebuildOptions()
        options.journalPath = journalFixture
        return try runOwn(["journal"] + arguments, options: options, now: fixtureNow, out: print).status
    }

    // MARK: - Summary and filters on the fixture

    @Test func fixtureSummaryMatchesItsKnownCounts() throws {
        let contents = try JournalReader.read(path: journalFixture)
        #expect(contents.files.map { ($0 as NSString).lastPathComponent } == ["journal.jsonl.1", "journal.jsonl"])
        let s = JournalSummary(contents)
        #expect(s.invocations == 7)
        #expect(s.outcomes == [
            "succeeded": 2, "succeeded_after_retry": 2, "failed": 1, "refused": 1, "aborted": 1,
        ])
        #expect(s.savedByRetry == 2)
        #expect(s.failedForGood == 1)
        #expect(s.attempts == 11)
        #expect(s.retries == 5)
        #expect(s.unfinished == 1)
        #expect(s.unparsable == 2)
        #expect(s.byClass.map(\.failureClass) == ["oom_container", "network_enomem", "storage_enomem"])
        #expect(s.byClass[0] == .init(failureClass: "oom_container", failedAttempts: 3, saved: 0, failed: 1))
        #expect(s.byClass[1] == .init(failureClass: "network_enomem", failedAttempts: 2, saved: 2, failed: 0))
        #expect(s.byClass[2] == .init(failureClass: "storage_enomem", failedAttempts: 1, saved: 1, failed: 0))
        #expect(s.remedies == [
            .init(name: "drop_caches", ran: 3, skipped: 0, failed: 0, reclaimedBytes: 0),
            .init(name: "prune_build_cache", ran: 2, skipped: 1, failed: 0, reclaimedBytes: 1_500_000_000),
            .init(name: "compact_memory", ran: 1, skipped: 0, failed: 1, reclaimedBytes: 0),
        ])
        #expect(s.remediesRun == 6)
        #expect(s.reclaimedBytes == 1_500_000_000)
    }

    @Test func summaryTextAndJSONSayTheSame() throws {
        var text = ""
        _ = try journal(["summary"]) { text += $0 }
        #expect(text.contains("invocations:      7\n"))
        #expect(text.contains("saved by a retry: 2\n"))
        #expect(text.contains("failed for good:  1\n"))
        #expect(text.contains("attempts:         11 (5 retries)\n"))
        #expect(text.contains("remedies run:     6, reclaimed 1.5 GB\n"))
        #expect(text.contains("unreadable lines skipped: 2"))
        var json = ""
        _ = try journal(["summary", "--json"]) {
            json += $0
        }
        let decoded = try JSONDecoder().decode(JournalSummary.self, from: Data(json.utf8))
        #expect(decoded == JournalSummary(try JournalReader.read(path: journalFixture)))
        #expect(json.contains("\"saved_by_retry\":2"))
    }

    @Test(arguments: [
        ([String](), ["aaaaaa", "bbbbbb", "cccccc", "dddddd", "eeeeee", "ffffff", "gggggg"]),
        (["--since", "35m"], ["093000-ffffff", "gggggg"]),
        (["--since", "2026-11-23T09:15"], ["eeeeee", "ffffff", "gggggg"]),
        (["--outcome", "failed,aborted"], ["cccccc", "eeeeee"]),
        (["--outcome=succeeded_after_retry"], ["bbbbbb", "ffffff"]),
        (["--class", "oom_container"], ["cccccc"]),
        (["--image", "app:*"], ["aaaaaa", "bbbbbb", "eeeeee"]),
        (["--image", "busybox"], ["dddddd", "gggggg"]),
        (["--job", "app-*"], ["aaaaaa", "bbbbbb", "eeeeee"]),
        (["--job", "web/*", "--outcome", "succeeded_after_retry"], ["ffffff"]),
        (["--limit", "2"], ["ffffff", "gggggg"]),
    ])
    func listFilters(arguments: [String], expected: [String]) throws {
        var out = ""
        let limit = arguments.contains("--limit") ? [] : ["--limit", "0"]
        _ = try journal(["--json"] + limit + arguments) { out += $0 }
        let ids = try out.split(separator: "\n").map {
            try JSONDecoder().decode(InvocationRecord.self, from: Data($0.utf8)).id
        }
        #expect(ids.count == expected.count)
        for (id, suffix) in zip(ids, expected) { #expect(id.hasSuffix(suffix)) }
    }

    @Test func listTableShowsOneRowPerInvocation() throws {
        var out = ""
        _ = try journal(["--outcome", "failed"]) {
            out += $0
        }
        let lines = out.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines[0].hasPrefix("TIME"))
        #expect(lines[1].hasPrefix("2026-11-23 09:00:00 20261123-090000-cccccc failed"))
        #expect(lines[1].contains("oom_container"))
        #expect(lines[1].contains("run node:20"))
    }

    @Test func badFiltersSayWhatToGive() {
        #expect(throws: SafebuildError.self) {
            try journal(["--since", "yesterday"]) { _ in }
        }
        do {
            _ = try journal(["--outcome", "broken"]) { _ in }
            Issue.record("no error")
        } catch {
            #expect(error.status == .usage)
            #expect(error.message.contains("succeeded_after_retry"))
        }
    }

    @Test func showPrintsEveryRecordOfOneInvocation() throws {
        var out = ""
        _ = try journal(["show", "20261123-0900"]) {
            out += $0
        }
        #expect(out.contains("attempt 1/3: 2026-11-23T09:00:00.000Z (2m), exit status 137, class oom_container"))
        #expect(out.contains("  remedy prune_build_cache: skipped (no build cache to prune)"))
        #expect(out.contains("  remedy compact_memory: compacted memory (failed: permission denied) in 0.2s"))
        #expect(out.contains("  decision: give up: no attempts left"))
        #expect(out.hasPrefix("invocation 20261123-090000-cccccc\n"))
        var refused = ""
        _ = try journal(["show", "20261123-091000"]) {
            refused += $0
        }
        #expect(refused.contains("  pre-flight: 310 MB of memory available, below the 512 MB the policy requires\n"))
        var json = ""
        _ = try journal(["show", "20261123-090000-cccccc", "--json"]) { json += $0 }
        #expect(json.split(separator: "\n").count == 4)
    }

    @Test func retryLookUps() throws {
        let last = try Journal.lastFailed(path: journalFixture)
        #expect(last.id == "20261123-092000-eeeeee")
        #expect(last.cwd == "/var/lib/jenkins/workspace/app")
        #expect(last.argv == ["build", "-t", "app:1", "."])
        #expect(try Journal.find(id: "20261123-0900", path: journalFixture).outcome == .failed)
        #expect(try Journal.find(id: "20261123-083000-bbbbbb", path: journalFixture).redacted)
        do {
            _ = try Journal.find(id: "20261123-09", path: journalFixture)
            Issue.record("an ambiguous id was accepted")
        } catch {
            #expect(error.status == .usage)
            #expect(error.message.contains("matches 5 invocations"))
        }
        #expect(throws: SafebuildError(
            .noInput, "no invocation nope in the journal \(journalFixture); 'safebuild journal' lists the recorded ones")
        ) { try Journal.find(id: "nope", path: journalFixture) }
    }

    // MARK: - Records

    @Test func schemaRoundTripsWithSnakeCaseKeysAndNoNulls() throws {
        let invocation = InvocationRecord(
            id: Journal.newID(), retryOf: "20261123-080000-aaaaaa", started: "2026-11-23T09:42:36.123Z",
            ended: "2026-11-23T09:45:00.000Z", durationSeconds: 143.877, host: "agent-07", user: "jenkins", uid: 1000,
            cwd: "/w", command: "build", argv: ["build", "."], executedArgv: ["build", "-m", "2g", "."],
            policySource: "built-in", tags: ["app:1"], outcome: .succeededAfterRetry, attempts: 2, exitStatus: 0,
            failureClass: "network_enomem", ci: JournalCI(environment: ["JOB_NAME": "app", "BUILD_NUMBER": "7"]))
        let line = String(decoding: try JournalCoding.line(invocation), as: UTF8.self)
        #expect(line.hasPrefix("{\"schema\":1,\"kind\":\"invocation\""))
        #expect(line.hasSuffix("}\n"))
        #expect(line.filter { $0 == "\n" }.count == 1)
        for key in ["retry_of", "duration_seconds", "executed_argv", "policy_source", "exit_status", "failure_class",
                    "job_name", "build_number"] {
            #expect(line.contains("\"\(key)\":"))
        }
        #expect(!line.contains("null"))
        #expect(!line.contains("image"))
        let attempt = sampleAttempt(filler: "two\nlines")
        let attemptLine = try JournalCoding.line(attempt)
        #expect(attemptLine.filter { $0 == 10 }.count == 1)
        var contents = JournalContents()
        JournalReader.parse(Data(try JournalCoding.line(invocation) + attemptLine), into: &contents, decoder: JSONDecoder())
        #expect(contents.records == [.invocation(invocation), .attempt(attempt)])
        #expect(contents.unparsable == 0)
    }

    @Test func idsSortByTime() {
        let a = Journal.newID(now: JournalTime.parse("2026-11-23T09:42:36Z")!)
        let b = Journal.newID(now: JournalTime.parse("2026-11-23T09:42:37Z")!)
        #expect(a.hasPrefix("20261123-094236-"))
        #expect(a.count == 22)
        #expect(a < b)
    }

    @Test(arguments: [
        ("2026-11-23T09:42:36.123Z", 1_795_426_956.123),
        ("2026-11-23T10:42:36.123+01:00", 1_795_426_956.123),
        ("2026-11-23T09:42", 1_795_426_920),
        ("2026-11-23", 1_795_392_000),
    ])
    func timesParse(text: String, seconds: Double) {
        #expect(abs(JournalTime.parse(text)! - seconds) < 0.0005)
    }

    @Test func timesFormatAsRFC3339UTC() {
        #expect(JournalTime.format(1_795_426_956.123) == "2026-11-23T09:42:36.123Z")
        #expect(JournalTime.format(1_795_426_956.9996) == "2026-11-23T09:42:37.000Z")
        #expect(JournalTime.parse("23/11/2026") == nil)
    }

    @Test func ciContextComesFromJenkinsVariables() {
        let ci = JournalCI(environment: [
            "JOB_NAME": "app/main", "BUILD_NUMBER": "42", "BUILD_URL": "https://bot:s3cret@ci.example.com/job/app/42/",
            "NODE_NAME": "agent-07", "GIT_COMMIT": "3f1c2ab", "HOME": "/root",
        ])
        #expect(ci == JournalCI(
            jobName: "app/main", buildNumber: "42", buildURL: "https://bot:***@ci.example.com/job/app/42/",
            nodeName: "agent-07", gitCommit: "3f1c2ab"))
        #expect(JournalCI(environment: ["HOME": "/root"]) == nil)
    }

    @Test(arguments: [
        (["build", "-t", "app:1", "--tag=app:latest", "-tweb:2", "."], ["app:1", "app:latest", "web:2"]),
        (["-H", "unix:///x.sock", "image", "build", "--tag", "a", "-t=b", "."], ["a", "b"]),
        (["build", "."], nil),
    ] as [([String], [String]?)])
    func tagsOfABuild(argv: [String], tags: [String]?) {
        #expect(Journal.tags(in: DockerCommandLine(argv)) == tags)
    }

    @Test func contextIsThisProcess() {
        let context = Journal.Context.current(environment: ["JOB_NAME": "app", "USER": "ignored-when-passwd-knows"])
        #expect(context.uid == getuid())
        #expect(context.cwd == FileManager.default.currentDirectoryPath)
        #expect(!context.host.isEmpty && context.host != "unknown")
        #expect(context.user == (getuid() == 0 ? "root" : context.user))
        #expect(context.ci?.jobName == "app")
    }

    // Redaction: RedactionTests.

    // MARK: - Writing

    @Test func rotationKeepsNFilesAndReadersSeeThemAll() throws {
        let dir = temporaryDirectory("rotate")
        defer { removeTree(dir) }
        let path = dir + "/journal.jsonl"
        let line = try JournalCoding.line(sampleAttempt())
        var warnings: [String] = []
        let writer = JournalWriter(path: path, maxBytes: Int64(line.count * 3), keep: 2) { warnings.append($0) }
        for n in 1...10 { #expect(writer.append(sampleAttempt(attempt: n))) }
        #expect(warnings.isEmpty)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        #expect(names == ["journal.jsonl", "journal.jsonl.1", "journal.jsonl.2"])
        // 10 records, 3 per file: 1-3 | 4-6 | 7-9 | 10; the oldest file was dropped.
        let contents = try JournalReader.read(path: path)
        #expect(contents.attempts.map(\.attempt) == [4, 5, 6, 7, 8, 9, 10])
        #expect(contents.unparsable == 0)
    }

    @Test func sixteenConcurrentWritersNeverTearALine() throws {
        let dir = temporaryDirectory("concurrent")
        defer { removeTree(dir) }
        let path = dir + "/journal.jsonl"
        let perWriter = 25
        // Lines of about 20 kB, larger than a pipe buffer or a page, and rotation happening while they write.
        let filler = String(repeating: "x", count: 20_000)
        let maxBytes: Int64 = 2 << 20
        // 16 processes.
        var children: [pid_t] = []
        for w in 0..<16 {
            let lines = try (1...perWriter).map {
                try JournalCoding.line(sampleAttempt(invocation: "process-\(w)", attempt: $0, filler: filler))
            }
            let pid = fork()
            if pid == 0 {
                for line in lines where JournalWriter.append(line: line, to: path, maxBytes: maxBytes, keep: 100) != nil {
                    _exit(1)
                }
                _exit(0)
            }
            #expect(pid > 0)
            children.append(pid)
        }
        // And 16 threads in this process.
        DispatchQueue.concurrentPerform(iterations: 16) { w in
            let writer = JournalWriter(path: path, maxBytes: maxBytes, keep: 100) { _ in }
            for n in 1...perWriter {
                _ = writer.append(sampleAttempt(invocation: "thread-\(w)", attempt: n, filler: filler))
            }
        }
        for pid in children {
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            #expect(status == 0)
        }
        let contents = try JournalReader.read(path: path)
        #expect(contents.unparsable == 0)
        #expect(contents.files.count > 1)
        #expect(contents.attempts.count == 32 * perWriter)
        let byWriter = Dictionary(grouping: contents.attempts, by: \.invocation)
        #expect(byWriter.count == 32)
        // Each writer's records are in order, each exactly once.
        #expect(byWriter.values.allSatisfy { $0.map(\.attempt) == Array(1...perWriter) })
    }

    @Test func aReadOnlyDirectoryGivesOneWarningAndNeverThrows() throws {
        let dir = temporaryDirectory("readonly")
        defer {
            umount2(dir, Int32(MNT_DETACH))
            removeTree(dir)
        }
        // A real read-only file system where this test may mount one (as root); else a directory without write
        // permission (which stops anyone but root).
        if mount("tmpfs", dir, "tmpfs", UInt(MS_RDONLY), nil) != 0 {
            guard getuid() != 0 else { return }
            chmod(dir, 0o555)
        }
        var warnings: [String] = []
        let writer = JournalWriter(path: dir + "/safebuild/journal.jsonl") { warnings.append($0) }
        #expect(!writer.append(sampleAttempt()))
        #expect(!writer.append(sampleAttempt(attempt: 3)))
        #expect(warnings.count == 1)
        #expect(warnings.first?.hasPrefix("cannot write journal \(dir)/safebuild/journal.jsonl: \(dir)/safebuild: cannot create directory: ") == true)
        #expect(warnings.first?.hasSuffix("; the build goes on") == true)
    }

    @Test func defaultPathPrefersTheSystemDirectory() {
        let dir = temporaryDirectory("default")
        defer { removeTree(dir) }
        // Missing, and its parent missing too: the user's state directory.
        #expect(Journal.defaultPath(environment: ["XDG_STATE_HOME": "/st"], systemDirectory: dir + "/log/safebuild")
            == "/st/safebuild/journal.jsonl")
        #expect(Journal.defaultPath(environment: [:], systemDirectory: dir + "/safebuild") == dir + "/safebuild/journal.jsonl")
        // Cannot be made (its parent is a file).
        let file = dir + "/file"
        #expect(FileManager.default.createFile(atPath: file, contents: Data()))
        #expect(Journal.defaultPath(environment: ["XDG_STATE_HOME": "/st"], systemDirectory: file + "/safebuild")
            == "/st/safebuild/journal.jsonl")
        #expect(Journal.defaultPath(environment: ["HOME": "/home/u"], systemDirectory: file + "/safebuild")
            == "/home/u/.local/state/safebuild/journal.jsonl")
        var options = SafebuildOptions()
        #expect(Journal.path(options: options, policyPath: "/p.jsonl", environment: [:]) == "/p.jsonl")
        options.journalPath = "/o.jsonl"
        #expect(Journal.path(options: options, policyPath: "/p.jsonl", environment: [:]) == "/o.jsonl")
    }

    /// A protected command writes the host's journal, whatever a job's `--sb-journal` / `SAFEBUILD_JOURNAL` say: the
    /// host value, the option (`asked`, as `SafebuildOptions` holds it: the option wins over the variable), the
    /// variable → the path and the warning.
    @Test(arguments: [
        // Nothing asked, or the host's own file asked: no word.
        ("/var/log/sb/j.jsonl", nil, nil, "/var/log/sb/j.jsonl", nil),
        ("/var/log/sb/j.jsonl", "/var/log/sb/j.jsonl", "/var/log/sb/j.jsonl", "/var/log/sb/j.jsonl", nil),
        // The variable alone.
        ("/var/log/sb/j.jsonl", "/tmp/elsewhere", "/tmp/elsewhere", "/var/log/sb/j.jsonl",
         "SAFEBUILD_JOURNAL only chooses the journal that safebuild journal/retry read; this run is recorded in /var/log/sb/j.jsonl (journal.path of the host policy /etc/safebuild/policy.yml)"),
        // The option alone.
        ("/var/log/sb/j.jsonl", "/tmp/o.jsonl", nil, "/var/log/sb/j.jsonl",
         "--sb-journal only chooses the journal that safebuild journal/retry read; this run is recorded in /var/log/sb/j.jsonl (journal.path of the host policy /etc/safebuild/policy.yml)"),
        // Both, naming two other files: said once, naming both.
        ("/var/log/sb/j.jsonl", "/tmp/o.jsonl", "/tmp/elsewhere", "/var/log/sb/j.jsonl",
         "--sb-journal and SAFEBUILD_JOURNAL only choose the journal that safebuild journal/retry read; this run is recorded in /var/log/sb/j.jsonl (journal.path of the host policy /etc/safebuild/policy.yml)"),
        // The option names the host's journal, the variable another.
        ("/var/log/sb/j.jsonl", "/var/log/sb/j.jsonl", "/tmp/elsewhere", "/var/log/sb/j.jsonl",
         "SAFEBUILD_JOURNAL only chooses the journal that safebuild journal/retry read; this run is recorded in /var/log/sb/j.jsonl (journal.path of the host policy /etc/safebuild/policy.yml)"),
        // No journal.path (a policy cannot empty it, but the choice does not rely on that): the default place.
        ("", "/tmp/elsewhere", "/tmp/elsewhere", "/home/ci/.local/state/safebuild/journal.jsonl",
         "SAFEBUILD_JOURNAL only chooses the journal that safebuild journal/retry read; this run is recorded in /home/ci/.local/state/safebuild/journal.jsonl (the default place)"),
    ] as [(String, String?, String?, String, String?)])
    func aProtectedCommandWritesTheHostsJournal(
        host: String, asked: String?, variable: String?, path: String, warning: String?
    ) {
        var options = SafebuildOptions()
        options.journalPath = asked
        let environment = variable.map { ["SAFEBUILD_JOURNAL": $0] } ?? [:]
        let choice = Journal.forWriting(
            hostPath: host, hostPolicy: "/etc/safebuild/policy.yml", options: options, environment: environment,
            orElse: "/home/ci/.local/state/safebuild/journal.jsonl")
        #expect(choice == Journal.Choice(path: path, warning: warning))
    }

    /// The engine tests' helper that makes a test's journal the host's (`InstalledSafebuild.useHostJournal`).
    @Test(arguments: [
        ("version: 1\nrun: {memory: 64m}\n", "version: 1\nrun: {memory: 64m}\njournal:\n  path: /j\n"),
        ("version: 1", "version: 1\njournal:\n  path: /j\n"),
        ("journal: {path: /old, keep: 1}\n", "journal: {path: /j, keep: 1}\n"),
        ("journal: {keep: 1}\n", "journal: {path: /j, keep: 1}\n"),
        ("journal:\n    metrics_path: /m\nretry: {}\n", "journal:\n    path: /j\n    metrics_path: /m\nretry: {}\n"),
        ("journal:\n  keep: 1\n  path: /old\nretry: {}\n", "journal:\n  keep: 1\n  path: /j\nretry: {}\n"),
    ])
    func hostPolicyTextSetsTheJournal(text: String, expected: String) {
        #expect(HostPolicyText.settingJournal(text, to: "/j") == expected)
    }

    @Test("the built-in journal.path is named as such when the host policy sets none")
    func theBuiltInJournalPathIsNamed() {
        var options = SafebuildOptions()
        options.journalPath = "/tmp/o.jsonl"
        let choice = Journal.forWriting(
            hostPath: "/var/log/safebuild/journal.jsonl", hostPolicy: nil, options: options, environment: [:],
            orElse: "/unused")
        #expect(choice.warning == "--sb-journal only chooses the journal that safebuild journal/retry read; this run is recorded in /var/log/safebuild/journal.jsonl (the built-in journal.path; the host policy sets none)")
    }

    // MARK: - Console lines

    @Test func attemptLineReadsLikeTheIssueSays() {
        let line = ConsoleReport.attemptLine(
            sampleAttempt(), reason: "cannot allocate memory while creating the network endpoint",
            decision: .retry(afterSeconds: 4))
        #expect(line == "attempt 2/3 failed: cannot allocate memory while creating the network endpoint; pruned 1.2 GB of build cache, dropped caches (+840 MB available); retrying in 4 s")
    }

    @Test func otherAttemptLines() {
        var a = sampleAttempt(attempt: 3)
        a.remedies = []
        a.exitStatus = 137
        #expect(ConsoleReport.attemptLine(a, decision: .giveUp(reason: "no attempts left"))
            == "attempt 3/3 failed: exit status 137 (killed: out of memory or SIGKILL); giving up: no attempts left")
        a.exitStatus = 143
        a.signal = SIGTERM
        #expect(ConsoleReport.attemptLine(a, decision: .aborted(signal: SIGTERM))
            == "attempt 3/3 aborted by SIGTERM; docker stopped, exit status 143")
        #expect(ConsoleReport.attemptLine(sampleAttempt(attempt: 2), decision: .succeeded)
            == "attempt 2/3 succeeded after 1 failed")
        #expect(AttemptDecision.retry(afterSeconds: 4).text == "retry in 4s")
        #expect(AttemptDecision.aborted(signal: SIGTERM).text == "aborted by SIGTERM")
        #expect(ConsoleReport.refusal([
            JournalDecision(check: "mem_available", measured: 3.1e8, limit: 5.12e8, unit: "bytes", action: "refuse"),
            JournalDecision(check: "disk_free", measured: 4e10, limit: 5e9, unit: "bytes", action: "ok"),
        ]) == "pre-flight refused to start docker: mem available 310 MB (limit 512 MB): refuse")
    }

    @Test(arguments: [
        (Int64(0), "0 B"), (512, "512 B"), (999, "999 B"), (1000, "1 kB"), (3_400, "3.4 kB"), (840_000_000, "840 MB"),
        (1_200_000_000, "1.2 GB"), (12_400_000_000, "12 GB"), (999_999_999, "1 GB"), (2_500_000_000_000, "2.5 TB"),
    ])
    func bytesInDecimalUnits(n: Int64, text: String) {
        #expect(ConsoleReport.bytes(n) == text)
    }

    // MARK: - Metrics

    @Test func metricsParseWithPrometheusClientAndMatchTheJournal() throws {
        let dir = temporaryDirectory("metrics")
        defer { removeTree(dir) }
        let path = dir + "/safebuild.prom"
        #expect(Metrics.write(journalPath: journalFixture, to: path) == nil)
        // No temporary file is left; the counts made are cached beside it.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["safebuild.prom", "safebuild.prom.cache"])
        let script = """
            import json, sys
            from prometheus_client.parser import text_string_to_metric_families
            out = {}
            for family in text_string_to_metric_families(open(sys.argv[1]).read()):
                for s in family.samples:
                    key = s.name + ("{" + ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items())) + "}" if s.labels else "")
                    out[key] = [family.type, s.value]
            print(json.dumps(out))
            """
        let result = try Command("/usr/bin/env", ["python3", "-c", script, path], timeout: 60).run()
        #expect(result.succeeded, "\(result.stderr)")
        let parsed = try JSONDecoder().decode([String: [Value]].self, from: Data(result.stdout.utf8))
        func value(_ key: String) -> Double? { parsed[key]?.last?.number }
        #expect(value("safebuild_invocations_total{command=\"build\",outcome=\"succeeded\"}") == 1)
        #expect(value("safebuild_invocations_total{command=\"build\",outcome=\"succeeded_after_retry\"}") == 2)
        #expect(value("safebuild_invocations_total{command=\"build\",outcome=\"aborted\"}") == 1)
        #expect(value("safebuild_invocations_total{command=\"run\",outcome=\"failed\"}") == 1)
        #expect(value("safebuild_invocations_total{command=\"run\",outcome=\"refused\"}") == 1)
        #expect(value("safebuild_invocations_total{command=\"run\",outcome=\"succeeded\"}") == 1)
        #expect(value("safebuild_invocations_total{command=\"run\",outcome=\"aborted\"}") == 0)
        // Every attempt record counts, the unfinished invocation's too.
        #expect(value("safebuild_attempts_total") == 12)
        #expect(value("safebuild_retries_total") == 5)
        #expect(value("safebuild_failures_total{class=\"oom_container\"}") == 4)
        #expect(value("safebuild_failures_total{class=\"network_enomem\"}") == 2)
        #expect(value("safebuild_failures_total{class=\"storage_enomem\"}") == 1)
        #expect(value("safebuild_remedies_total{remedy=\"prune_build_cache\",result=\"ran\"}") == 2)
        #expect(value("safebuild_remedies_total{remedy=\"prune_build_cache\",result=\"skipped\"}") == 1)
        #expect(value("safebuild_remedies_total{remedy=\"drop_caches\",result=\"ran\"}") == 3)
        #expect(value("safebuild_remedies_total{remedy=\"compact_memory\",result=\"failed\"}") == 1)
        #expect(value("safebuild_reclaimed_bytes_total") == 1_500_000_000)
        #expect(parsed["safebuild_reclaimed_bytes_total"]?.first?.text == "counter")
        // The last pre-flight is the unfinished invocation's.
        #expect(value("safebuild_preflight_measured{check=\"min_available\",unit=\"bytes\"}") == 900_000_000)
        #expect(value("safebuild_preflight_measured{check=\"max_pressure\",unit=\"percent\"}") == 12.5)
        #expect(value("safebuild_preflight_limit{check=\"min_available\",unit=\"bytes\"}") == 512_000_000)
        #expect(parsed["safebuild_preflight_measured{check=\"min_available\",unit=\"bytes\"}"]?.first?.text == "gauge")
        #expect(value("safebuild_last_invocation_timestamp_seconds") == JournalTime.parse("2026-11-23T09:50:02Z"))
        #expect(value("safebuild_journal_unparsable_lines") == 2)
    }

    @Test func metricsAreUpdatedIncrementallyAcrossRotation() throws {
        let dir = temporaryDirectory("incremental")
        defer { removeTree(dir) }
        let path = dir + "/journal.jsonl", metrics = dir + "/safebuild.prom"
        let line = try JournalCoding.line(sampleAttempt())
        let writer = JournalWriter(path: path, maxBytes: Int64(line.count * 4), keep: 3) { _ in }
        func metricsFile() throws -> String { try String(contentsOfFile: metrics, encoding: .utf8) }
        func expected() throws -> String { Metrics.render(try JournalReader.read(path: path)) }
        #expect(Metrics.write(journalPath: path, to: metrics) == nil)  // no journal yet
        #expect(try metricsFile().contains("safebuild_attempts_total 0\n"))
        var n = 0
        for round in 1...5 {
            for _ in 0..<(round * 2) {
                n += 1
                writer.append(sampleAttempt(invocation: "inv-\(n)", attempt: 1 + n % 3))
                if n % 3 == 0 {
                    writer.append(InvocationRecord(
                        id: "inv-\(n)", started: "2026-11-23T09:00:00.000Z", ended: "2026-11-23T09:0\(round):00.000Z",
                        durationSeconds: 1, host: "h", user: "u", uid: 0, cwd: "/", command: "build", argv: [],
                        executedArgv: [], outcome: .failed, attempts: 1, exitStatus: 1))
                }
            }
            #expect(Metrics.write(journalPath: path, to: metrics) == nil)
            #expect(try metricsFile() == expected(), "round \(round)")
        }
        // Dropped rotated files no longer count.
        #expect(try metricsFile().contains("safebuild_attempts_total \(try JournalReader.read(path: path).attempts.count)\n"))
        #expect(try JournalReader.read(path: path).attempts.count < n)
    }

    @Test func labelValuesAreEscaped() {
        #expect(Metrics.escapeLabel("a\"b\\c\nd") == "a\\\"b\\\\c\\nd")
        #expect(Metrics.escapeHelp("a\\b\nc\"") == "a\\\\b\\nc\"")
    }
}

/// A JSON number or string, for reading the parser's output.
enum Value: Decodable {
    case number(Double), text(String)
    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let d = try? c.decode(Double.self) { self = .number(d) } else { self = .text(try c.decode(String.self)) }
    }
    var number: Double? { if case .number(let d) = self { d } else { nil } }
    var text: String? { if case .text(let s) = self { s } else { nil } }
}
