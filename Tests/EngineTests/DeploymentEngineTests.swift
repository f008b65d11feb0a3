import Foundation
import Glibc
import SafebuildTestSupport
import Testing

@testable import SafebuildKit

/// safebuild installed as an administrator installs it (Scripts/install.sh into a temporary prefix, the Debian
/// package with dpkg), used by a member of the docker group who is not root (`sbuser`, made by the test bed:
/// Scripts/engine.sh), and by root in a directory that member can write. Every test looks at what they would see: exit
/// status, output, safebuild's lines, the host journal and the files on disk.
extension EngineSuites {
@Suite(.serialized) struct DeploymentEngineTests {
    let engine: TestEngine
    let safebuild: String
    let user: String
    let tmp: TemporaryDirectory

    static let sudoers = "/etc/sudoers.d/safebuild"
    static let sources = SafebuildBinary.packageRoot()

    init() throws {
        engine = try TestEngine.current()
        safebuild = try SafebuildBinary.path()
        user = ProcessInfo.processInfo.environment["SAFEBUILD_TEST_USER"] ?? "sbuser"
        guard getpwnam(user) != nil else {
            throw TestSetupError("no user \(user): the test bed makes it (bash Scripts/engine.sh install)")
        }
        tmp = try TemporaryDirectory()
        chmod(tmp.path, 0o755)  // the member passes through to the prefix
    }

    // MARK: - The bed: an installed prefix

    /// safebuild installed by Scripts/install.sh under `tmp/prefix`, with docker-fault beside it.
    struct Installed {
        let prefix: String
        var bin: String { prefix + "/bin/safebuild" }
        var front: String { prefix + "/lib/safebuild/docker-front/docker" }
        var fault: String { prefix + "/lib/docker-fault" }
        var policy: String { prefix + "/etc/safebuild/policy.yml" }
        var log: String { prefix + "/var/log/safebuild" }
        var journal: String { log + "/journal.jsonl" }
        var run: String { prefix + "/run/safebuild" }
        let output: ProcessResult
    }

    func install(withSudo: Bool) throws -> Installed {
        let prefix = tmp.path + "/prefix"
        let arguments = [Self.sources + "/Scripts/install.sh", "--prefix", prefix, "--binary", safebuild]
            + (withSudo ? ["--with-sudo"] : [])
        let result = try ProcessRunner.run("/bin/bash", arguments, timeout: 300)
        #expect(result.code == 0, "\(result.stderrText)")
        let installed = Installed(prefix: prefix, output: result)
        let fault = SafebuildBinary.packageRoot() + "/.build/debug/docker-fault"
        _ = try tmp.copy(fault, to: "prefix/lib/docker-fault")
        let state = try tmp.directory("fault")
        chmod(state, 0o1777)
        return installed
    }

    /// The host policy a test runs under (as an administrator would edit the installed one): no pre-flight checks, no
    /// memory defaults, short backoff, no cooldown, the journal and runtime directories the installed policy names.
    func hostPolicy(_ bed: Installed, journal: String = "", remedies: String = "", retry: String = "") throws {
        let text = """
            version: 1
            run: {memory: unlimited}
            build: {memory: unlimited}
            preflight:
              min_available: off
              max_pressure: off
              max_build_cache: off
              min_free_disk: off
              min_free_blocks: off
            retry:
              max_attempts: 3
              backoff: {initial: 0.1, max: 0.1, jitter: 0}
              cooldown: 0
              healthy_host_enomem: ladder
            \(retry)
            journal:
              path: \(bed.journal)
            \(journal)
            remedies:
              lock_dir: \(bed.run)
            \(remedies)

            """
        let fd = open(bed.policy, O_WRONLY | O_TRUNC | O_NOFOLLOW)
        guard fd >= 0 else { throw TestSetupError("cannot write \(bed.policy)") }
        _ = Array(text.utf8).withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
        let check = try ProcessRunner.run(bed.bin, ["policy", "check", bed.policy])
        #expect(check.code == 0, "\(check.stderrText)")
    }

    /// An environment as the member's or root's shell would have it, with docker-fault in front of the engine when
    /// `fault` is given.
    func environment(_ bed: Installed, home: String, fault: [String: String]?) -> [String: String] {
        var env = [
            "HOME": home, "PATH": "/usr/local/bin:/usr/bin:/bin", "DOCKER_HOST": engine.host, "DOCKER_BUILDKIT": "0",
            "SAFEBUILD_DOCKER": engine.docker, "LANG": "C.UTF-8",
        ]
        if let fault {
            env["SAFEBUILD_DOCKER"] = bed.fault
            env["DOCKER_FAULT_REAL"] = engine.docker
            env["DOCKER_FAULT_STATE"] = tmp.path + "/fault/\(UInt32.random(in: 0...UInt32.max)).count"
            env.merge(fault) { $1 }
        }
        return env
    }

    var home: String { String(cString: getpwnam(user)!.pointee.pw_dir) }

    /// `arguments` run as the member (uid, gid and supplementary groups: docker), from its home directory.
    func asMember(
        _ bed: Installed, _ arguments: [String], fault: [String: String]? = nil, timeout: Double = 120
    ) throws -> ProcessResult {
        var env = environment(bed, home: home, fault: fault)
        env["USER"] = user
        env["LOGNAME"] = user
        return try ProcessRunner.run(
            "/usr/bin/setpriv", ["--reuid=\(user)", "--regid=\(user)", "--init-groups", "--"] + arguments,
            environment: env, workingDirectory: home, timeout: timeout)
    }

    /// `arguments` run as root, from a directory without a project policy.
    func asRoot(_ bed: Installed, _ arguments: [String], fault: [String: String]? = nil) throws -> ProcessResult {
        try ProcessRunner.run(
            arguments[0], Array(arguments.dropFirst()), environment: environment(bed, home: "/root", fault: fault),
            workingDirectory: tmp.path, timeout: 120)
    }

    /// safebuild's own lines on stderr.
    static func lines(_ result: ProcessResult) -> [String] {
        result.stderrText.split(separator: "\n").map(String.init).filter { $0.hasPrefix("safebuild: ") }
    }

    static func stat(_ path: String) -> (mode: UInt32, uid: UInt32, gid: UInt32, type: UInt32)? {
        var info = Glibc.stat()
        guard lstat(path, &info) == 0 else { return nil }
        return (info.st_mode & 0o7777, info.st_uid, info.st_gid, info.st_mode & S_IFMT)
    }

    static var docker: gid_t { getgrnam("docker")!.pointee.gr_gid }

    /// `2770 root:docker`, as `ls -l` would say it; nil when there is nothing.
    static func owned(_ path: String) -> String? {
        stat(path).map { "\(RuntimeState.octal($0.mode)) \(HostSettings.userName($0.uid)):\(HostSettings.groupName($0.gid))" }
    }

    static func removeSudoRule() { unlink(sudoers) }

    // MARK: - Done when: a member's run meets two veth ENOMEM failures

    /// The host policy's thresholds under which drop_caches and compact_memory are needed on this healthy host (24
    /// GiB, most of it available, gigabytes free in large blocks): memory counts as short below 100% of it, any page
    /// cache is worth dropping (the first drop leaves little for the second), and memory counts as fragmented below 8
    /// PiB free in blocks of 32 KiB and up. An injected veth ENOMEM is not a shortage this host can show for real;
    /// these say, as an administrator could, that the remedies are wanted, and each record says so in its `because`.
    static let remediesNeeded = """
          drop_caches_min_cache: 0
          drop_caches_max_available: 100%
          compact_memory_max_free: 8p
        """

    /// Installed with --with-sudo, a member's `run` that meets two injected veth ENOMEM failures succeeds with
    /// drop_caches and compact_memory run as root through the privileged entry (an audit record for each in the host
    /// journal, saying which of the host policy's thresholds made each needed), and the run itself is recorded in the
    /// host journal, which no outsider can read.
    @Test func aMembersRunGetsTheRootRemediesThroughThePrivilegedEntry() throws {
        let bed = try install(withSudo: true)
        defer { Self.removeSudoRule() }
        #expect(Self.owned(Self.sudoers) == "0440 root:root")
        let rule = String(decoding: TemporaryDirectory.readFileIfPresent(Self.sudoers), as: UTF8.self)
        #expect(rule.contains("Cmnd_Alias SAFEBUILD_REMEDIES = \(bed.bin) remedy drop_caches, \(bed.bin) remedy compact_memory\n"))
        #expect(rule.contains("%docker ALL=(root) NOPASSWD: SAFEBUILD_REMEDIES\n"))
        try hostPolicy(bed, remedies: Self.remediesNeeded)

        // Through the PATH front, as a Jenkins agent's `docker` is.
        let out = try asMember(
            bed, [bed.front, "run", "--rm", "--network=none", engine.image, "echo", "hello"],
            fault: ["DOCKER_FAULT_KIND": "veth", "DOCKER_FAULT_COUNT": "2"])
        #expect(out.code == 0, "\(out.stderrText)")
        #expect(out.stdoutText == "hello\n")
        let lines = Self.lines(out)
        #expect(lines.contains { $0.hasPrefix("safebuild: attempt 1/3 failed: ") && $0.contains("; dropped caches, compacted memory") && $0.hasSuffix("; retrying in 0.1 s") }, "\(lines)")
        #expect(!lines.contains { $0.contains("skipped") }, "\(lines)")

        let journal = try JournalReader.read(path: bed.journal)
        let invocation = try #require(journal.invocations.last)
        #expect(invocation.user == user)
        #expect(invocation.outcome == .succeededAfterRetry)
        #expect(invocation.attempts == 3)
        #expect(invocation.policySource == bed.policy)
        #expect(journal.attempts.map(\.failureClass) == ["network_enomem", "network_enomem", nil])
        let first = journal.attempts[0].remedies, second = journal.attempts[1].remedies
        #expect(first.map(\.name) == ["drop_caches", "compact_memory"])
        #expect(second.map(\.name) == ["prune_build_cache", "drop_caches", "compact_memory", "wait_for_memory"])
        for remedy in first + second {
            #expect(remedy.ran, "\(remedy.name): \(remedy.skippedReason ?? "")")
            let root = remedy.name == "drop_caches" || remedy.name == "compact_memory"
            #expect(remedy.via == (root ? "sudo" : nil), "\(remedy.name)")
        }
        // The root side's own records: who asked, what, the figures, how long.
        let audits = journal.remedyAudits
        #expect(audits.map(\.remedy.name) == ["drop_caches", "compact_memory", "drop_caches", "compact_memory"])
        for audit in audits {
            #expect(audit.remedy.ran)
            #expect(audit.requestedBy == user && audit.via == "sudo")
            #expect(audit.requestedUID == getpwnam(user)!.pointee.pw_uid)
            #expect(audit.policySource == bed.policy)
            #expect(audit.durationSeconds > 0)
        }
        #expect(audits.first?.remedy.before["mem_available_bytes"] != nil)
        #expect(audits.first?.remedy.after["mem_available_bytes"] != nil)
        // Why each ran, and what drop_caches cost: the page cache before and after, the sync's and the drop's time.
        for audit in audits where audit.remedy.name == "drop_caches" {
            #expect(audit.remedy.because?.contains(" of page cache, and only ") == true, "\(audit.remedy.because ?? "-")")
            #expect(audit.remedy.because?.contains(" available, below drop_caches_max_available ") == true, "\(audit.remedy.because ?? "-")")
            #expect(audit.remedy.before["page_cache_bytes"] != nil && audit.remedy.after["page_cache_bytes"] != nil)
            #expect(audit.remedy.after["sync_milliseconds"] != nil && audit.remedy.after["drop_milliseconds"] != nil)
        }
        for audit in audits where audit.remedy.name == "compact_memory" {
            #expect(audit.remedy.because?.hasSuffix(" free in blocks of 32 KiB and up, below compact_memory_max_free 8.0 PiB") == true, "\(audit.remedy.because ?? "-")")
        }
        // The member's own records carry the entry's reasons.
        #expect((first + second).filter(\.ran).filter { $0.via == "sudo" }.allSatisfy { $0.because != nil })

        // The host journal: group docker, never readable by all; an outsider cannot read it, nor hold the lock.
        let file = try #require(Self.stat(bed.journal))
        #expect(file.mode & 0o007 == 0 && file.gid == Self.docker, "\(file)")
        #expect(Self.owned(bed.log) == "2770 root:docker")
        let outsider = ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]
        let read = try ProcessRunner.run(outsider[0], Array(outsider.dropFirst()) + ["/bin/cat", bed.journal])
        #expect(read.code != 0)
        #expect(read.stdout.isEmpty)
        let lock = try ProcessRunner.run(
            outsider[0], Array(outsider.dropFirst()) + ["/usr/bin/flock", "-n", bed.run + "/remedies.state", "true"])
        #expect(lock.code != 0 && lock.stderrText.contains("Permission denied"), "\(lock.stderrText)")
        let memberLock = try asMember(bed, ["/usr/bin/flock", "-n", bed.run + "/remedies.state", "true"])
        #expect(memberLock.code == 0, "\(memberLock.stderrText)")
    }

    /// With the rule, but where the host's figures say the remedies cannot help (the host policy: memory short only
    /// below 1 MiB available, fragmented only below 0 B free in large blocks): the member's run skips them without
    /// asking the entry, and says why; a user policy that says memory is short is ignored (its keys are the host's);
    /// the entry asked directly applies the host's figures too, and its audit record says it skipped.
    @Test func theHostsFiguresDecideNotTheCallers() throws {
        let bed = try install(withSudo: true)
        defer { Self.removeSudoRule() }
        try hostPolicy(bed, remedies: "  drop_caches_min_cache: 0\n  drop_caches_max_available: 1m\n  compact_memory_max_free: 0")
        let mine = tmp.path + "/mine.yml"
        let force = "version: 1\nremedies:\n  drop_caches_max_available: 100%\n  compact_memory_max_free: 8p\n"
        _ = try tmp.write("mine.yml", Array(force.utf8), mode: 0o644)
        let out = try asMember(
            bed, ["/usr/bin/env", "SAFEBUILD_POLICY=\(mine)", bed.bin, "run", "--rm", "--network=none", engine.image, "echo", "hello"],
            fault: ["DOCKER_FAULT_KIND": "veth", "DOCKER_FAULT_COUNT": "1"])
        #expect(out.code == 0, "\(out.stderrText)")
        #expect(out.stdoutText == "hello\n")
        #expect(out.stderrText.contains("\(mine):2:1: remedies can be set only in the host policy; ignored here"), "\(out.stderrText)")
        let lines = Self.lines(out)
        let first = try #require(lines.first { $0.hasPrefix("safebuild: attempt 1/3 failed: ") })
        #expect(first.contains("no remedy ran: skipped drop_caches ("), "\(first)")
        #expect(first.contains("below drop_caches_max_available 1.0 MiB: memory is not short"), "\(first)")
        #expect(first.contains("compact_memory (") && first.contains("not below compact_memory_max_free 0 B: memory is not fragmented)"), "\(first)")
        #expect(!first.contains("dropped caches") && !first.contains("compacted memory"), "\(first)")

        let journal = try JournalReader.read(path: bed.journal)
        let remedies = try #require(journal.attempts.first?.remedies)
        #expect(remedies.map(\.name) == ["drop_caches", "compact_memory"])
        #expect(remedies.allSatisfy { !$0.ran && $0.via == nil && $0.because == nil })
        #expect(remedies[0].skippedReason?.hasSuffix("not below drop_caches_max_available 1.0 MiB: memory is not short, and every job would read the dropped page cache back from disk") == true)
        #expect(journal.remedyAudits.isEmpty, "the entry was asked")

        // The entry itself, asked by the member: the host's figures, an audit record that says it skipped.
        let direct = try asMember(bed, ["/usr/bin/sudo", "-n", bed.bin, "remedy", "drop_caches"])
        #expect(direct.code == 0, "\(direct.stderrText)")
        let report = try #require(PrivilegedEntry.report(direct.stdoutText))
        #expect(!report.ran)
        #expect(report.skipped?.hasSuffix(": memory is not short, and every job would read the dropped page cache back from disk") == true, "\(report)")
        let audit = try #require(try JournalReader.read(path: bed.journal).remedyAudits.last)
        #expect(audit.requestedBy == user && !audit.remedy.ran && audit.remedy.skippedReason == report.skipped)
    }

    /// The same member without the sudoers rule: the root remedies are skipped with `needs root` and how to allow
    /// them, in the journal and on the console; the console never claims they ran; the rest of the ladder runs.
    /// (The host policy says they are needed: else they would be skipped for the host's figures before root is asked.)
    @Test func withoutTheRuleTheRootRemediesAreSkippedAndSaidSo() throws {
        Self.removeSudoRule()
        let bed = try install(withSudo: false)
        try hostPolicy(bed, remedies: Self.remediesNeeded)
        let out = try asMember(
            bed, [bed.bin, "run", "--rm", "--network=none", engine.image, "echo", "hello"],
            fault: ["DOCKER_FAULT_KIND": "veth", "DOCKER_FAULT_COUNT": "2"])
        #expect(out.code == 0, "\(out.stderrText)")
        #expect(out.stdoutText == "hello\n")
        let lines = Self.lines(out)
        let first = try #require(lines.first { $0.hasPrefix("safebuild: attempt 1/3 failed: ") })
        #expect(first.contains("; no remedy ran: skipped drop_caches, compact_memory (needs root, and "), "\(first)")
        #expect(first.contains("allow it with Scripts/install.sh --with-sudo)"), "\(first)")
        #expect(first.hasSuffix("; retrying in 0.1 s"))
        let second = try #require(lines.first { $0.hasPrefix("safebuild: attempt 2/3 failed: ") })
        #expect(second.contains("of build cache, waited "), "\(second)")
        #expect(second.contains("; skipped drop_caches, compact_memory (needs root, and "), "\(second)")

        let journal = try JournalReader.read(path: bed.journal)
        for remedy in journal.attempts.flatMap(\.remedies) where remedy.name == "drop_caches" || remedy.name == "compact_memory" {
            #expect(!remedy.ran)
            #expect(remedy.skippedReason?.hasPrefix("needs root, and ") == true)
            #expect(remedy.skippedReason?.hasSuffix(": allow it with Scripts/install.sh --with-sudo") == true)
        }
        #expect(journal.remedyAudits.isEmpty)
        #expect(journal.invocations.last?.outcome == .succeededAfterRetry)

        // doctor tells the member the same.
        let doctor = try asMember(bed, [bed.bin, "doctor", "--no-engine"])
        #expect(doctor.stdoutText.contains("warning remedy.drop_caches: needs root, and "), "\(doctor.stdoutText)")
        #expect(doctor.stdoutText.contains("fix: as root: Scripts/install.sh --with-sudo"))
        #expect(doctor.stdoutText.contains("ok      state: host-wide: \(bed.run) (root:docker 0750)"), "\(doctor.stdoutText)")
        #expect(doctor.stdoutText.contains("ok      journal: \(bed.journal) (directory root:docker 2770, file "), "\(doctor.stdoutText)")
    }

    // MARK: - Root in a directory the member can write

    /// Root (an admin, a root cron) runs safebuild while the member has planted symlinks to root's files in the
    /// shared journal directory (journal, metrics and its cache) and pointed the lock at a directory of its own with a
    /// symlink as the state file; the journal rotates with keep 0. Root writes none of the targets, and still records
    /// its run in a file of its own.
    @Test func rootNeverWritesThroughWhatAMemberPlanted() throws {
        let bed = try install(withSudo: false)
        let secrets = try tmp.directory("secrets")
        var targets: [String: String] = [:]
        for name in ["journal", "metrics", "cache", "lock"] {
            let path = try tmp.write("secrets/\(name)", Array("root's \(name) file\n".utf8), mode: 0o600)
            targets[path] = "root's \(name) file\n"
        }
        let locks = try tmp.directory("member-locks")
        chown(locks, getpwnam(user)!.pointee.pw_uid, getpwnam(user)!.pointee.pw_gid)
        for (link, target) in [
            (bed.journal, secrets + "/journal"), (bed.log + "/metrics.prom", secrets + "/metrics"),
            (bed.log + "/metrics.prom.cache", secrets + "/cache"), (locks + "/remedies.state", secrets + "/lock"),
        ] {
            let planted = try asMember(bed, ["/bin/ln", "-s", target, link])
            #expect(planted.code == 0, "\(planted.stderrText)")
        }
        try hostPolicyWithLocks(bed, locks: locks)

        let out = try asRoot(
            bed, [bed.bin, "run", "--rm", "--network=none", engine.image, "echo", "hello"],
            fault: ["DOCKER_FAULT_KIND": "veth", "DOCKER_FAULT_COUNT": "1"])
        #expect(out.code == 0, "\(out.stderrText)")
        #expect(out.stdoutText == "hello\n")
        for (path, text) in targets {
            #expect(String(decoding: TemporaryDirectory.readFileIfPresent(path), as: UTF8.self) == text, "\(path)")
            #expect(Self.owned(path) == "0600 root:root", "\(path)")
        }
        // Root's own files took the planted entries' places.
        let journal = try #require(Self.stat(bed.journal))
        #expect(journal.type == S_IFREG && journal.uid == 0 && journal.mode == 0o660 && journal.gid == Self.docker)
        let metrics = try #require(Self.stat(bed.log + "/metrics.prom"))
        #expect(metrics.type == S_IFREG && metrics.uid == 0 && metrics.mode == 0o640 && metrics.gid == Self.docker)
        #expect(Self.stat(locks + "/remedies.state")?.type == S_IFLNK)
        // keep 0: the last record is all that is left, and it is root's invocation.
        let records = try JournalReader.read(path: bed.journal)
        #expect(records.invocations.last?.user == "root")
        #expect(records.invocations.last?.outcome == .succeededAfterRetry)
        // The remedies under the member's lock directory were refused, and said why.
        let skipped = out.stderrText
        #expect(skipped.contains("skipped drop_caches, compact_memory (cannot use the remedies' lock: \(locks)/remedies.state: a symlink; safebuild does not write through it)"), "\(skipped)")
    }

    /// The test policy with the journal rotated at 1k with keep 0, metrics beside it, and the remedies' lock in
    /// `locks` (an administrator's mistake, or what a repository's policy asked for before the host policy held).
    func hostPolicyWithLocks(_ bed: Installed, locks: String) throws {
        try hostPolicy(bed, journal: "  max_size: 1k\n  keep: 0\n  metrics_path: \(bed.log)/metrics.prom")
        var text = String(decoding: TemporaryDirectory.readFileIfPresent(bed.policy), as: UTF8.self)
        text = text.replacingOccurrences(of: "  lock_dir: \(bed.run)", with: "  lock_dir: \(locks)")
        let fd = open(bed.policy, O_WRONLY | O_TRUNC | O_NOFOLLOW)
        _ = Array(text.utf8).withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    /// A journal file the member made: root rotates it away, untouched, and records its run in a file of its own; the
    /// member's next run appends to root's file.
    @Test func rootRotatesAMembersJournalAwayAndTheMemberAppendsToRoots() throws {
        let bed = try install(withSudo: false)
        try hostPolicy(bed, journal: "  keep: 1")
        let made = try asMember(bed, ["/bin/sh", "-c", "umask 007; echo 'a line of the member' > \(bed.journal)"])
        #expect(made.code == 0, "\(made.stderrText)")
        #expect(Self.stat(bed.journal)?.uid == getpwnam(user)!.pointee.pw_uid)

        let byRoot = try asRoot(bed, [bed.bin, "run", "--rm", "--network=none", engine.image, "true"])
        #expect(byRoot.code == 0, "\(byRoot.stderrText)")
        #expect(String(decoding: TemporaryDirectory.readFileIfPresent(bed.journal + ".1"), as: UTF8.self) == "a line of the member\n")
        #expect(Self.stat(bed.journal + ".1")?.uid == getpwnam(user)!.pointee.pw_uid)
        #expect(Self.stat(bed.journal)?.uid == 0)

        let byMember = try asMember(bed, [bed.bin, "run", "--rm", "--network=none", engine.image, "true"])
        #expect(byMember.code == 0, "\(byMember.stderrText)")
        #expect(Self.stat(bed.journal)?.uid == 0)
        let users = try JournalReader.read(path: bed.journal).invocations.map(\.user)
        #expect(users.suffix(2) == ["root", user])
    }

    // MARK: - Locks

    /// While another process holds the host-wide remedy lock, a protected command says what it waits for and who
    /// holds the lock, and SIGTERM ends the wait at once: the remedy is skipped, nothing is retried, the journal
    /// says aborted.
    @Test func aWaitForTheLockSaysSoAndEndsOnSIGTERM() throws {
        let bed = try install(withSudo: false)
        try hostPolicy(bed, retry: "  ladders: {network_enomem: [[prune_dangling_images]]}")
        let holder = open(bed.run + "/remedies.state", O_RDWR)
        #expect(holder >= 0)
        #expect(flock(holder, LOCK_EX) == 0)
        defer { close(holder) }

        var env = environment(bed, home: home, fault: ["DOCKER_FAULT_KIND": "veth", "DOCKER_FAULT_COUNT": "1"])
        env["USER"] = user
        let process = try ProcessRunner.Started(
            "/usr/bin/setpriv",
            ["--reuid=\(user)", "--regid=\(user)", "--init-groups", "--", bed.bin, "run", "--rm", "--network=none",
             engine.image, "true"],
            environment: env, workingDirectory: home)
        let told = ProcessRunner.waitUntil(timeout: 60) { process.stderrSoFar.contains("waiting for the host-wide remedy lock") }
        #expect(told, "\(process.stderrSoFar)")
        #expect(process.stderrSoFar.contains(
            "safebuild: waiting for the host-wide remedy lock \(bed.run)/remedies.state to run prune_dangling_images, held by pid \(getpid())"),
            "\(process.stderrSoFar)")
        let (result, took) = process.signalAndWait(SIGTERM)
        #expect(!result.timedOut)
        #expect(took < 1, "ended \(took) s after SIGTERM")
        #expect(result.code == 128 + SIGTERM)
        let journal = try JournalReader.read(path: bed.journal)
        #expect(journal.attempts.count == 1)
        #expect(journal.attempts.first?.remedies.first?.skippedReason
            == "interrupted by SIGTERM while waiting for the host-wide remedy lock \(bed.run)/remedies.state")
        #expect(journal.invocations.last?.outcome == .aborted)
    }

    /// A member who cannot open the host-wide state (the runtime directory is missing) keeps its locks in a
    /// directory of its own, is told once that host-wide coordination is off and how to fix it, and doctor says so.
    @Test func aMemberWithoutTheRuntimeDirectoryFallsBackAndIsTold() throws {
        let bed = try install(withSudo: false)
        try hostPolicy(bed, retry: "  ladders: {network_enomem: [[prune_dangling_images]]}")
        var text = String(decoding: TemporaryDirectory.readFileIfPresent(bed.policy), as: UTF8.self)
        text = text.replacingOccurrences(of: "  lock_dir: \(bed.run)", with: "  lock_dir: \(bed.prefix)/run/missing")
        let fd = open(bed.policy, O_WRONLY | O_TRUNC | O_NOFOLLOW)
        _ = Array(text.utf8).withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
        let uid = getpwnam(user)!.pointee.pw_uid
        let fallback = "/tmp/safebuild-\(uid)"

        let out = try asMember(
            bed, [bed.bin, "run", "--rm", "--network=none", engine.image, "true"],
            fault: ["DOCKER_FAULT_KIND": "veth", "DOCKER_FAULT_COUNT": "1"])
        #expect(out.code == 0, "\(out.stderrText)")
        let warnings = Self.lines(out).filter { $0.hasPrefix("safebuild: warning: host-wide coordination of remedies is off for this user: \(bed.prefix)/run/missing") }
        #expect(warnings.count == 1, "\(out.stderrText)")
        #expect(warnings.first?.contains("memory admission ledger are kept in \(fallback) instead") == true)
        #expect(warnings.first?.contains("run Scripts/install.sh as root") == true)
        #expect(Self.owned(fallback) == "0700 \(user):\(HostSettings.groupName(getpwnam(user)!.pointee.pw_gid))")
        let remedy = try JournalReader.read(path: bed.journal).attempts.first?.remedies.first
        #expect(remedy?.name == "prune_dangling_images" && remedy?.ran == true, "\(String(describing: remedy))")

        let doctor = try asMember(bed, [bed.bin, "doctor", "--no-engine"])
        #expect(doctor.stdoutText.contains("warning state: per-user fallback \(fallback): host-wide coordination of remedies is off for \(user)"), "\(doctor.stdoutText)")
    }

    // MARK: - Uninstall

    /// --uninstall takes away what install put there and keeps the journal and the policy; --purge takes them too.
    @Test func uninstallKeepsTheJournalAndThePolicyUnlessPurged() throws {
        let bed = try install(withSudo: false)
        let run = try asMember(bed, [bed.bin, "run", "--rm", "--network=none", engine.image, "true"])
        #expect(run.code == 0, "\(run.stderrText)")
        let script = Self.sources + "/Scripts/install.sh"
        let removed = try ProcessRunner.run("/bin/bash", [script, "--uninstall", "--prefix", bed.prefix])
        #expect(removed.code == 0, "\(removed.stderrText)")
        for gone in [bed.bin, bed.front, bed.run, bed.prefix + "/share/bash-completion/completions/safebuild"] {
            #expect(Self.stat(gone) == nil, "\(gone)")
        }
        #expect(Self.stat(bed.policy) != nil)
        #expect(Self.stat(bed.journal) != nil)
        let purged = try ProcessRunner.run("/bin/bash", [script, "--uninstall", "--purge", "--prefix", bed.prefix])
        #expect(purged.code == 0, "\(purged.stderrText)")
        #expect(Self.stat(bed.policy) == nil)
        #expect(Self.stat(bed.log) == nil)
    }

    // MARK: - The Debian package

    /// Scripts/package-deb.sh builds the package; dpkg -i installs it with its files, modes and groups; a member's
    /// `safebuild doctor --no-engine` finds the host policy, a journal it can write and the host-wide state; dpkg
    /// --purge takes everything away again.
    @Test func theDebianPackageInstallsAndPurges() throws {
        try #require(
            Self.stat("/etc/safebuild/policy.yml") == nil,
            "/etc/safebuild/policy.yml is already on this host; the package test would replace it")
        let built = try ProcessRunner.run(
            "/bin/bash", [Self.sources + "/Scripts/package-deb.sh", "--binary", safebuild, "--compress", "none"],
            timeout: 300)
        #expect(built.code == 0, "\(built.stderrText)")
        let deb = built.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(deb.hasSuffix("/dist/safebuild_\(Safebuild.version)_amd64.deb") || deb.hasSuffix("_arm64.deb"), "\(deb)")
        // --root-owner-group: every file of the package is root's, whoever built it.
        let contents = try ProcessRunner.run("/usr/bin/dpkg-deb", ["-c", deb])
        let owners = Set(contents.stdoutText.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true)[1] })
        #expect(owners == ["root/root"], "\(contents.stdoutText)")

        let env = ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "DEBIAN_FRONTEND": "noninteractive"]
        let installed = try ProcessRunner.run("/usr/bin/dpkg", ["-i", deb], environment: env, timeout: 300)
        defer { _ = try? ProcessRunner.run("/usr/bin/dpkg", ["--purge", "safebuild"], environment: env, timeout: 300) }
        #expect(installed.code == 0, "\(installed.stderrText)")

        #expect(Self.owned("/usr/bin/safebuild") == "0755 root:root")
        var link = [CChar](repeating: 0, count: 256)
        let n = readlink("/usr/lib/safebuild/docker-front/docker", &link, link.count - 1)
        #expect(n > 0 && String(cString: Array(link[..<max(0, n)]) + [0]) == "/usr/bin/safebuild")
        #expect(Self.owned("/etc/safebuild/policy.yml") == "0644 root:root")
        let conffiles = String(decoding: TemporaryDirectory.readFileIfPresent("/var/lib/dpkg/info/safebuild.conffiles"), as: UTF8.self)
        #expect(conffiles == "/etc/safebuild/policy.yml\n")
        #expect(Self.owned("/var/log/safebuild") == "2770 root:docker")
        #expect(Self.owned("/run/safebuild") == "0750 root:docker")
        for file in ["remedies.state", "admission.ledger", "engine.state"] {
            #expect(Self.owned("/run/safebuild/" + file) == "0660 root:docker", "\(file)")
        }
        for file in [
            "/usr/lib/tmpfiles.d/safebuild.conf", "/usr/share/bash-completion/completions/safebuild",
            "/usr/share/zsh/vendor-completions/_safebuild", "/usr/share/fish/vendor_completions.d/safebuild.fish",
            "/usr/share/safebuild/sudoers",
        ] {
            #expect(Self.stat(file)?.type == S_IFREG, "\(file)")
        }

        let bed = Installed(prefix: "/usr", output: installed)
        let doctor = try asMember(bed, ["/usr/bin/safebuild", "doctor", "--no-engine"])
        #expect(doctor.code == 0 || doctor.code == 1 || doctor.code == 2, "\(doctor.stderrText)")
        let report = doctor.stdoutText
        #expect(report.contains("ok      policy: /etc/safebuild/policy.yml (the host policy) in effect"), "\(report)")
        #expect(report.contains("ok      journal: /var/log/safebuild/journal.jsonl (directory root:docker 2770"), "\(report)")
        #expect(report.contains("\(user) can write it"), "\(report)")
        #expect(report.contains("ok      state: host-wide: /run/safebuild (root:docker 0750)"), "\(report)")

        let purged = try ProcessRunner.run("/usr/bin/dpkg", ["--purge", "safebuild"], environment: env, timeout: 300)
        #expect(purged.code == 0, "\(purged.stderrText)")
        for gone in ["/usr/bin/safebuild", "/etc/safebuild", "/var/log/safebuild", "/run/safebuild", "/usr/lib/safebuild"] {
            #expect(Self.stat(gone) == nil, "\(gone)")
        }
    }
}
}
