import Foundation
import Glibc
import SafebuildTestSupport
import Testing

@testable import SafebuildKit

/// The host policy holds (issue 12): where it is, when it is trusted, how the layers below it are held to it, and
/// policy files that cannot be read as a policy. Real files in a temporary directory; the tests run as root, as CI
/// does, and give files to an unused uid to stand for another user.
@Suite struct PolicyTrustTests {
    static let gib = Size.gib
    /// An unused uid standing for the other user (the `jenkins` of the issue).
    static let other: uid_t = 54321

    /// A directory with a host policy, a project directory and the paths of both.
    struct Bed {
        let dir: TemporaryDirectory
        var host: String { dir.path + "/etc/policy.yml" }
        var project: String { dir.path + "/work" }

        init(host: String? = nil, project: String? = nil) throws {
            dir = try TemporaryDirectory()
            try dir.directory("etc")
            try dir.directory("work")
            if let host { try dir.write("etc/policy.yml", Array(host.utf8)) }
            if let project { try dir.write("work/safebuild.yml", Array(project.utf8)) }
        }

        func load(_ options: SafebuildOptions = SafebuildOptions(), environment: [String: String] = [:]) throws(SafebuildError) -> LoadedPolicy {
            try PolicyLoader.load(
                options: options, environment: environment, currentDirectory: project, hostPath: host, hostMemory: 16 * gib)
        }
    }

    // MARK: - Where the host policy is

    @Test(arguments: [
        ("/usr/bin/safebuild", "/etc/safebuild/policy.yml"), ("/usr/local/bin/safebuild", "/etc/safebuild/policy.yml"),
        ("/bin/safebuild", "/etc/safebuild/policy.yml"), ("/usr/sbin/safebuild", "/etc/safebuild/policy.yml"),
        ("/opt/safebuild/bin/safebuild", "/opt/safebuild/etc/safebuild/policy.yml"),
        ("/tmp/sb-test.Xy12/bin/safebuild", "/tmp/sb-test.Xy12/etc/safebuild/policy.yml"),
        ("/srv/tools/sbin/safebuild", "/srv/tools/etc/safebuild/policy.yml"),
        ("/work/app/.build/debug/safebuild", "/etc/safebuild/policy.yml"), ("/safebuild", "/etc/safebuild/policy.yml"),
    ])
    func hostPolicyFollowsTheBinary(executable: String, policy: String) {
        #expect(HostPolicyLocation.path(executable: executable) == policy)
    }

    // MARK: - A host policy only root could have written

    @Test func aTrustedHostPolicyIsUsed() throws {
        try #require(geteuid() == 0, "these tests run as root, as CI does")
        let bed = try Bed(host: "run:\n  memory: 1g\n")
        let loaded = try bed.load()
        #expect(loaded.warnings == [])
        #expect(loaded.files == [LoadedPolicy.File(path: bed.host, layer: .host, origin: .host)])
        #expect(loaded.policy.run.memory.value == .limit(.bytes(Self.gib)))
        #expect(loaded.policy.run.memory.source.layer == .host)
    }

    /// Another user's file, a group- or world-writable one, or one in a directory others can write: warned of, and
    /// the built-in default used instead.
    @Test(arguments: ["owner", "group-writable", "world-writable", "directory", "symlink-out"])
    func aHostPolicyOthersCouldWriteIsNotUsed(_ how: String) throws {
        try #require(geteuid() == 0, "these tests run as root, as CI does")
        let bed = try Bed(host: "run:\n  memory: unlimited\njournal:\n  path: /home/jenkins/journal.jsonl\n")
        var reason = ""
        switch how {
        case "owner":
            chown(bed.host, Self.other, UInt32.max)
            reason = "\(bed.host) belongs to uid \(Self.other), not root (chown root, chmod go-w)"
        case "group-writable":
            chmod(bed.host, 0o664)
            reason = "\(bed.host) can be written by its group or by anyone (chmod go-w)"
        case "world-writable":
            chmod(bed.host, 0o646)
            reason = "\(bed.host) can be written by its group or by anyone (chmod go-w)"
        case "directory":
            chmod(bed.dir.path + "/etc", 0o777)
            reason = "its directory \(bed.dir.path)/etc can be changed by others than root"
        default:
            // A symlink root placed, to a file in a directory others can write.
            try bed.dir.directory("open")
            chmod(bed.dir.path + "/open", 0o777)
            try bed.dir.write("open/policy.yml", Array("run:\n  memory: unlimited\n".utf8))
            unlink(bed.host)
            try bed.dir.symlink("etc/policy.yml", to: bed.dir.path + "/open/policy.yml")
            reason = "its directory \(bed.dir.path)/open can be changed by others than root"
        }
        let loaded = try bed.load()
        #expect(loaded.warnings == ["host policy \(bed.host) is not used: \(reason); the built-in default applies instead"])
        #expect(loaded.files == [])
        #expect(loaded.policy == PolicyLoader.settlingCeilings(PolicyLoader.builtIn))
    }

    @Test func aSymlinkRootPlacedToARootFileIsFollowed() throws {
        try #require(geteuid() == 0)
        let bed = try Bed()
        try bed.dir.directory("config")
        try bed.dir.write("config/safebuild.yml", Array("run:\n  memory: 2g\n".utf8))
        try bed.dir.symlink("etc/policy.yml", to: "../config/safebuild.yml")
        let loaded = try bed.load()
        #expect(loaded.warnings == [])
        #expect(loaded.policy.run.memory.value == .limit(.bytes(2 * Self.gib)))
    }

    // MARK: - The layers: built-in < host < project < user

    @Test func theLayersKeepEverySource() throws {
        let bed = try Bed(
            host: "run:\n  memory: 4g\nrules:\n  - match: {image: \"ml/*\"}\n    memory: 3g\n",
            project: "run:\n  swap: unlimited\nrules:\n  - match: {image: \"ml/big\"}\n    memory: 2g\n")
        try bed.dir.write("mine.yml", Array("run:\n  shm_size: 1g\n".utf8))
        var options = SafebuildOptions()
        options.policyPath = bed.dir.path + "/mine.yml"
        let loaded = try bed.load(options, environment: ["SAFEBUILD_POLICY": options.policyPath!])
        #expect(loaded.files.map(\.layer) == [.host, .project, .user])
        #expect(loaded.files.last?.origin == .variable)
        let p = loaded.policy
        #expect(p.run.memory.source.withLayer == "host \(bed.host):2")
        #expect(p.run.swap.source.withLayer == "project \(bed.project)/safebuild.yml:2")
        #expect(p.run.shmSize.source.withLayer == "user \(bed.dir.path)/mine.yml:2")
        #expect(p.build.memory.source.withLayer == "built-in default:33")
        // The project's rules come after the host's: a later rule wins.
        #expect(p.rules.map(\.source.layer) == [.host, .project])
        let limits = p.limits(for: MatchContext(command: .run, images: ["ml/big"], hostMemory: 16 * Self.gib))
        #expect(limits.memory == 2 * Self.gib)
        #expect(loaded.sourceDescription == "\(bed.host) < \(bed.project)/safebuild.yml < \(bed.dir.path)/mine.yml")
    }

    /// The issue's repository: `run.memory: unlimited` and the journal moved into the repository. Neither holds.
    @Test func aRepositoryCannotLiftTheHostsLimitOrMoveTheJournal() throws {
        let bed = try Bed(
            host: "run:\n  memory: 1g\n",
            project: "run:\n  memory: unlimited\nbuild:\n  memory: 64g\n  enforce: off\njournal:\n  path: ./journal.jsonl\n  max_size: 1k\n  keep: 0\nremedies:\n  lock_dir: /tmp/x\n")
        let loaded = try bed.load()
        let file = bed.project + "/safebuild.yml"
        #expect(loaded.warnings == [
            "\(file):6:1: journal can be set only in the host policy; ignored here",
            "\(file):10:1: remedies can be set only in the host policy; ignored here",
        ])
        #expect(loaded.policy.journal == PolicyLoader.builtIn.journal)
        #expect(loaded.policy.remedies == PolicyLoader.builtIn.remedies)
        let run = loaded.policy.limits(for: MatchContext(command: .run, images: ["x"], hostMemory: 16 * Self.gib))
        #expect(run.memory == Self.gib)
        #expect(run.decisions.first?.sentence
            == "memory unlimited from run.memory at \(file):2, lowered to the host's ceiling 1g (run.max_memory 1g at \(bed.host):2)")
        // No host value for build: the ceiling is the built-in 25%; enforce off from the project stays notice.
        let build = loaded.policy.limits(for: MatchContext(command: .build, images: ["x"], hostMemory: 16 * Self.gib))
        #expect(build.memory == 4 * Self.gib)
        #expect(build.enforcement == .notice)
        #expect(build.decisions.map(\.sentence) == [
            "build enforce off from build.enforce at \(file):5, taken as notice: under the host's ceiling (build.max_memory 4g (25% of 16g host memory) at built-in default:33) builds keep their memory flags",
            "memory 64g from build.memory at \(file):4, lowered to the host's ceiling 4g (build.max_memory 4g (25% of 16g host memory) at built-in default:33)",
            "swap none (--memory-swap 4g, equal to memory) from build.swap at built-in default:34",
        ])
    }

    /// Below the ceiling a project lowers limits freely, in defaults and rules; a host ceiling of `unlimited` lets
    /// it ask for more; the host's own rules are its own.
    @Test func belowTheCeilingAndAboveIt() throws {
        let bed = try Bed(
            host: "run:\n  memory: 2g\n  max_memory: 8g\nrules:\n  - match: {image: \"ml/*\"}\n    memory: 12g\n",
            project: "run:\n  memory: 512m\nrules:\n  - match: {image: \"big/*\"}\n    memory: 6g\n  - match: {image: \"huge/*\"}\n    memory: 50%\n")
        let p = try bed.load().policy
        func memory(_ image: String) -> UInt64? {
            p.limits(for: MatchContext(command: .run, images: [image], hostMemory: 16 * Self.gib)).memory
        }
        #expect(memory("app") == 512 * Size.mib)
        #expect(memory("big/x") == 6 * Self.gib)
        #expect(memory("huge/x") == 8 * Self.gib)
        #expect(memory("ml/x") == 12 * Self.gib)

        let open = try Bed(host: "run:\n  max_memory: unlimited\n", project: "run:\n  memory: unlimited\n")
        #expect(try open.load().policy.limits(for: MatchContext(command: .run, hostMemory: 16 * Self.gib)).memory == nil)

        // A host that sets only a ceiling holds the built-in default to it too (25% of 16g is above 2g).
        let ceilingOnly = try Bed(host: "build:\n  max_memory: 2g\n")
        let build = try ceilingOnly.load().policy.limits(for: MatchContext(command: .build, hostMemory: 16 * Self.gib))
        #expect(build.memory == 2 * Self.gib)
        #expect(build.decisions.contains {
            $0.sentence == "memory 25% from build.memory at built-in default:33, lowered to the host's ceiling 2g (build.max_memory 2g at \(ceilingOnly.host):2)"
        })
    }

    /// What a project or user policy may set (the allow-list), and every other key ignored with one warning naming
    /// FILE:LINE:COL.
    @Test func hostOnlyKeysAreIgnoredWithAWarning() throws {
        let text = """
            version: 1
            run:
              memory: 1g
              max_memory: 100g
            build:
              enforce: notice
            retry:
              max_attempts: 2
              backoff: {initial: 1s, max: 10s, jitter: 0}
              deadline: 5m
              raise_memory: {factor: 16}
              cooldown: 0
            preflight:
              wait_timeout: 1h
              engine_timeout: 5m
            signatures:
              - {class: oom_container, contains: "anything"}
            docker:
              path: /tmp/evil-docker
              stop_grace: 1m
            protection:
              allow_off: true
            admission:
              budget: 1g
            limits:
              memory: 1

            """
        let outcome = PolicyParser.read(text, file: "p.yml", layer: .project, over: PolicyLoader.builtIn)
        #expect(outcome.warnings.map(\.description) == [
            "p.yml:4:3: warning: run.max_memory can be set only in the host policy; ignored here",
            "p.yml:11:3: warning: retry.raise_memory can be set only in the host policy; ignored here",
            "p.yml:12:3: warning: retry.cooldown can be set only in the host policy; ignored here",
            "p.yml:14:3: warning: preflight.wait_timeout can be set only in the host policy; ignored here",
            "p.yml:15:3: warning: preflight.engine_timeout can be set only in the host policy; ignored here",
            "p.yml:16:1: warning: signatures can be set only in the host policy; ignored here",
            "p.yml:18:1: warning: docker can be set only in the host policy; ignored here",
            "p.yml:21:1: warning: protection can be set only in the host policy; ignored here",
            "p.yml:23:1: warning: admission can be set only in the host policy; ignored here",
        ])
        // An unknown key is still an error, in any layer.
        let errors = (try? outcome.result.get()) == nil
        #expect(errors)
        let known = PolicyParser.read(
            text.replacingOccurrences(of: "limits:\n  memory: 1\n", with: ""), file: "p.yml", layer: .project,
            over: PolicyLoader.builtIn)
        let p = try known.result.get()
        #expect(p.run.memory.value == .limit(.bytes(Self.gib)))
        #expect(p.buildEnforce.value == .notice)
        #expect(p.retry.maxAttempts.value == 2)
        #expect(p.retry.backoff.max.value == 10)
        #expect(p.retry.deadline.value == 300)
        #expect(p.retry.raiseMemory == PolicyLoader.builtIn.retry.raiseMemory)
        #expect(p.retry.cooldown == PolicyLoader.builtIn.retry.cooldown)
        #expect(p.signatures == [])
        #expect(p.docker == PolicyLoader.builtIn.docker)
    }

    /// The issue's attack: a project forcing drop_caches and compact_memory on every command. Ignored.
    @Test func aProjectCannotForceHostWideRemedies() throws {
        let bed = try Bed(
            project: "preflight:\n  min_available: {value: 100%, action: remediate}\nretry:\n  cooldown: 0\n"
                + "remedies:\n  drop_caches_max_available: 100%\n  drop_caches_min_cache: 0\n  compact_memory_max_free: 8p\n")
        let loaded = try bed.load()
        let file = bed.project + "/safebuild.yml"
        #expect(loaded.warnings == [
            "\(file):2:26: preflight.min_available 100% would run the host-wide remedies of the host's action 'remediate' more often than the host's 512m; ignored here",
            "\(file):2:40: preflight.min_available.action can be set only in the host policy; ignored here",
            "\(file):4:3: retry.cooldown can be set only in the host policy; ignored here",
            "\(file):5:1: remedies can be set only in the host policy; ignored here",
        ])
        #expect(loaded.policy.preflight.minAvailable == PolicyLoader.builtIn.preflight.minAvailable)
        #expect(loaded.policy.retry.cooldown == PolicyLoader.builtIn.retry.cooldown)
        #expect(loaded.policy.remedies == PolicyLoader.builtIn.remedies)
    }

    /// Thresholds: only stricter, never looser, never `off`, and never for a `remediate` check; the action is the
    /// host's.
    @Test(arguments: [
        ("max_pressure: 10", []),
        ("max_pressure: 90", ["p.yml:1:27: warning: preflight.max_pressure 90 would loosen the host's check (40 at built-in default:71); ignored here"]),
        ("max_pressure: off", ["p.yml:1:27: warning: preflight.max_pressure off would loosen the host's check (40 at built-in default:71); ignored here"]),
        // The built-in action is remediate (free_disk prunes host-wide): a project cannot make it run more often.
        ("min_free_disk: 20g", [
            "p.yml:1:28: warning: preflight.min_free_disk 20g would run the host-wide remedies of the host's action 'remediate' more often than the host's 2g; ignored here",
        ]),
        ("min_free_disk: {value: 1g, action: refuse}", [
            "p.yml:1:36: warning: preflight.min_free_disk 1g would loosen the host's check (2g at built-in default:75); ignored here",
            "p.yml:1:48: warning: preflight.min_free_disk.action can be set only in the host policy; ignored here",
        ]),
        ("max_build_cache: 1g", ["p.yml:1:30: warning: preflight.max_build_cache 1g would run the host-wide remedies of the host's action 'remediate' more often than the host's 10g; ignored here"]),
        ("min_free_blocks: {value: {order: 4, count: 8}}", ["p.yml:1:38: warning: preflight.min_free_blocks {order: 4, count: 8} cannot be compared with the host's {order: 3, count: 16} here, so it may loosen the host's check; ignored here"]),
    ])
    func thresholdsOnlyStricter(setting: String, warnings: [String]) throws {
        let text = "preflight: {\(setting)}\n"
        let outcome = PolicyParser.read(text, file: "p.yml", layer: .project, over: PolicyLoader.builtIn)
        #expect(outcome.warnings.map(\.description) == warnings)
        let warning = warnings.first
        let p = try outcome.result.get()
        let changed = p.preflight != PolicyLoader.builtIn.preflight
        #expect(changed == (warning == nil))
        #expect(p.preflight.maxPressure.action == PolicyLoader.builtIn.preflight.maxPressure.action)
    }

    /// Ladders: retry by retry, only remedies the host's ladder runs at that retry; a class the host never retries
    /// stays unretried.
    @Test(arguments: [
        ("network_enomem: [[drop_caches]]", nil),
        ("network_enomem: [[], [prune_build_cache]]", nil),
        ("network_enomem: []", nil),
        ("network_enomem: [[prune_build_cache, drop_caches]]", "p.yml:1:35: warning: retry.ladders.network_enomem runs prune_build_cache before retry 1, where the host's ladder runs only [drop_caches, compact_memory]; ignored here"),
        ("not_memory: [[]]", "p.yml:1:31: warning: retry.ladders.not_memory would retry not_memory, which the host's policy does not retry; ignored here"),
        ("oom_container: [[raise_memory], [raise_memory], [drop_caches]]", "p.yml:1:34: warning: retry.ladders.oom_container runs drop_caches before retry 3, where the host's ladder runs only [raise_memory]; ignored here"),
    ])
    func laddersOnlyDoLess(setting: String, warning: String?) throws {
        let outcome = PolicyParser.read(
            "retry: {ladders: {\(setting)}}\n", file: "p.yml", layer: .user, over: PolicyLoader.builtIn)
        #expect(outcome.warnings.map(\.description) == (warning.map { [$0] } ?? []))
        let p = try outcome.result.get()
        #expect((p.retry.ladders == PolicyLoader.builtIn.retry.ladders) == (warning != nil))
    }

    /// Attempts: a project or user policy, and --sb-max-attempts, at most the host's.
    @Test func attemptsAreClampedToTheHosts() throws {
        let bed = try Bed(host: "retry:\n  max_attempts: 2\n", project: "retry:\n  max_attempts: 50\n")
        let loaded = try bed.load()
        let file = bed.project + "/safebuild.yml"
        #expect(loaded.warnings == ["\(file):2:17: retry.max_attempts 50 is above the host's 2 (\(bed.host):2); clamped to 2"])
        #expect(loaded.policy.retry.maxAttempts.value == 2)
        #expect(loaded.policy.retry.maxAttempts.note == "clamped from 50 to the host's 2")

        var options = SafebuildOptions()
        options.maxAttempts = 9
        let plan = SupervisionPlan(
            docker: "/usr/bin/docker", commandLine: DockerCommandLine(["run", "img"]), command: .run, policy: loaded,
            host: SupervisionPlanTests.host, options: options, environment: [:])
        #expect(plan.retry.maxAttempts == 2)
        #expect(plan.policyDecisions.last == "--sb-max-attempts 9 is above the host's retry.max_attempts 2 at \(bed.host):2; lowered to 2")
    }

    /// The user's own -m above the ceiling: the host's choice.
    @Test(arguments: [MemoryFlagAction.allow, .clamp, .refuse])
    func memoryFlagAboveTheCeiling(_ action: MemoryFlagAction) throws {
        let bed = try Bed(host: "run:\n  memory: 1g\nprotection:\n  memory_flag: \(action)\n")
        let plan = SupervisionPlan(
            docker: "/usr/bin/docker", commandLine: DockerCommandLine(["run", "-m", "8g", "img", "sh"]), command: .run,
            policy: try bed.load(), host: SupervisionPlanTests.host, options: SafebuildOptions(), environment: [:])
        let above = "your --memory 8g is above the host's ceiling 1g (run.max_memory 1g at \(bed.host):2)"
        switch action {
        case .allow:
            #expect(plan.arguments == ["run", "--memory-swap", "8g", "-m", "8g", "img", "sh"])
            #expect(plan.injectionDecisions.first == "\(above); kept, as the host allows (protection.memory_flag: allow)")
            #expect(plan.refusal == nil)
        case .clamp:
            #expect(plan.arguments == ["run", "--memory-swap", "8g", "-m", "8g", "--memory", "1g", "--memory-swap", "1g", "img", "sh"])
            #expect(plan.memory == Self.gib)
            #expect(plan.injectionDecisions.first == "\(above); lowered to 1g (protection.memory_flag: clamp)")
        case .refuse:
            #expect(plan.refusal == "--memory 8g is above the host's ceiling 1g (run.max_memory 1g at \(bed.host):2); give at most --memory 1g, or none (protection.memory_flag: refuse)")
        }
        // Within the ceiling, nothing is said.
        let within = SupervisionPlan(
            docker: "/usr/bin/docker", commandLine: DockerCommandLine(["run", "-m", "512m", "img"]), command: .run,
            policy: try bed.load(), host: SupervisionPlanTests.host, options: SafebuildOptions(), environment: [:])
        #expect(within.refusal == nil)
        #expect(within.arguments == ["run", "--memory-swap", "512m", "-m", "512m", "img"])
    }

    /// `policy check` of a project's file says what would be ignored, and the file is still valid (exit 0); the
    /// host policy itself is checked as one.
    @Test func checkReportsIgnoredKeys() throws {
        let bed = try Bed(host: "journal:\n  path: /var/log/sb.jsonl\n", project: "run:\n  memory: 1g\njournal:\n  path: x.jsonl\n")
        var out = "", err = ""
        let status = PolicyCommand.check(
            ["safebuild.yml", bed.host], currentDirectory: bed.project, hostPath: bed.host, out: { out += $0 },
            err: { err += $0 })
        #expect(status == 0)
        #expect(out == "safebuild.yml: ok as a project policy (1 warning)\n\(bed.host): ok as a host policy\n")
        #expect(err == "safebuild.yml:3:1: warning: journal can be set only in the host policy; ignored here\n")
    }

    // MARK: - Files that cannot be read as a policy

    /// A repository's ./safebuild.yml that is a symlink to a device, a FIFO, a directory or a 50 MB file: refused at
    /// once with exit 66 and one line naming the file, before anything is read.
    @Test(arguments: ["/dev/zero", "/dev/urandom", "fifo", "directory", "50 MB"])
    func aFileThatCannotBeAPolicyIsExit66AtOnce(_ what: String) throws {
        let bed = try Bed()
        let file = bed.project + "/safebuild.yml"
        let reason: String
        switch what {
        case "fifo":
            mkfifo(file, 0o644)
            reason = "is a FIFO, not a regular file"
        case "directory":
            mkdir(file, 0o755)
            reason = "is a directory, not a regular file"
        case "50 MB":
            let fd = open(file, O_WRONLY | O_CREAT, 0o644)
            ftruncate(fd, 50 << 20)
            close(fd)
            reason = "is 50.0 MiB, larger than the 1.0 MiB safebuild reads"
        default:
            symlink(what, file)
            reason = "is a device, not a regular file"
        }
        do {
            _ = try bed.load()
            Issue.record("loaded \(what)")
        } catch {
            #expect(error.status == .noInput)
            #expect(error.message == "cannot read policy file \(file) (from ./safebuild.yml in the current directory): \(reason)")
        }
        // `policy check` too.
        var err = ""
        #expect(PolicyCommand.check([file], currentDirectory: bed.project, hostPath: bed.host, out: { _ in }, err: { err += $0 }) == 66)
        #expect(err == "safebuild: error: cannot read policy file \(file): \(reason)\n")
        // And a protected command of the real binary, within 400 MB of address space: one line, exit 66, at once.
        let run = try Self.protectedRun(in: bed.project)
        #expect(run.code == 66)
        #expect(run.stderrText == "safebuild: error: cannot read policy file \(file) (from ./safebuild.yml in the current directory): \(reason)\n")
        #expect(run.seconds < 2, "\(run.seconds) s")
    }

    /// `safebuild run alpine true` in `directory` (the real binary; docker is /bin/true, never reached), under
    /// `ulimit -v 400000` so that any growth ends it; and how long it took.
    static func protectedRun(in directory: String) throws -> (code: Int32, stderrText: String, seconds: Double) {
        let safebuild = try SafebuildBinary.path()
        var environment = Environment.current().filter { !$0.key.hasPrefix("SAFEBUILD_") }
        environment["SAFEBUILD_DOCKER"] = "/bin/true"
        let started = JournalTime.now()
        let result = try ProcessRunner.run(
            "/bin/sh", ["-c", "ulimit -v 400000; exec \"$0\" \"$@\"", safebuild, "run", "alpine", "true"],
            environment: environment, workingDirectory: directory, timeout: 30)
        #expect(!result.timedOut)
        return (result.code, result.stderrText, JournalTime.now() - started)
    }

    /// Within 1 MiB, text that is no policy: invalid (exit 78) at once, with a bounded message.
    @Test(arguments: ["random", "nesting", "aliases", "many errors", "long line", "many rules"])
    func textThatIsNoPolicyIsExit78(_ what: String) throws {
        var bytes: [UInt8]
        switch what {
        case "random":
            bytes = [UInt8](repeating: 0, count: 1 << 20)
            var state: UInt64 = 0x9E37_79B9_7F4A_7C15
            for i in bytes.indices {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                bytes[i] = UInt8(truncatingIfNeeded: state >> 33)
            }
        case "nesting":
            bytes = Array(("rules: " + String(repeating: "[", count: 500_000) + String(repeating: "]", count: 500_000)).utf8)
        case "aliases":
            // Billion laughs: nine levels of nine aliases, 387 million nodes when expanded.
            var text = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
            var previous = "a"
            for name in ["b", "c", "d", "e", "f", "g", "h", "i"] {
                text += "\(name): &\(name) [" + Array(repeating: "*\(previous)", count: 9).joined(separator: ", ") + "]\n"
                previous = name
            }
            bytes = Array((text + "rules: [{*i : 1}]\n").utf8)
        case "many errors":
            bytes = Array(("run:\n" + (0..<20000).map { "  k\($0): 1\n" }.joined()).utf8)
        case "many rules":
            bytes = Array(("rules:\n" + String(repeating: "  - {match: {image: \"x\"}, memory: 1g}\n", count: 20000)).utf8)
        default:
            bytes = Array(("run: {memory: " + String(repeating: "x", count: 900_000) + "}\n").utf8)
        }
        #expect(bytes.count <= 1 << 20)
        let bed = try Bed()
        try bed.dir.write("work/safebuild.yml", bytes)
        do {
            _ = try bed.load()
            Issue.record("loaded \(what)")
        } catch {
            #expect(error.status == .policy)
            let lines = error.message.split(separator: "\n")
            #expect(lines.count <= PolicyParser.maximumErrors + 2)
            #expect(error.message.utf8.count < 40_000)
            if what == "aliases" {
                // The first alias, in the second anchor's list.
                #expect(lines.last == "\(bed.project)/safebuild.yml:2:8: error: a YAML alias ('*…') is not accepted in a policy: an alias can make a small file expand without bound; expected the value written out; a glob that starts with * is quoted, as in \"**/models/**\"")
            }
            if what == "many errors" {
                #expect(lines.last == "\(bed.project)/safebuild.yml:51:3: error: 19950 more problem(s) not listed")
            }
            if what == "many rules" {
                #expect(lines.last == "\(bed.project)/safebuild.yml:2:3: error: rules has 20000 items, more than the 1000 safebuild reads; expected a list of rules, each '- match: {…}' with settings")
            }
            if what == "nesting" {
                #expect(error.message.contains("Maximum nesting level reached"))
            }
        }
        // The real binary, bounded in memory, promptly. (Timed there: in this process, Swift Testing records a
        // backtrace for every error thrown, and repairing invalid UTF-8 throws one per bad byte.)
        let run = try Self.protectedRun(in: bed.project)
        #expect(run.code == 78)
        #expect(run.stderrText.hasPrefix("safebuild: error: policy \(bed.project)/safebuild.yml is invalid"))
        #expect(run.seconds < 10, "\(run.seconds) s")
    }

    /// What the alias scan reads as an alias, and what it leaves: quoted text, comments, block scalars, globs.
    @Test(arguments: [
        ("a: *x\n", 1, 4), ("- *x\n", 1, 3), ("{a: [1, *x]}\n", 1, 9), ("? *x\n: 1\n", 1, 3), ("*x : 1\n", 1, 1),
        ("a: {*x: 1}\n", 1, 5), ("a: b\n  # *x\nc: \"*x\"\nd: '*y'\ne: ml/*\nf: python:*\ng: *z\n", 7, 4),
        ("p: |\n  *not an alias\n  - *neither\nq: *yes\n", 4, 4),
        ("- key: >\n    *text\n  other: *x\n", 3, 10),
    ])
    func aliasScan(text: String, line: Int, column: Int) {
        let found = YAMLAliases.first(in: text)
        #expect(found?.line == line && found?.column == column, "\(String(describing: found))")
    }

    @Test(arguments: ["image: \"ml/*\"\n", "a: ml/*\nb: '**/x'\n", "s: 'it''s *x'\n", "d: \"a\\\"*b\"\n", "c: x # *y\n", "t: a *b\n"])
    func noAlias(text: String) {
        #expect(YAMLAliases.first(in: text) == nil)
    }

    // MARK: - Bounds

    /// docker.stop_grace: at most 1m, and a warning above Jenkins' 5 s soft-kill wait.
    @Test func stopGraceIsBoundedAndWarnedOf() throws {
        let warned = PolicyParser.read("docker:\n  stop_grace: 10s\n", file: "h.yml", layer: .host, over: PolicyLoader.builtIn)
        #expect(try warned.result.get().docker.stopGrace.value == 10)
        #expect(warned.warnings.map(\.description) == [
            "h.yml:2:15: warning: docker.stop_grace 10s is longer than Jenkins' soft-kill wait of 5s (SoftKillWaitSeconds): an aborted build may be killed before safebuild stops its container"
        ])
        let quiet = PolicyParser.read("docker:\n  stop_grace: 5s\n", file: "h.yml", layer: .host, over: PolicyLoader.builtIn)
        #expect(quiet.warnings == [])
        let refused = PolicyParser.parse("docker:\n  stop_grace: 61s\n", file: "h.yml", layer: .host, over: PolicyLoader.builtIn)
        #expect(throws: PolicyError.self) { try refused.get() }
    }

    /// Every key of the schema, at the extremes it accepts, read and shown (YAML and JSON) without a trap, and the
    /// shown YAML read back to the same values. A key whose type has no extremes here fails the test: add them.
    @Test func everyKeyAtItsExtremesIsShown() throws {
        let extremes: [String: [String]] = [
            "memory limit": ["6m", "8p", "100%", "0.01%", "unlimited"],
            "memory limit or empty": ["6m", "8p", "100%", "unlimited", ""],
            "swap rule": ["none", "unlimited", "8p", "100%"],
            "size or share of host memory": ["0", "8p", "100%", "0.01%"],
            "size or share of host memory or empty": ["0", "8p", "100%", ""],
            "size": ["0", "8p", "1b"],
            "duration": ["0", "0.000000001", "1ns"],
            "percentage": ["0", "100", "99.999"],
            "true or false": ["true", "false"],
            "text": ["docker", "x"],
            "absolute path": ["/", "/" + String(repeating: "a", count: 4000)],
            "absolute path or empty": ["/", ""],
            "list of variable names": ["[]", "[A, _B, C9]"],
            "{order, count}": ["{order: 0, count: 1}", "{order: 10, count: 1099511627776}"],
        ]
        var tested: Set<String> = []
        func walk(_ section: PolicySection<Policy>, _ path: [String]) throws {
            for key in section.keys {
                let here = path + [key.name]
                switch key.shape {
                case .section(let inner):
                    try walk(inner, here)
                case .value:
                    guard key.location != nil, !["ladders", "rules", "signatures"].contains(key.name) else { continue }
                    var type = key.type
                    var values: [String]
                    if type.hasPrefix("threshold: ") {
                        type = type.replacingOccurrences(of: "threshold: ", with: "")
                            .replacingOccurrences(of: " or off, and an action", with: "")
                        values = (extremes[type] ?? []).map { "{value: \($0)}" } + ["off"]
                    } else if type.hasPrefix("duration") {
                        // Its own most, from the grammar's name ("duration, at most 1m").
                        let most = type.components(separatedBy: "at most ").last ?? "87600h"
                        values = (type.contains("more than 0") ? ["1ns"] : ["0"]) + [type.contains("at most") ? most : "87600h"]
                    } else if type.hasPrefix("one of ") {
                        values = type.dropFirst("one of ".count).components(separatedBy: ", ")
                    } else if type.hasPrefix("number from") || type.hasPrefix("whole number from") {
                        let words = type.split(separator: " ").suffix(3)
                        values = [String(words.first!), String(words.last!)]
                    } else {
                        values = extremes[type] ?? []
                    }
                    #expect(!values.isEmpty, "no extremes for \(here.joined(separator: ".")) (\(key.type))")
                    tested.insert(here.joined(separator: "."))
                    for value in values {
                        var yaml = ""
                        for (depth, name) in here.enumerated() {
                            yaml += String(repeating: "  ", count: depth) + name + ":"
                            yaml += depth == here.count - 1 ? " \(value)\n" : "\n"
                        }
                        let policy: Policy
                        switch PolicyParser.parse(yaml, file: "x.yml", over: PolicyLoader.builtIn) {
                        case .success(let p): policy = p
                        case .failure(let error):
                            // An extreme the cross-checks refuse (swap below the default memory) is fine to refuse.
                            #expect(error.description.contains("below"), "\(here.joined(separator: ".")): \(value): \(error)")
                            continue
                        }
                        let loaded = LoadedPolicy(policy: PolicyLoader.settlingCeilings(policy), file: "x.yml", origin: .host)
                        let shown = PolicyShow.yaml(loaded, hostMemory: UInt64.max)
                        _ = PolicyShow.json(loaded, hostMemory: 0)
                        _ = PolicyShow.yaml(loaded, hostMemory: nil)
                        let again = PolicyParser.parse(shown, file: "shown.yml", over: PolicyLoader.builtIn)
                        #expect((try? again.get()) != nil, "\(here.joined(separator: ".")): \(value): \(shown)")
                        _ = policy.limits(for: MatchContext(command: .run, images: ["x"], hostMemory: UInt64.max))
                        _ = policy.limits(for: MatchContext(command: .build, images: ["x"], hostMemory: 0))
                        _ = RemedySettings(policy: policy, hostMemory: UInt64.max)
                        _ = policy.thresholds(hostMemory: UInt64.max)
                    }
                }
            }
        }
        try walk(PolicySchema.policy, [])
        #expect(tested.count > 35)
    }
}
