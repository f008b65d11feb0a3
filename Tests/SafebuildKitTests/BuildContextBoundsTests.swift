import Glibc
import SafebuildTestSupport
import Testing

@testable import SafebuildKit

/// The build-context probe against files a repository controls: whatever they are, the probe ends at once with a
/// warning, in bounded memory, and the build goes on (docker gives its own error).
@Suite struct BuildContextBoundsTests {
    static func context(dockerfile: String? = "FROM x\nRUN a\n") throws -> TemporaryDirectory {
        let dir = try TemporaryDirectory()
        if let dockerfile { try dir.write("Dockerfile", Array(dockerfile.utf8)) }
        return dir
    }

    static func timed<T>(_ body: () throws -> T) rethrows -> (T, Double) {
        let start = Clock.now()
        let value = try body()
        return (value, Clock.now() - start)
    }

    @Test(arguments: ["device", "fifo"])
    func aDockerfileThatIsNotARegularFileIsAWarning(kind: String) throws {
        let dir = try Self.context(dockerfile: nil)
        if kind == "device" {
            try dir.symlink("Dockerfile", to: "/dev/zero")
        } else {
            #expect(mkfifo(dir.path + "/Dockerfile", 0o644) == 0)
        }
        try dir.write(".dockerignore", Array("*.log\n".utf8))
        let (report, seconds) = try Self.timed { try #require(BuildContext.report(buildArguments: [dir.path])) }
        #expect(seconds < 0.5)
        let what = kind == "device" ? "a device" : "a FIFO"
        #expect(report.warnings == ["cannot read \(dir.path)/Dockerfile: it is \(what), not a regular file; its layers were not counted"])
        #expect(report.layerInstructions == 0)
        #expect(report.complete)
        #expect(report.files == 2)  // the Dockerfile entry and .dockerignore
    }

    @Test func aDockerignoreOnDevZeroSkipsTheMeasure() throws {
        let dir = try Self.context()
        try dir.symlink(".dockerignore", to: "/dev/zero")
        let (report, seconds) = try Self.timed { try #require(BuildContext.report(buildArguments: [dir.path])) }
        #expect(seconds < 0.5)
        #expect(report.warnings == ["cannot read \(dir.path)/.dockerignore: it is a device, not a regular file; the build context was not measured"])
        #expect(!report.complete)
        #expect(report.layerInstructions == 1)
    }

    @Test func aDockerignoreLargerThanTheLimitIsNotRead() throws {
        let dir = try Self.context()
        try dir.write(".dockerignore", [UInt8](repeating: UInt8(ascii: "a"), count: BuildContext.dockerignoreLimit + 1))
        let report = try #require(BuildContext.report(buildArguments: [dir.path]))
        #expect(report.warnings == ["cannot read \(dir.path)/.dockerignore: it is 1.0 MiB, larger than the 1.0 MiB safebuild reads; the build context was not measured"])
    }

    /// `-f -`: the Dockerfile is docker's stdin; the context's own Dockerfile is not the one built.
    @Test func aDockerfileFromStdinIsNotRead() throws {
        let dir = try Self.context(dockerfile: String(repeating: "RUN x\n", count: 60))
        try dir.write(".dockerignore", Array("\n".utf8))
        let report = try #require(BuildContext.report(buildArguments: ["-f", "-", dir.path]))
        #expect(report.layerInstructions == 0)
        #expect(report.warnings.isEmpty)
        #expect(report.dockerfile == "-")
    }

    @Test func theWalkStopsAtItsEntryLimit() throws {
        let dir = try Self.context()
        try dir.write(".dockerignore", Array("\n".utf8))
        for d in 0..<20 {
            try dir.directory("d\(d)")
            for f in 0..<50 { try dir.write("d\(d)/f\(f)", [1]) }
        }
        let whole = try #require(BuildContext.report(buildArguments: [dir.path]))
        #expect(whole.complete && whole.files == 1002)
        let cut = try #require(BuildContext.report(buildArguments: [dir.path], entryLimit: 300))
        #expect(!cut.complete)
        #expect(cut.files < 300)
    }

    /// 600 directories deep: no recursion to run out of stack, one directory open at a time.
    @Test func aDeepTreeIsWalkedWithoutRecursion() throws {
        let dir = try Self.context()
        try dir.write(".dockerignore", Array("\n".utf8))
        var path = ""
        for _ in 0..<600 {
            path += path.isEmpty ? "d" : "/d"
            try dir.directory(path)
        }
        try dir.write(path + "/leaf", [1, 2, 3])
        let report = try #require(BuildContext.report(buildArguments: [dir.path]))
        #expect(report.complete)
        #expect(report.files == 3)
        #expect(report.bytes == 3 + 13 + 1)
    }

    /// Twelve stars against a 60-character name is about 10^12 backtracking steps: the budget ends the match at the
    /// deadline, and the walk says its figures are a lower bound.
    @Test func aPathologicalPatternEndsAtTheDeadline() throws {
        let dir = try Self.context()
        try dir.write(".dockerignore", Array((String(repeating: "*a", count: 12) + "*b\n").utf8))
        try dir.write(String(repeating: "a", count: 60), [1])
        let (report, seconds) = try Self.timed {
            try #require(BuildContext.report(buildArguments: [dir.path], seconds: 0.2))
        }
        #expect(seconds < 1)
        #expect(!report.complete)
    }

    /// A pattern longer than any path (here 6,000 `**/`) would recurse once per token: it is not tried.
    @Test func aPatternLongerThanAnyPathIsNotTried() throws {
        let dir = try Self.context()
        try dir.write(".dockerignore", Array((String(repeating: "**/", count: 6000) + "x\n").utf8))
        let report = try #require(BuildContext.report(buildArguments: [dir.path]))
        #expect(!report.complete)
        #expect(report.layerInstructions == 1)
    }
}
