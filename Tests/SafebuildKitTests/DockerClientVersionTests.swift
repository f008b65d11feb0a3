import Glibc
import Testing

@testable import SafebuildKit

/// A build learns its docker CLI's version (which decides docker's builder) once per binary: later builds read it
/// from the engine state instead of starting `docker --version` (issue 13: a second docker CLI per build).
@Suite struct DockerClientVersionTests {
    /// A file standing for the docker binary, and the engine state in a directory of its own.
    struct Bed {
        let dir = temporaryDirectory("client-version")
        var binary: String { dir + "/docker" }
        let state: EngineStateFile

        init() throws {
            state = try EngineStateFile(state: RuntimeState(directory: dir + "/run", files: SharedFiles(group: nil)))
            write("#!/bin/sh\necho first\n")
        }

        func write(_ text: String) {
            let fd = open(binary, O_WRONLY | O_CREAT | O_TRUNC, 0o755)
            _ = text.withCString { Glibc.write(fd, $0, strlen($0)) }
            close(fd)
        }
    }

    final class Asked: @unchecked Sendable {
        var count = 0
        var line = "Docker version 28.2.2, build e6534b4"
        func ask(_ docker: String) -> String? {
            count += 1
            return line
        }
    }

    @Test func theVersionIsAskedOncePerBinaryThenRead() throws {
        let bed = try Bed()
        defer { removeTree(bed.dir) }
        let asked = Asked()
        let first = DockerClientVersion.read(docker: bed.binary, environment: [:], state: bed.state, ask: asked.ask)
        let second = DockerClientVersion.read(docker: bed.binary, environment: [:], state: bed.state, ask: asked.ask)
        #expect(first == DockerVersion(28, 2))
        #expect(second == DockerVersion(28, 2))
        #expect(asked.count == 1, "the second build read the kept version")
        #expect(bed.state.peek().clients.map(\.versionLine) == ["Docker version 28.2.2, build e6534b4"])
    }

    @Test func anUpgradedBinaryIsAskedAgain() throws {
        let bed = try Bed()
        defer { removeTree(bed.dir) }
        let asked = Asked()
        _ = DockerClientVersion.read(docker: bed.binary, environment: [:], state: bed.state, ask: asked.ask)
        // The package manager replaces the file: another size and change time.
        bed.write("#!/bin/sh\necho upgraded to something longer\n")
        asked.line = "Docker version 29.0.1, build 1a2b3c4"
        let after = DockerClientVersion.read(docker: bed.binary, environment: [:], state: bed.state, ask: asked.ask)
        #expect(after == DockerVersion(29, 0))
        #expect(asked.count == 2)
        #expect(bed.state.peek().clients.count == 1, "the old binary's record is replaced, not kept beside it")
    }

    @Test func withoutAStateFileEveryBuildAsks() throws {
        let bed = try Bed()
        defer { removeTree(bed.dir) }
        let asked = Asked()
        for _ in 0..<2 { _ = DockerClientVersion.read(docker: bed.binary, environment: [:], state: nil, ask: asked.ask) }
        #expect(asked.count == 2)
    }

    @Test func theRecordRoundTripsThroughTheStateText() {
        let record = DockerClientRecord(
            binary: DockerClientBinary(
                path: "/usr/bin/docker", device: 2049, inode: 131_201, size: 61_562_072,
                modified: 1_700_000_000_123_456_789, changed: 1_700_000_001_000_000_000),
            versionLine: "Docker version 20.10.24+dfsg1, build 297e128", at: 1_764_100_000.5)
        let state = EngineState(clients: [record])
        #expect(!state.text.contains("20.10.24+dfsg1, build"), "spaces inside the version line are escaped")
        #expect(EngineState.parse(state.text) == state)
    }
}
