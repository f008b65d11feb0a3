import Foundation
import Glibc
import SafebuildTestSupport
import Testing

@testable import SafebuildKit

/// Faults made for real, as a user meets them (issue 16): an ENOMEM the user caused (`--ulimit data=1000000` makes
/// runc fail with `cannot allocate memory` every time) on this healthy host, and a data root that really fills (a
/// private engine whose data root is a small tmpfs). What the user sees: exit status, safebuild's lines, the
/// journal's attempts, their evidence and remedies.
extension EngineSuites {
    @Suite(.serialized) struct RealFaultEngineTests {
        let engine: TestEngine
        let installed: InstalledSafebuild
        var safebuild: String { installed.binary }
        let dir: TemporaryDirectory

        init() throws {
            engine = try TestEngine.current()
            installed = try InstalledSafebuild()
            dir = try TemporaryDirectory()
        }

        /// The built-in policy's ladders, remedies and retry bounds, with no pre-flight checks (unless given), no
        /// memory defaults, a short backoff and locks in this test's directory.
        func policy(preflight: String? = nil, remedies: String = "", retry: String = "") throws -> String {
            let text = """
                version: 1
                run: {memory: unlimited}
                build: {memory: unlimited}
                preflight:
                \(preflight ?? "  min_available: off\n  max_pressure: off\n  max_build_cache: off\n  min_free_disk: off\n  min_free_blocks: off")
                retry:
                  backoff: {initial: 0.1, max: 0.1, jitter: 0}
                  cooldown: 0
                \(retry)
                remedies:
                  state_dir: \(dir.path)/locks
                \(remedies)

                """
            return try dir.write("policy-\(UInt32.random(in: 0...UInt32.max)).yml", Array(text.utf8))
        }

        struct Outcome {
            var result: ProcessResult
            var journal: JournalContents
            var attempts: [AttemptRecord] { journal.attempts }
            var lines: [String] { result.stderrText.split(separator: "\n").map(String.init) }
        }

        func sb(
            _ arguments: [String], policy: String, host: String? = nil, cwd: String? = nil, timeout: Double = 180
        ) throws -> Outcome {
            let journal = dir.path + "/journal-\(UInt32.random(in: 0...UInt32.max)).jsonl"
            try installed.useAsHostPolicy(policy, journal: journal)
            var env = engine.environment(["SAFEBUILD_JOURNAL": journal])
            if let host { env["DOCKER_HOST"] = host }
            let result = try ProcessRunner.run(safebuild, arguments, environment: env, workingDirectory: cwd, timeout: timeout)
            #expect(!result.timedOut)
            return Outcome(result: result, journal: try JournalReader.read(path: journal))
        }

        // MARK: - The user-caused ENOMEM

        /// runc's ENOMEM from the user's own `--ulimit data=1000000`, on this host (plenty of memory, no pressure):
        /// no host-wide remedy runs; one retry without remedies shows it repeats, and safebuild says why it stops.
        @Test func userCausedENOMEMRunsNoHostWideRemedy() throws {
            let out = try sb(
                ["run", "--rm", "--network=none", "--ulimit", "data=1000000", engine.image, "true"],
                policy: try policy(retry: "  healthy_host_enomem: once"))
            #expect(out.result.code == 125, "\(out.result.stderrText)")
            #expect(out.result.stderrText.contains("cannot allocate memory"))
            #expect(out.attempts.count == 2, "\(out.result.stderrText)")
            #expect(out.attempts.map(\.failureClass) == ["process_enomem", "process_enomem"])
            #expect(out.attempts.flatMap(\.remedies) == [])
            let evidence = try #require(out.attempts.first?.evidence)
            #expect((evidence.memAvailableBytes ?? 0) >= 1 << 30)
            #expect(evidence.dataRoot != nil)
            #expect(evidence.judgement?.hasPrefix("ENOMEM on a healthy host") == true)
            #expect(out.lines.contains { $0.contains("attempt 1/3 failed: ") && $0.contains("no host-wide remedy is run") })
            #expect(out.lines.contains {
                $0.contains("attempt 2/3 failed: ") && $0.contains("giving up: the same ENOMEM again on a healthy host")
            }, "\(out.result.stderrText)")
            #expect(out.journal.invocations.last?.outcome == .failed)
        }

        // MARK: - A data root that really fills

        /// A private engine whose data root is a 150 MB tmpfs (vfs: a RUN step that writes 50 MB needs about twice
        /// that, its container's layer and the committed copy), holding two dangling images of 35 MB from earlier
        /// builds, a tagged image and a dangling image a stopped container uses. Stopped and unmounted at the end.
        final class SmallDisk {
            let dir: String
            let mount: String
            var host: String { "unix://\(dir)/docker.sock" }
            let docker: String
            let image: String
            var keptImages: [String] = []

            init(image: String, docker: String) throws {
                self.image = image
                self.docker = docker
                dir = "/tmp/sbrf-\(UInt32.random(in: 0...UInt32.max))"
                mount = dir + "-mnt"
                guard mkdir(mount, 0o755) == 0 else { throw TestSetupError("cannot make \(mount)") }
                let mounted = try ProcessRunner.run("/bin/mount", ["-t", "tmpfs", "-o", "size=150m", "tmpfs", mount], timeout: 20)
                guard mounted.status == .exited(0) else { throw TestSetupError("mount tmpfs: \(mounted.stderrText)") }
                let script = SafebuildBinary.packageRoot() + "/Scripts/engine.sh"
                let started = try ProcessRunner.run(
                    "/bin/bash", [script, "start", dir, "--dockerd-arg", "--data-root=\(mount)/root"], timeout: 90)
                guard started.status == .exited(0) else { throw TestSetupError("engine.sh start: \(started.stderrText)") }
            }

            func stop() {
                let script = SafebuildBinary.packageRoot() + "/Scripts/engine.sh"
                _ = try? ProcessRunner.run("/bin/bash", [script, "stop", dir], timeout: 60)
                _ = try? ProcessRunner.run("/bin/umount", [mount], timeout: 20)
                rmdir(mount)
                _ = try? ProcessRunner.run("/bin/rm", ["-rf", dir], timeout: 60)
            }

            func run(_ arguments: [String], stdin: [UInt8]? = nil) throws -> ProcessResult {
                var env = Environment.current()
                env["DOCKER_HOST"] = host
                env["DOCKER_BUILDKIT"] = "0"
                return try ProcessRunner.run(docker, arguments, environment: env, stdin: stdin, timeout: 120)
            }

            /// Builds `dockerfile` (context-less, from stdin) untagged: a dangling image; returns its id.
            func danglingImage(_ dockerfile: String) throws -> String {
                let built = try run(["build", "-q", "-"], stdin: Array(dockerfile.utf8))
                guard built.status == .exited(0) else { throw TestSetupError("build: \(built.stderrText)") }
                return built.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
            }

            /// The earlier builds' leftovers: 70 MB of dangling images; a tagged image and a dangling one a stopped
            /// container uses (both must survive every prune).
            func fill() throws {
                for i in 1...2 {
                    _ = try danglingImage("FROM \(image)\nRUN head -c 35000000 /dev/urandom > /blob\(i)\n")
                }
                let tagged = try danglingImage("FROM \(image)\nRUN head -c 3000000 /dev/urandom > /tagged\n")
                _ = try run(["tag", tagged, "sbrf-keep:1"])
                let used = try danglingImage("FROM \(image)\nRUN head -c 3000000 /dev/urandom > /used\n")
                _ = try run(["create", "--name", "sbrf-stopped", "--network=none", used, "true"])
                keptImages = [tagged, used]
            }

            func exists(_ image: String) throws -> Bool {
                try run(["image", "inspect", image]).status == .exited(0)
            }

            func free() -> UInt64 { EngineProbes.diskFree(mount)?.free ?? 0 }
        }

        static let bigStep = "RUN head -c 50000000 /dev/zero > /big"

        /// The build fails on the full disk (in its own words), the evidence makes it disk_full, free_disk prunes
        /// the old dangling images in steps (never the tagged one, never the one a stopped container uses) and the
        /// retry succeeds; the journal has each step's free space before and after.
        @Test func fullDiskBuildSucceedsAfterSteppedPrunes() throws {
            let disk = try SmallDisk(image: engine.image, docker: engine.docker)
            defer { disk.stop() }
            try disk.fill()
            // The floor (2 s) protects what is younger: the leftovers are older by now.
            sleep(3)
            let context = try dir.directory("ctx-full")
            _ = try dir.write("ctx-full/Dockerfile", Array("FROM \(engine.image)\n\(Self.bigStep)\n".utf8))
            let policy = try policy(
                preflight: "  min_available: off\n  max_pressure: off\n  max_build_cache: off\n  min_free_disk: {value: 120m, action: warn}\n  min_free_blocks: off",
                remedies: "  prune_floor: 2s")
            let out = try sb(["build", "-t", "sbrf-big:1", context], policy: policy, host: disk.host)
            #expect(out.result.code == 0, "\(out.result.stderrText)")
            #expect(out.attempts.count == 2, "\(out.result.stderrText)")
            let first = try #require(out.attempts.first)
            #expect(first.failureClass == "disk_full")
            let lowest = first.evidence.flatMap { [$0.dataRootFreeBytes, $0.dataRootLowestFreeBytes].compactMap { $0 }.min() }
            #expect((lowest ?? .max) < 64 << 20, "\(String(describing: first.evidence))")
            let freeDisk = try #require(first.remedies.first { $0.name == "free_disk" })
            #expect(freeDisk.ran)
            let steps = freeDisk.steps ?? []
            #expect(steps.count >= 2, "\(steps)")
            // Oldest first, and the age goes down, never below the floor (2 s); it stops once enough is free.
            let ages = steps.compactMap { try? TimeSpan.parse($0.until).get().seconds }
            #expect(ages.count == steps.count && ages == ages.sorted(by: >) && ages.allSatisfy { $0 >= 2 }, "\(steps)")
            for step in steps { #expect(step.freeBeforeBytes != nil && step.freeAfterBytes != nil) }
            #expect((steps.last?.freeAfterBytes ?? 0) > (steps.first?.freeBeforeBytes ?? .max))
            #expect((steps.last?.imagesReclaimedBytes ?? 0) >= 60_000_000, "\(steps)")
            #expect(out.lines.contains { $0.contains("attempt 1/3 failed: ") && $0.contains("pruned in") }, "\(out.result.stderrText)")
            for image in disk.keptImages { #expect(try disk.exists(image), "\(image) was pruned") }
            #expect(try disk.exists("sbrf-big:1"))
        }

        /// Pre-flight: free disk below min_free_disk with action remediate prunes in the same steps before the build,
        /// which then succeeds at its first attempt; the journal keeps the pre-flight's remedy on that attempt.
        @Test func preflightPrunesALowDiskBeforeTheBuild() throws {
            let disk = try SmallDisk(image: engine.image, docker: engine.docker)
            defer { disk.stop() }
            try disk.fill()
            sleep(3)
            let context = try dir.directory("ctx-pre")
            _ = try dir.write("ctx-pre/Dockerfile", Array("FROM \(engine.image)\n\(Self.bigStep)\n".utf8))
            let policy = try policy(
                preflight: "  min_available: off\n  max_pressure: off\n  max_build_cache: off\n  min_free_disk: {value: 120m, action: remediate}\n  min_free_blocks: off",
                remedies: "  prune_floor: 2s")
            let out = try sb(["build", context], policy: policy, host: disk.host)
            #expect(out.result.code == 0, "\(out.result.stderrText)")
            #expect(out.attempts.count == 1, "\(out.result.stderrText)")
            let remedy = try #require(out.attempts.first?.remedies.first)
            #expect(remedy.name == "free_disk")
            #expect(remedy.phase == "preflight")
            #expect((remedy.after["disk_free_bytes"] ?? 0) > (remedy.before["disk_free_bytes"] ?? .max))
            #expect(out.lines.contains { $0.hasPrefix("safebuild: pre-flight: pruned in") }, "\(out.result.stderrText)")
            for image in disk.keptImages { #expect(try disk.exists(image), "\(image) was pruned") }
        }
    }
}
