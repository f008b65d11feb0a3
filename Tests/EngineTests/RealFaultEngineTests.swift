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
            try installed.useAsHostPolicy(policy)
            let journal = dir.path + "/journal-\(UInt32.random(in: 0...UInt32.max)).jsonl"
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
                ["run", "--rm", "--network=none", "--ulimit", "data=1000000", engine.image, "true"], policy: try policy())
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
    }
}
