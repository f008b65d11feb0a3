import Testing
import Foundation
@testable import SafebuildKit

/// `.dockerignore` rules against moby/patternmatcher's own table (patternmatcher_test.go, TestMatches, run through
/// MatchesOrParentMatches: "exact" and "inexact" both mean the file is left out), copied verbatim.
@Suite struct DockerIgnoreTests {
    static let table: [(pattern: String, text: String, excluded: Bool)] = [
        ("**", "file", true), ("**", "file/", true), ("**/", "file", true), ("**/", "file/", true), ("**", "/", true),
        ("**/", "/", true), ("**", "dir/file", true), ("**/", "dir/file", true), ("**", "dir/file/", true),
        ("**/", "dir/file/", true), ("**/**", "dir/file", true), ("**/**", "dir/file/", true), ("dir/**", "dir/file", true),
        ("dir/**", "dir/file/", true), ("dir/**", "dir/dir2/file", true), ("dir/**", "dir/dir2/file/", true),
        ("**/dir", "dir", true), ("**/dir", "dir/file", true), ("**/dir2/*", "dir/dir2/file", true),
        ("**/dir2/*", "dir/dir2/file/", true), ("**/dir2/**", "dir/dir2/dir3/file", true),
        ("**/dir2/**", "dir/dir2/dir3/file/", true), ("**file", "file", true), ("**file", "dir/file", true),
        ("**/file", "dir/file", true), ("**file", "dir/dir/file", true), ("**/file", "dir/dir/file", true),
        ("**/file*", "dir/dir/file", true), ("**/file*", "dir/dir/file.txt", true), ("**/file*txt", "dir/dir/file.txt", true),
        ("**/file*.txt", "dir/dir/file.txt", true), ("**/file*.txt*", "dir/dir/file.txt", true),
        ("**/**/*.txt", "dir/dir/file.txt", true), ("**/**/*.txt2", "dir/dir/file.txt", false), ("**/*.txt", "file.txt", true),
        ("**/**/*.txt", "file.txt", true), ("a**/*.txt", "a/file.txt", true), ("a**/*.txt", "a/dir/file.txt", true),
        ("a**/*.txt", "a/dir/dir/file.txt", true), ("a/*.txt", "a/dir/file.txt", false), ("a/*.txt", "a/file.txt", true),
        ("a/*.txt**", "a/file.txt", true), ("a[b-d]e", "ae", false), ("a[b-d]e", "ace", true), ("a[b-d]e", "aae", false),
        ("a[^b-d]e", "aze", true), (".*", ".foo", true), (".*", "foo", false), ("abc.def", "abcdef", false),
        ("abc.def", "abc.def", true), ("abc.def", "abcZdef", false), ("abc?def", "abcZdef", true), ("abc?def", "abcdef", false),
        ("**/foo/bar", "foo/bar", true), ("**/foo/bar", "dir/foo/bar", true), ("**/foo/bar", "dir/dir2/foo/bar", true),
        ("abc/**", "abc", false), ("abc/**", "abc/def", true), ("abc/**", "abc/def/ghi", true), ("**/.foo", ".foo", true),
        ("**/.foo", "bar.foo", false), ("a(b)c/def", "a(b)c/def", true), ("a(b)c/def", "a(b)c/xyz", false),
        ("a.|)$(}+{bc", "a.|)$(}+{bc", true),
        ("dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", true),
        ("dist/*.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", true),
        ("a\\\\", "a\\", true), ("a\\*b", "a*b", true),
    ]

    @Test(arguments: table)
    func patternMatcherTable(_ row: (pattern: String, text: String, excluded: Bool)) throws {
        let ignore = try DockerIgnore.parse(row.pattern)
        #expect(ignore.excludes(row.text) == row.excluded, "pattern \(row.pattern) text \(row.text)")
    }

    static let multi: [(patterns: [String], text: String, excluded: Bool)] = [
        (["**", "!util/docker/web"], "util/docker/web/foo", false),
        (["**", "!util/docker/web", "util/docker/web/foo"], "util/docker/web/foo", true),
        (["**", "!dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl"], "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", false),
        (["**", "!dist/*.whl"], "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", false),
        (["docs", "!docs/README.md"], "docs/README.md", false),
        (["docs/", "!docs/README.md"], "docs/README.md", false),
        (["docs/*", "!docs/README.md"], "docs/README.md", false),
        (["*.go", "!fileutils.go"], "fileutils.go", false),
        (["!fileutils.go", "*.go"], "fileutils.go", true),
    ]

    @Test(arguments: multi)
    func exceptionsInOrder(_ row: (patterns: [String], text: String, excluded: Bool)) throws {
        let ignore = try DockerIgnore.parse(row.patterns.joined(separator: "\n"))
        #expect(ignore.excludes(row.text) == row.excluded)
    }

    @Test func fileSyntaxCommentsLeadingSlashAndWhitespace() throws {
        let ignore = try DockerIgnore.parse("# build output\n/node_modules\n  .git  \n\n!  keep.txt\r\n*.log\n!important.log\n")
        #expect(ignore.patterns.map(\.text) == ["node_modules", ".git", "keep.txt", "*.log", "important.log"])
        #expect(ignore.excludes("node_modules/left-pad/index.js"))
        #expect(ignore.excludes(".git/HEAD"))
        #expect(ignore.excludes("debug.log"))
        #expect(!ignore.excludes("important.log"))
        #expect(!ignore.excludes("src/main.c"))
        #expect(!ignore.excludes("# build output"))
        #expect(!ignore.excludes("."))
    }

    @Test func badPatternsAreReportedWithTheirLine() {
        #expect(throws: ProbeError(".dockerignore:2", "illegal exclusion pattern: \"!\"")) { try DockerIgnore.parse("a\n!\n") }
        #expect(throws: ProbeError(".dockerignore:1", "syntax error in pattern \"a[\"")) { try DockerIgnore.parse("a[\n") }
    }
}

@Suite struct BuildContextTests {
    @Test(arguments: [
        (["."], ".", nil),
        (["-t", "x", "-f", "docker/Dockerfile.dev", "ctx"], "ctx", "docker/Dockerfile.dev"),
        (["--file=Containerfile", "--build-arg", "A=1", "--no-cache", "/src"], "/src", "Containerfile"),
        (["-fDockerfile.ci", "-q", "."], ".", "Dockerfile.ci"),
        (["-m", "1g", "--memory-swap", "2g", "-"], nil, nil),
        (["https://github.com/docker/cli.git"], nil, nil),
    ] as [([String], String?, String?)])
    func locatesContextAndDockerfile(_ row: ([String], String?, String?)) {
        let located = BuildContext.locate(buildArguments: row.0)
        #expect(located.context == row.1)
        #expect(located.dockerfile == row.2)
    }

    @Test func countsLayerMakingInstructions() {
        let text = """
            # syntax=docker/dockerfile:1
            FROM busybox AS build
            RUN echo a \\
                && echo RUN not counted
            copy a /a
            ADD b /b
            RUN <<EOF
            RUN inside a heredoc
            EOF
            # RUN in a comment
            FROM busybox
            COPY --from=build /a /a
            """
        let s = DockerfileSummary.parse(text)
        #expect(s.run == 2 && s.copy == 2 && s.add == 1 && s.from == 2)
        let backtick = DockerfileSummary.parse("# escape=`\nFROM x\nRUN a `\n  RUN b\nRUN c\n")
        #expect(backtick.run == 2)
    }

    @Test func measuresTheContextAfterDockerignore() throws {
        let root = NSTemporaryDirectory() + "sb-ctx-\(getpid())"
        let fm = FileManager.default
        try fm.createDirectory(atPath: root + "/node_modules/x", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: root + "/src", withIntermediateDirectories: true)
        defer { try? fm.removeItem(atPath: root) }
        try String(repeating: "a", count: 1000).write(toFile: root + "/node_modules/x/big.js", atomically: true, encoding: .utf8)
        try String(repeating: "b", count: 100).write(toFile: root + "/src/main.c", atomically: true, encoding: .utf8)
        try "FROM x\nRUN a\nCOPY . /\n".write(toFile: root + "/Dockerfile", atomically: true, encoding: .utf8)

        let bare = try #require(BuildContext.report(buildArguments: [root]))
        #expect(bare.dockerignore == nil)
        #expect(bare.files == 3 && bare.bytes == 1000 + 100 + 22)
        #expect(bare.warnings.contains { $0.hasPrefix("no .dockerignore in \(root): all 3 files") })
        #expect(bare.layerInstructions == 2)

        try "node_modules\n".write(toFile: root + "/.dockerignore", atomically: true, encoding: .utf8)
        let ignored = try #require(BuildContext.report(buildArguments: ["-f", root + "/Dockerfile", root]))
        #expect(ignored.dockerignore == root + "/.dockerignore")
        #expect(ignored.files == 3 && ignored.ignored == 1)  // node_modules; .dockerignore itself is sent
        #expect(ignored.bytes == 100 + 22 + 13)
        #expect(ignored.warnings.isEmpty)
        #expect(ignored.complete)
    }
}
