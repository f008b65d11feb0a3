import Foundation
import Glibc
import SafebuildTestSupport
import Testing
@testable import SafebuildKit

/// The corners of issue 14 against the real engine: argv bytes, a user's `--cidfile`, what ran, settings that would
/// break docker, SIGKILL, exit 137 without an OOM.
extension EngineSuites {
@Suite(.serialized) struct CornersEngineTests {
    let engine: TestEngine
    let installed: InstalledSafebuild
    var safebuild: String { installed.binary }
    let directory: TemporaryDirectory
    var journal: String { directory.path + "/journal.jsonl" }

    init() throws {
        engine = try TestEngine.current()
        installed = try InstalledSafebuild()
        directory = try TemporaryDirectory()
        try directory.directory("state")
        try installed.writeHostPolicy(
            """
            version: 1
            run: {memory: 64m}
            build: {memory: 64m}
            preflight: {min_available: off, max_pressure: off, max_build_cache: off, min_free_disk: off, min_free_blocks: off}
            retry:
              max_attempts: 2
              backoff: {initial: 0.1s, max: 0.1s, jitter: 0}
            remedies: {state_dir: \(directory.path)/state}
            journal: {path: \(journal)}
            """)
    }

    func sb(_ arguments: [String], env: [String: String] = [:], timeout: Double = 60) throws -> ProcessResult {
        try ProcessRunner.run(safebuild, arguments, environment: engine.environment(env), timeout: timeout)
    }

    func journalLines() throws -> [[String: Any]] {
        String(decoding: TemporaryDirectory.readFileIfPresent(journal), as: UTF8.self).split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    // MARK: - 1. argv as bytes

    /// A pass-through argument that is not UTF-8 reaches docker byte for byte (a stand-in docker dumps its argv).
    @Test func passThroughArgumentIsByteExact() throws {
        let dump = directory.path + "/argv"
        let standIn = try directory.write(
            "docker-dump", Array("#!/bin/sh\nfor a in \"$@\"; do printf '%s\\0' \"$a\"; done > \(dump)\n".utf8),
            mode: 0o755)
        let format = String(lossless: [0x78, 0xFF, 0x79])
        let result = try sb(["ps", "--format", format], env: ["SAFEBUILD_DOCKER": standIn])
        #expect(result.code == 0, "\(result.stderrText)")
        #expect(TemporaryDirectory.readFileIfPresent(dump) == Array("ps\0--format\0".utf8) + [0x78, 0xFF, 0x79, 0])
    }

    /// The real docker writes `docker save -o $'real\xff.tar'` to exactly that file name.
    @Test func realDockerSaveWritesTheByteExactName() throws {
        let name = [UInt8]((directory.path + "/real").utf8) + [0xFF] + Array(".tar".utf8)
        let result = try sb(["save", "-o", String(lossless: name), engine.image])
        #expect(result.code == 0, "\(result.stderrText)")
        var info = stat()
        let found = name.withUnsafeBufferPointer { buffer in
            (Array(buffer) + [0]).withUnsafeBufferPointer { stat(UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), &info) == 0 }
        }
        #expect(found && info.st_size > 0)
    }

    /// A protected `run` hands docker the bytes (the container gets what it gets from docker itself: docker's JSON
    /// makes `\xfe` U+FFFD) and the journal keeps them as `{"base64": …}`.
    @Test func protectedRunKeepsTheBytesInTheJournal() throws {
        let word = String(lossless: [0x61, 0xFE, 0x62])
        let arguments = ["run", "--rm", "--network=none", engine.image, "printf", "%s", word]
        let result = try sb(arguments)
        #expect(result.code == 0, "\(result.stderrText)")
        #expect(result.stdout == (try engine.dockerRun(arguments)).stdout)
        let line = try #require(try journalLines().last)
        let argv = try #require(line["argv"] as? [Any])
        #expect(argv.last as? [String: String] == ["base64": "Yf5i"])
        let executed = try #require(line["executed_argv"] as? [Any])
        #expect(executed.last as? [String: String] == ["base64": "Yf5i"])
    }
    // MARK: - 2. A user's --cidfile

    /// A `--cidfile` that exists before the first attempt is the user's: left alone, and docker's own guard fires.
    @Test func staleCidfileIsLeftToDockersGuard() throws {
        let cidfile = try directory.write("stale.cid", Array("not-ours".utf8))
        let result = try sb(["run", "--rm", "--network=none", "--cidfile", cidfile, engine.image, "true"])
        #expect(result.code == 125)
        #expect(result.stderrText.contains("container ID file found, make sure the other container isn't running"))
        #expect(TemporaryDirectory.readFileIfPresent(cidfile) == Array("not-ours".utf8))
    }

    /// A retry deletes only what the attempt before wrote: the second attempt fails for the same real reason (runc
    /// out of memory), not on docker's guard, and the file holds the last attempt's container.
    @Test func retryReplacesOnlyTheFileItsAttemptWrote() throws {
        let cidfile = directory.path + "/retry.cid"
        let result = try sb([
            "run", "--rm", "--network=none", "--cidfile", cidfile, "--ulimit", "data=1000000", engine.image, "true",
        ])
        #expect(result.code == 125)
        #expect(!result.stderrText.contains("container ID file found"), "\(result.stderrText)")
        let attempts = try journalLines().filter { $0["kind"] as? String == "attempt" }.suffix(2)
        #expect(attempts.map { $0["failure_class"] as? String } == ["process_enomem", "process_enomem"])
        let id = String(decoding: TemporaryDirectory.readFileIfPresent(cidfile), as: UTF8.self)
        #expect(id.count == 64)
    }
    // MARK: - 6. Settings that break docker

    /// A `SAFEBUILD_*` typo never stops a pass-through command: one warning, then docker's own output and status.
    @Test func invalidVariableOnlyWarnsOnPassThrough() throws {
        let docker = try engine.dockerRun(["version", "--format", "{{.Server.Version}}"])
        let ours = try sb(["version", "--format", "{{.Server.Version}}"], env: ["SAFEBUILD_MAX_ATTEMPTS": "abc"])
        #expect(ours.code == 0)
        #expect(ours.stdout == docker.stdout)
        #expect(ours.stderrText == "safebuild: warning: SAFEBUILD_MAX_ATTEMPTS takes a whole number from 1 to 100 (got 'abc'); it is ignored\n")
    }

    /// A protected command refuses it, naming the variable (exit 64), and runs nothing.
    @Test func invalidVariableStopsAProtectedRun() throws {
        let name = TestEngine.uniqueName("sb-badvar")
        let result = try sb(["run", "--name", name, "--network=none", engine.image, "true"], env: ["SAFEBUILD_DRY_RUN": "ture"])
        #expect(result.code == 64)
        #expect(result.stderrText.contains("SAFEBUILD_DRY_RUN=ture is not a boolean; use 1 or 0: docker run was not run"))
        let ps = try engine.dockerRun(["ps", "-a", "--filter", "name=\(name)", "--format", "{{.Names}}"])
        #expect(ps.stdoutText.isEmpty)
    }

    /// `SAFEBUILD_OFF=' 1'` (a stray space) is read as 1.
    @Test func strayBlankInAVariableIsAccepted() throws {
        let result = try sb(["run", "--rm", engine.image, "true"], env: ["SAFEBUILD_OFF": " 1", "SAFEBUILD_DRY_RUN": "1 "])
        #expect(result.code == 0)
        #expect(result.stderrText.contains("dry run: passed through unprotected"), "\(result.stderrText)")
    }
}
}
