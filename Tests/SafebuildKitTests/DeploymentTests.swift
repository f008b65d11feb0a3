import Foundation
import Glibc
import SafebuildTestSupport
import Testing

@testable import SafebuildKit

/// What a shared build host needs of safebuild's own files and of the privileged entry: real files, real owners (the
/// tests run as root, as CI does, and give files to an unused uid to stand for a member of the group), real modes.
@Suite("Deployment: host files, the journal and metrics as root, the privileged entry")
struct DeploymentTests {
    static let member: uid_t = 54321
    static let group: gid_t = 4242

    static func mode(_ path: String) -> (mode: UInt32, uid: UInt32, gid: UInt32, type: UInt32) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return (0, 0, 0, 0) }
        return (info.st_mode & 0o7777, info.st_uid, info.st_gid, info.st_mode & S_IFMT)
    }

    static func text(_ path: String) -> String? {
        (try? BoundedFile.read(path, limit: 1 << 20).get()).map { String(decoding: $0, as: UTF8.self) }
    }

    static func write(_ path: String, _ text: String, mode: mode_t = 0o600, owner: uid_t = 0) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, mode)
        guard fd >= 0 else { throw TestSetupError("cannot create \(path)") }
        _ = Array(text.utf8).withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        fchmod(fd, mode)
        fchown(fd, owner, UInt32.max)
        close(fd)
    }

    /// A journal directory as Scripts/install.sh makes it: root:GROUP 2770.
    static func groupDirectory(_ tmp: TemporaryDirectory, _ name: String) throws -> String {
        let path = try tmp.directory(name)
        chown(path, 0, group)
        chmod(path, 0o2770)
        return path
    }

    // MARK: - Where the host policy is

    @Test(
        "the host policy follows the binary's install prefix",
        arguments: [
            ("/usr/bin/safebuild", "/etc/safebuild/policy.yml"),
            ("/usr/local/bin/safebuild", "/etc/safebuild/policy.yml"),
            ("/opt/safebuild/bin/safebuild", "/opt/safebuild/etc/safebuild/policy.yml"),
            ("/tmp/sb-test.x/prefix/bin/safebuild", "/tmp/sb-test.x/prefix/etc/safebuild/policy.yml"),
        ])
    func hostPolicyPath(executable: String, expected: String) {
        #expect(HostPolicyLocation.path(executable: executable) == expected)
    }

    // MARK: - The journal, as root

    @Test("a missing journal directory is made root:GROUP 2770 and its file 0660: never readable by all")
    func journalModes() throws {
        try #require(geteuid() == 0, "these tests run as root, as CI does")
        let tmp = try TemporaryDirectory()
        let path = tmp.path + "/var/log/safebuild/journal.jsonl"
        let writer = JournalWriter(path: path, files: SharedFiles(group: Self.group)) { Issue.record("\($0)") }
        #expect(writer.append(sampleAttempt()))
        let dir = Self.mode(tmp.path + "/var/log/safebuild")
        #expect(dir.mode == 0o2770 && dir.uid == 0 && dir.gid == Self.group)
        let file = Self.mode(path)
        #expect(file.mode == 0o660 && file.uid == 0 && file.gid == Self.group)

        // A journal of root's that an older safebuild made 0644 is closed to all at the next record.
        let old = tmp.path + "/old/journal.jsonl"
        mkdir(tmp.path + "/old", 0o755)
        try Self.write(old, "", mode: 0o644)
        #expect(JournalWriter(path: old, files: SharedFiles(group: Self.group)) { Issue.record("\($0)") }.append(sampleAttempt()))
        #expect(Self.mode(old).mode == 0o660 && Self.mode(old).gid == Self.group)
    }

    @Test("root rotates a member's journal file away, untouched, and starts a file of its own")
    func rootRotatesAMembersFileAway() throws {
        try #require(geteuid() == 0)
        let tmp = try TemporaryDirectory()
        let dir = try Self.groupDirectory(tmp, "journal")
        try Self.write(dir + "/journal.jsonl", "a member's line\n", mode: 0o660, owner: Self.member)
        let writer = JournalWriter(path: dir + "/journal.jsonl", keep: 1, files: SharedFiles(group: Self.group)) {
            Issue.record("\($0)")
        }
        #expect(writer.append(sampleAttempt(attempt: 1)))
        #expect(writer.append(sampleAttempt(attempt: 2)))
        #expect(Self.text(dir + "/journal.jsonl.1") == "a member's line\n")
        #expect(Self.mode(dir + "/journal.jsonl.1").uid == Self.member)
        let own = Self.mode(dir + "/journal.jsonl")
        #expect(own.uid == 0 && own.mode == 0o660 && own.gid == Self.group)
        #expect(try JournalReader.read(path: dir + "/journal.jsonl").attempts.map(\.attempt) == [1, 2])
    }

    @Test("root never writes through a symlink a member planted as the journal, rotation with keep 0 included")
    func rootNeverWritesThroughAPlantedJournal() throws {
        try #require(geteuid() == 0)
        let tmp = try TemporaryDirectory()
        let dir = try Self.groupDirectory(tmp, "journal")
        try Self.write(tmp.path + "/precious", "root's secret\n")
        try Self.write(tmp.path + "/precious-rotated", "root's other secret\n")
        symlink(tmp.path + "/precious", dir + "/journal.jsonl")
        symlink(tmp.path + "/precious-rotated", dir + "/journal.jsonl.1")
        let line = try JournalCoding.line(sampleAttempt())
        let writer = JournalWriter(
            path: dir + "/journal.jsonl", maxBytes: Int64(line.count + 1), keep: 0, files: SharedFiles(group: Self.group)
        ) { Issue.record("\($0)") }
        for n in 1...3 { #expect(writer.append(sampleAttempt(attempt: n))) }
        #expect(Self.text(tmp.path + "/precious") == "root's secret\n")
        #expect(Self.text(tmp.path + "/precious-rotated") == "root's other secret\n")
        #expect(Self.mode(tmp.path + "/precious").mode == 0o600)
        #expect(Self.mode(dir + "/journal.jsonl").type == S_IFREG)
        // keep 0: each rotation dropped the file; only the last record is left.
        #expect(try JournalReader.read(path: dir + "/journal.jsonl").attempts.map(\.attempt) == [3])
    }

    @Test("in a shared journal directory a symlink or FIFO is rotated away by whoever meets it; another's file only by root")
    func whoRotatesWhatAway() throws {
        try #require(geteuid() == 0)
        let tmp = try TemporaryDirectory()
        let dir = try Self.groupDirectory(tmp, "journal")
        try Self.write(dir + "/roots", "", mode: 0o660)
        try Self.write(dir + "/members", "", mode: 0o660, owner: Self.member)
        symlink("/etc/passwd", dir + "/link")
        mkfifo(dir + "/fifo", 0o666)
        let asMember = try CheckedDirectory.open(dir, as: Self.member + 1)
        let asRoot = try CheckedDirectory.open(dir)
        func writable(_ name: String, _ d: CheckedDirectory) -> Bool { JournalWriter.writable(d.entry(name)!, in: d) }
        #expect(["roots", "members", "link", "fifo"].map { writable($0, asMember) } == [true, true, false, false])
        #expect(["roots", "members", "link", "fifo"].map { writable($0, asRoot) } == [true, false, false, false])
        // In a directory of one's own, nothing is rotated away: the checked open says what is wrong.
        let own = try CheckedDirectory.open(tmp.path)
        symlink("/etc/passwd", tmp.path + "/link")
        #expect(writable("link", own))
    }

    @Test("reading a journal passes over a FIFO or a device someone put in its place, at once")
    func readerPassesOverAFIFO() throws {
        let tmp = try TemporaryDirectory()
        let path = tmp.path + "/journal.jsonl"
        #expect(JournalWriter(path: path, files: SharedFiles(group: nil)) { Issue.record("\($0)") }.append(sampleAttempt()))
        mkfifo(path + ".1", 0o666)
        symlink("/dev/zero", path + ".2")
        let start = Clock.now()
        let contents = try JournalReader.read(path: path)
        #expect(Clock.now() - start < 1)
        #expect(contents.files == [path])
        #expect(contents.attempts.count == 1)
    }

    // MARK: - Metrics, as root

    @Test("metrics replace a planted symlink instead of writing through it, 0640 with the group; a FIFO is passed over")
    func metricsNeverWriteThroughAPlantedFile() throws {
        try #require(geteuid() == 0)
        let tmp = try TemporaryDirectory()
        let dir = try Self.groupDirectory(tmp, "journal")
        let journal = dir + "/journal.jsonl"
        #expect(JournalWriter(path: journal, files: SharedFiles(group: Self.group)) { Issue.record("\($0)") }
            .append(sampleAttempt()))
        try Self.write(tmp.path + "/precious", "root's secret\n")
        try Self.write(tmp.path + "/precious-cache", "root's cache\n")
        symlink(tmp.path + "/precious", dir + "/metrics.prom")
        symlink(tmp.path + "/precious-cache", dir + "/metrics.prom.cache")
        mkfifo(journal + ".1", 0o666)
        let start = Clock.now()
        #expect(Metrics.write(journalPath: journal, to: dir + "/metrics.prom", files: SharedFiles(group: Self.group)) == nil)
        #expect(Clock.now() - start < 2)
        #expect(Self.text(tmp.path + "/precious") == "root's secret\n")
        #expect(Self.text(tmp.path + "/precious-cache") == "root's cache\n")
        let metrics = Self.mode(dir + "/metrics.prom")
        #expect(metrics.type == S_IFREG && metrics.mode == 0o640 && metrics.gid == Self.group && metrics.uid == 0)
        #expect(Self.text(dir + "/metrics.prom")?.contains("safebuild_attempts_total 1\n") == true)
        #expect(Self.mode(dir + "/metrics.prom.cache").type == S_IFREG)
    }

    // MARK: - The privileged entry

    static func policy(_ yaml: String, in tmp: TemporaryDirectory) throws -> Policy {
        let text = "version: 1\nremedies:\n  lock_dir: \(tmp.path)/run\n" + yaml
        return try PolicyParser.parse(text, file: tmp.path + "/policy.yml", over: PolicyLoader.builtIn).get()
    }

    @Test("sudo's variables name who asked; nothing else of the environment is read")
    func requester() {
        #expect(PrivilegedRemedy.Requester.from(environment: ["SUDO_USER": "sbuser", "SUDO_UID": "1001"])
            == .init(user: "sbuser", uid: 1001, via: "sudo"))
        #expect(PrivilegedRemedy.Requester.from(environment: [:]) == .init(user: nil, uid: nil, via: "root"))
        let context = CommandContext.privileged(environment: [
            "SUDO_USER": "sbuser", "SUDO_UID": "1001", "SAFEBUILD_POLICY": "/home/sbuser/evil.yml",
            "SAFEBUILD_JOURNAL": "/etc/shadow", "PWD": "/home/sbuser/repo",
        ])
        #expect(context.environment == ["SUDO_USER": "sbuser", "SUDO_UID": "1001"])
        #expect(context.options == SafebuildOptions())
        #expect(context.currentDirectory == "/")
    }

    @Test("the entry runs the remedy under the host-wide lock and cooldown and leaves an audit record for each request")
    func entryRunsAndAudits() throws {
        let tmp = try TemporaryDirectory()
        let policy = try Self.policy("retry:\n  cooldown: 1h\n", in: tmp)
        let ctx = RecordingContext()
        ctx.available = [100 << 20, 400 << 20]
        let journal = JournalWriter(path: tmp.path + "/log/journal.jsonl") { Issue.record("\($0)") }
        let requester = PrivilegedRemedy.Requester(user: "sbuser", uid: 1001, via: "sudo")
        func request() -> RemedyReport {
            PrivilegedRemedy.run(
                .dropCaches, policy: policy, policySource: tmp.path + "/policy.yml", requester: requester,
                remedies: Remedies(context: ctx),
                lock: HostLock(state: RuntimeState(directory: tmp.path + "/run", isRoot: true), cooldown: 3600),
                waiting: .quiet, journal: journal, host: "build-1")
        }
        let first = request()
        #expect(first.ran)
        #expect(first.after["mem_available_bytes"] == 400 << 20)
        let second = request()
        #expect(second.skipped?.hasPrefix("ran 0 s ago") == true)
        #expect(ctx.calls.filter { $0.hasPrefix("write") } == ["write /proc/sys/vm/drop_caches 1"])

        let audits = try JournalReader.read(path: tmp.path + "/log/journal.jsonl").remedyAudits
        #expect(audits.count == 2)
        #expect(audits.map(\.remedy.ran) == [true, false])
        #expect(audits.allSatisfy { $0.requestedBy == "sbuser" && $0.requestedUID == 1001 && $0.via == "sudo" })
        #expect(audits.allSatisfy { $0.policySource == tmp.path + "/policy.yml" && $0.host == "build-1" })
        #expect(audits.first?.remedy.before["mem_available_bytes"] == 100 << 20)
        // The line as the journal holds it.
        let line = String(decoding: try JournalCoding.line(audits[0]), as: UTF8.self)
        #expect(line.hasPrefix("{\"schema\":1,\"kind\":\"remedy\","))
        #expect(line.contains("\"requested_by\":\"sbuser\""))
    }

    @Test("a remedy the host policy turns off is not run, and the request is still recorded")
    func entryHonoursTheHostPolicy() throws {
        let tmp = try TemporaryDirectory()
        let policy = try Self.policy("  drop_caches: false\n", in: tmp)
        let ctx = RecordingContext()
        let journal = JournalWriter(path: tmp.path + "/journal.jsonl") { Issue.record("\($0)") }
        let report = PrivilegedRemedy.run(
            .dropCaches, policy: policy, policySource: "host", requester: .init(user: nil, uid: nil, via: "root"),
            remedies: Remedies(context: ctx),
            lock: HostLock(state: RuntimeState(directory: tmp.path + "/run", isRoot: true)), waiting: .quiet,
            journal: journal, host: "h")
        #expect(!report.ran)
        #expect(report.skipped?.hasPrefix("turned off by the policy (remedies.drop_caches at \(tmp.path)/policy.yml:4") == true)
        #expect(!ctx.calls.contains { $0.hasPrefix("write") })
        #expect(try JournalReader.read(path: tmp.path + "/journal.jsonl").remedyAudits.map(\.remedy.ran) == [false])
    }

    @Test("the entry's answer is one JSON line that the caller reads back")
    func entryAnswer() {
        let report = RemedyReport(
            name: .compactMemory, ran: true, detail: "echo 1 > /proc/sys/vm/compact_memory",
            before: ["high_order_free_bytes": 1 << 20], after: ["high_order_free_bytes": 8 << 20], duration: 0.25)
        let line = PrivilegedEntry.line(report)
        #expect(line.hasSuffix("}\n") && !line.dropLast().contains("\n"))
        #expect(PrivilegedEntry.report("safebuild: something said first\n" + line) == report)
        #expect(PrivilegedEntry.report("") == nil)
    }

    @Test("without sudo or a rule the entry is not tried: the skip says how to allow it")
    func entryWithoutSudo() {
        let entry = PrivilegedEntry(binary: "/opt/sb/bin/safebuild", sudo: nil, signals: nil)
        let report = entry.run(.dropCaches)
        #expect(!report.ran)
        #expect(report.skipped == "needs root, and sudo is not installed: allow it with Scripts/install.sh --with-sudo")
        #expect(entry.command(.compactMemory) == ["/opt/sb/bin/safebuild", "remedy", "compact_memory"])
    }

    @Test("safebuild remedy takes only a remedy that needs root")
    func remedyCommandRefusesOtherNames() throws {
        let error = #expect(throws: SafebuildError.self) { try runOwn(["remedy", "prune_build_cache"]) }
        #expect(error?.status == .usage)
        #expect(error?.message == "safebuild remedy runs only the remedies that need root: drop_caches, compact_memory (got 'prune_build_cache')")
        #expect(throws: SafebuildError.self) { try runOwn(["remedy"]) }
        #expect(throws: SafebuildError.self) { try runOwn(["remedy", "drop_caches", "--sb-policy", "x"]) }
    }

    // MARK: - doctor

    static func deployment() -> Deployment {
        Deployment(
            user: "sbuser", uid: 1001, hostPolicy: "/etc/safebuild/policy.yml", hostPolicyInstalled: true,
            policyInEffect: "/etc/safebuild/policy.yml", policyOrigin: LoadedPolicy.Origin.host.rawValue, policyProblem: nil,
            journalPath: "/var/log/safebuild/journal.jsonl",
            journalDirectory: .init(path: "/var/log/safebuild", owner: "root", group: "docker", mode: "2770", worldReadable: false),
            journalFile: .init(path: "/var/log/safebuild/journal.jsonl", owner: "root", group: "docker", mode: "0660", worldReadable: false),
            journalProblem: nil,
            stateDirectory: .init(path: "/run/safebuild", owner: "root", group: "docker", mode: "0750", worldReadable: false),
            stateDirectoryPath: "/run/safebuild", stateFallback: nil, stateFallbackReason: nil,
            remedies: [
                .init(name: "prune_build_cache", readiness: .ready, detail: "through docker"),
                .init(name: "drop_caches", readiness: .needsRoot, detail: PrivilegedEntry.needsRoot(.dropCaches, binary: "/usr/bin/safebuild", sudo: "/usr/bin/sudo")),
                .init(name: "compact_memory", readiness: .disabled, detail: "turned off by the policy (remedies.compact_memory at /etc/safebuild/policy.yml:9)"),
            ])
    }

    @Test("doctor says what is ready for this user, and how to make the rest ready")
    func doctorDeploymentFindings() {
        var d = Self.deployment()
        #expect(Doctor.text(d.findings) == """
            ok      policy: /etc/safebuild/policy.yml (the host policy) in effect
            ok      journal: /var/log/safebuild/journal.jsonl (directory root:docker 2770, file root:docker 0660); sbuser can write it
            ok      state: host-wide: /run/safebuild (root:docker 0750)
            ok      remedy.prune_build_cache: ready: through docker
            warning remedy.drop_caches: needs root, and no sudoers rule lets this user run '/usr/bin/safebuild remedy' without a password: allow it with Scripts/install.sh --with-sudo
                      fix: as root: Scripts/install.sh --with-sudo (a sudoers rule for exactly 'safebuild remedy drop_caches', members of docker, no password)
            ok      remedy.compact_memory: disabled by policy: turned off by the policy (remedies.compact_memory at /etc/safebuild/policy.yml:9)
            warnings: see above

            """)
        d.journalProblem = "/var/log/safebuild: Permission denied"
        d.stateFallback = "/tmp/safebuild-1001"
        d.stateFallbackReason = "/run/safebuild/remedies.state: Permission denied"
        let findings = d.findings
        #expect(findings.first { $0.area == "journal" }?.level == .problem)
        #expect(findings.first { $0.area == "journal" }?.value.hasSuffix("sbuser cannot write it (/var/log/safebuild: Permission denied): this user's runs are not recorded") == true)
        let state = findings.first { $0.area == "state" }
        #expect(state?.level == .warning)
        #expect(state?.value == "per-user fallback /tmp/safebuild-1001: host-wide coordination of remedies is off for sbuser (/run/safebuild/remedies.state: Permission denied)")
        #expect(state?.fix?.hasPrefix("run Scripts/install.sh as root") == true)
    }

    @Test("doctor says which docker protected and pass-through commands run, and how to align them")
    func doctorComparesTheHostsDockerWithPassThrough() {
        typealias D = Deployment.Docker
        let none = D(hostPath: nil, hostPolicy: nil, passThrough: "/usr/bin/docker", passThroughProblem: nil, same: false)
        #expect(none.finding == Doctor.Finding(
            "docker", .ok,
            "/usr/bin/docker for every command (SAFEBUILD_DOCKER, else PATH; the host policy's docker.path names none)"))
        let same = D(
            hostPath: "/usr/bin/docker", hostPolicy: "/etc/safebuild/policy.yml", passThrough: "/usr/bin/docker",
            passThroughProblem: nil, same: true)
        #expect(same.finding == Doctor.Finding(
            "docker", .ok,
            "protected commands run /usr/bin/docker (docker.path of the host policy /etc/safebuild/policy.yml), and so do pass-through commands"))
        let differ = D(
            hostPath: "/usr/bin/docker", hostPolicy: "/etc/safebuild/policy.yml", passThrough: "/usr/local/bin/docker",
            passThroughProblem: nil, same: false)
        #expect(differ.finding.level == .warning)
        #expect(differ.finding.value == "protected commands run /usr/bin/docker (docker.path of the host policy /etc/safebuild/policy.yml), but pass-through commands (docker ps, push, pull…) run /usr/local/bin/docker: they read no policy, only SAFEBUILD_DOCKER and PATH")
        #expect(differ.finding.fix == "set SAFEBUILD_DOCKER=/usr/bin/docker in the agent's environment, or order PATH so that the install's docker link directory (PREFIX/lib/safebuild/docker-front) comes first and /usr/bin is the next directory with a docker")
        var d = Self.deployment()
        d.docker = differ
        #expect(Doctor.text(d.findings).contains("warning docker: protected commands run /usr/bin/docker"))
    }

    /// Measured on real files: a link to the host's docker is the same docker.
    @Test func dockerMeasureTellsALinkFromAnotherDocker() throws {
        let dir = try TemporaryDirectory()
        try dir.directory("real")
        try dir.directory("front")
        let real = try dir.write("real/docker", Array("#!/bin/sh\n".utf8), mode: 0o755)
        try dir.symlink("front/docker", to: real)
        let source = PolicySource(file: "/etc/safebuild/policy.yml", line: 3, column: 9, layer: .host)
        let linked = Deployment.Docker.measure(
            hostDocker: Sourced(real, source), options: SafebuildOptions(), environment: ["PATH": dir.path + "/front"])
        #expect(linked.passThrough == dir.path + "/front/docker")
        #expect(linked.same)
        try dir.directory("other")
        let other = try dir.write("other/docker", Array("#!/bin/sh\n".utf8), mode: 0o755)
        let apart = Deployment.Docker.measure(
            hostDocker: Sourced(real, source), options: SafebuildOptions(), environment: ["PATH": dir.path + "/other"])
        #expect(apart.passThrough == other)
        #expect(!apart.same)
        #expect(apart.finding.level == .warning)
    }

    // MARK: - The console line

    @Test("the line after a failed attempt says what ran and what was skipped, and why")
    func consoleLineSaysWhatWasSkipped() {
        var attempt = sampleAttempt()
        let needsRoot = PrivilegedEntry.needsRoot(.compactMemory, binary: "/usr/local/bin/safebuild", sudo: "/usr/bin/sudo")
        attempt.remedies = [
            JournalRemedy(name: "drop_caches", ran: true, via: "sudo"),
            JournalRemedy(name: "compact_memory", ran: false, skippedReason: needsRoot),
            JournalRemedy(name: "prune_build_cache", ran: false, skippedReason: "ran 3 s ago for another build"),
        ]
        #expect(ConsoleReport.attemptLine(attempt, reason: "ENOMEM", decision: .retry(afterSeconds: 1.9))
            == "attempt 2/3 failed: ENOMEM; dropped caches; skipped compact_memory (\(needsRoot)) and prune_build_cache (ran 3 s ago for another build); retrying in 1.9 s")
        attempt.remedies.removeFirst()
        attempt.remedies[1].skippedReason = needsRoot
        #expect(ConsoleReport.attemptLine(attempt, reason: "ENOMEM", decision: .retry(afterSeconds: 1.9))
            == "attempt 2/3 failed: ENOMEM; no remedy ran: skipped compact_memory, prune_build_cache (\(needsRoot)); retrying in 1.9 s")
    }
}
