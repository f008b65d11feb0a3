import Glibc
import SafebuildTestSupport
import Testing

@testable import SafebuildKit

/// The files root writes, against the tricks another user can play in a directory it controls. Real files, real
/// owners (the tests run as root, as CI does, and give files to an unused uid to stand for the other user).
@Suite("CheckedDirectory and BoundedFile")
struct FileSafetyTests {
    /// An unused uid standing for the other user (the `jenkins` of the issue).
    static let other: uid_t = 54321

    func write(_ path: String, _ text: String, mode: mode_t = 0o600) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode)
        guard fd >= 0 else { throw TestSetupError("cannot create \(path)") }
        _ = Array(text.utf8).withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    func contents(_ path: String) -> String {
        (try? BoundedFile.read(path, limit: 1 << 20).get()).map { String(decoding: $0, as: UTF8.self) } ?? "<unreadable>"
    }

    func mkdir(_ path: String, mode: mode_t = 0o755, owner: uid_t = 0) throws {
        guard Glibc.mkdir(path, mode) == 0, chown(path, owner, UInt32.max) == 0, chmod(path, mode) == 0 else {
            throw TestSetupError("cannot make \(path)")
        }
    }

    @Test("a file is created with the mode and group asked for, and appended to")
    func createsAndAppends() throws {
        try #require(geteuid() == 0, "these tests run as root, as CI does")
        let tmp = try TemporaryDirectory()
        let dir = try CheckedDirectory.open(tmp.path + "/state/journal", create: .init(mode: 0o750, group: 4242))
        #expect(!dir.shared)
        for line in ["one\n", "two\n"] {
            let fd = try dir.openFile("journal.jsonl", flags: O_WRONLY | O_APPEND, create: .init(mode: 0o660, group: 4242))
            _ = Array(line.utf8).withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            close(fd)
        }
        #expect(contents(tmp.path + "/state/journal/journal.jsonl") == "one\ntwo\n")
        // O_TRUNC still truncates a file that passed the checks.
        close(try dir.openFile("journal.jsonl", flags: O_WRONLY | O_TRUNC))
        #expect(contents(tmp.path + "/state/journal/journal.jsonl") == "")
        var info = stat()
        stat(tmp.path + "/state/journal/journal.jsonl", &info)
        #expect(info.st_mode & 0o7777 == 0o660)
        #expect(info.st_gid == 4242)
        stat(tmp.path + "/state/journal", &info)
        #expect(info.st_mode & 0o7777 == 0o750)
        #expect(info.st_gid == 4242)
    }

    @Test("a symlink where the file should be is refused, and its target is untouched")
    func symlinkedFileRefused() throws {
        try #require(geteuid() == 0)
        let tmp = try TemporaryDirectory()
        try write(tmp.path + "/precious", "root's secret\n")
        try tmp.symlink("journal.jsonl", to: tmp.path + "/precious")
        let dir = try CheckedDirectory.open(tmp.path)
        #expect(throws: FileSafetyError(path: tmp.path + "/journal.jsonl", reason: "a symlink; safebuild does not write through it")) {
            try dir.openFile("journal.jsonl", flags: O_WRONLY | O_APPEND, create: .init(mode: 0o640))
        }
        #expect(contents(tmp.path + "/precious") == "root's secret\n")
    }

    @Test("in a directory another user owns, a file of theirs and a hard link to root's file are refused")
    func sharedDirectoryFilesRefused() throws {
        try #require(geteuid() == 0)
        let tmp = try TemporaryDirectory()
        let theirs = tmp.path + "/jenkins"
        try mkdir(theirs, owner: Self.other)
        try write(theirs + "/journal.jsonl", "theirs\n")
        chown(theirs + "/journal.jsonl", Self.other, UInt32.max)
        try write(tmp.path + "/precious", "root's secret\n")
        link(tmp.path + "/precious", theirs + "/metrics.prom")

        let dir = try CheckedDirectory.open(theirs)
        #expect(dir.shared)
        let refusedOwner = #expect(throws: FileSafetyError.self) {
            try dir.openFile("journal.jsonl", flags: O_WRONLY | O_APPEND)
        }
        #expect(refusedOwner?.reason.contains("owned by uid \(Self.other)") == true)
        let refusedLink = #expect(throws: FileSafetyError.self) {
            try dir.openFile("metrics.prom", flags: O_WRONLY | O_TRUNC)
        }
        #expect(refusedLink?.reason == "2 hard links; safebuild writes only a file with one")
        #expect(contents(tmp.path + "/precious") == "root's secret\n")

        // A new file of root's own is fine there: created with O_EXCL, so it cannot be one they planted.
        let fd = try dir.openFile("new.jsonl", flags: O_WRONLY | O_APPEND, create: .init(mode: 0o640))
        close(fd)
        #expect(dir.entry("new.jsonl")?.st_uid == 0)
    }

    @Test("a member of a group-shared directory appends to another member's or root's file; links are still refused")
    func memberWritesOthersFilesInAGroupDirectory() throws {
        try #require(geteuid() == 0)
        let tmp = try TemporaryDirectory()
        let shared = tmp.path + "/journal"
        try mkdir(shared, mode: 0o2770)
        try write(shared + "/journal.jsonl", "root's line\n", mode: 0o660)
        try write(shared + "/theirs.jsonl", "their line\n", mode: 0o660)
        chown(shared + "/theirs.jsonl", Self.other + 1, UInt32.max)
        try write(tmp.path + "/precious", "root's secret\n")
        try tmp.symlink("journal/link.jsonl", to: tmp.path + "/precious")
        link(tmp.path + "/precious", shared + "/hard.jsonl")

        // The rules of a non-root member (uid `other`); the kernel's own permission check is root's here.
        let dir = try CheckedDirectory.open(shared, as: Self.other)
        #expect(dir.shared)
        for name in ["journal.jsonl", "theirs.jsonl"] {
            let fd = try dir.openFile(name, flags: O_WRONLY | O_APPEND)
            _ = Array("a member's line\n".utf8).withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            close(fd)
        }
        #expect(contents(shared + "/journal.jsonl") == "root's line\na member's line\n")
        #expect(contents(shared + "/theirs.jsonl") == "their line\na member's line\n")
        #expect(throws: FileSafetyError.self) { try dir.openFile("link.jsonl", flags: O_WRONLY | O_APPEND) }
        #expect(throws: FileSafetyError.self) { try dir.openFile("hard.jsonl", flags: O_WRONLY | O_APPEND) }
        #expect(contents(tmp.path + "/precious") == "root's secret\n")

        // Root, in the same directory, still writes only files of its own.
        let asRoot = try CheckedDirectory.open(shared)
        let refused = #expect(throws: FileSafetyError.self) { try asRoot.openFile("theirs.jsonl", flags: O_WRONLY | O_APPEND) }
        #expect(refused?.reason.contains("owned by uid \(Self.other + 1)") == true)
        close(try asRoot.openFile("journal.jsonl", flags: O_WRONLY | O_APPEND))
    }

    @Test("openForReading reads a regular file of anyone's, never through a symlink, never waiting on a FIFO")
    func openForReading() throws {
        try #require(geteuid() == 0)
        let tmp = try TemporaryDirectory()
        try write(tmp.path + "/theirs.jsonl", "their line\n", mode: 0o644)
        chown(tmp.path + "/theirs.jsonl", Self.other, UInt32.max)
        try write(tmp.path + "/precious", "root's secret\n")
        try tmp.symlink("journal.jsonl.1", to: tmp.path + "/precious")
        mkfifo(tmp.path + "/journal.jsonl.2", 0o666)
        let dir = try CheckedDirectory.open(tmp.path)

        let fd = try dir.openForReading("theirs.jsonl")
        var buffer = [UInt8](repeating: 0, count: 64)
        let n = read(fd, &buffer, buffer.count)
        close(fd)
        #expect(String(decoding: buffer[..<max(0, n)], as: UTF8.self) == "their line\n")
        #expect(throws: FileSafetyError(path: tmp.path + "/journal.jsonl.1", reason: "a symlink; safebuild does not follow it")) {
            try dir.openForReading("journal.jsonl.1")
        }
        let start = Clock.now()
        let fifo = #expect(throws: FileSafetyError.self) { try dir.openForReading("journal.jsonl.2") }
        #expect(fifo?.reason == "not a regular file")
        #expect(Clock.now() - start < 1)
        #expect(throws: FileSafetyError.self) { try dir.openForReading("missing") }
    }

    @Test("a directory reached through another user's symlink is refused; root's own symlink is followed")
    func symlinkedDirectories() throws {
        try #require(geteuid() == 0)
        let tmp = try TemporaryDirectory()
        try mkdir(tmp.path + "/real")
        try tmp.symlink("roots-link", to: tmp.path + "/real")
        let followed = try CheckedDirectory.open(tmp.path + "/roots-link")
        #expect(followed.path == tmp.path + "/real")
        #expect(!followed.shared)

        try tmp.symlink("their-link", to: "/etc")
        lchown(tmp.path + "/their-link", Self.other, UInt32.max)
        #expect(throws: FileSafetyError(path: tmp.path + "/their-link", reason: "a symlink that uid \(Self.other) controls; safebuild does not follow it")) {
            try CheckedDirectory.open(tmp.path + "/their-link/safebuild")
        }

        // Root's symlink, but in a directory the other user can write (they could have swapped it): refused.
        try mkdir(tmp.path + "/open", mode: 0o777)
        try tmp.symlink("open/link", to: tmp.path + "/real")
        #expect(throws: FileSafetyError.self) { try CheckedDirectory.open(tmp.path + "/open/link") }
    }

    @Test("/tmp's sticky bit: a root directory in it is not shared; the other user's directory is")
    func stickyTmp() throws {
        try #require(geteuid() == 0)
        let tmp = try TemporaryDirectory()
        try mkdir(tmp.path + "/sticky", mode: 0o1777)
        try mkdir(tmp.path + "/sticky/roots")
        try mkdir(tmp.path + "/sticky/theirs", owner: Self.other)
        #expect(try !CheckedDirectory.open(tmp.path + "/sticky/roots").shared)
        #expect(try CheckedDirectory.open(tmp.path + "/sticky/theirs").shared)
        #expect(try CheckedDirectory.open(tmp.path + "/sticky").shared)
    }

    @Test("replace writes a new file and renames it over the old: a planted symlink is replaced, not followed")
    func replaceDoesNotFollow() throws {
        try #require(geteuid() == 0)
        let tmp = try TemporaryDirectory()
        try write(tmp.path + "/precious", "root's secret\n")
        try tmp.symlink("metrics.prom", to: tmp.path + "/precious")
        let dir = try CheckedDirectory.open(tmp.path)
        try dir.replace("metrics.prom", with: Array("safebuild_runs 1\n".utf8), create: .init(mode: 0o640))
        #expect(contents(tmp.path + "/precious") == "root's secret\n")
        #expect(contents(tmp.path + "/metrics.prom") == "safebuild_runs 1\n")
        #expect(dir.entry("metrics.prom").map { $0.st_mode & S_IFMT } == S_IFREG)
        // remove() takes the entry away, never its target.
        try tmp.symlink("old", to: tmp.path + "/precious")
        #expect(dir.remove("old"))
        #expect(contents(tmp.path + "/precious") == "root's secret\n")
    }

    @Test("a FIFO where a file should be is refused at once, without waiting for a writer")
    func fifoRefused() throws {
        try #require(geteuid() == 0)
        let tmp = try TemporaryDirectory()
        mkfifo(tmp.path + "/journal.jsonl", 0o666)
        let dir = try CheckedDirectory.open(tmp.path)
        let error = #expect(throws: FileSafetyError.self) { try dir.openFile("journal.jsonl", flags: O_RDWR) }
        #expect(error?.reason == "not a regular file")
        #expect(BoundedFile.read(tmp.path + "/journal.jsonl", limit: 100) == .failure(.notRegular("a FIFO")))
    }

    @Test(
        "BoundedFile reads a regular file up to its limit and refuses everything else",
        arguments: [
            ("/dev/zero", BoundedFile.Failure.notRegular("a device")),
            ("/dev/urandom", .notRegular("a device")),
            ("/", .notRegular("a directory")),
            ("/nonexistent/safebuild.yml", .missing),
        ])
    func boundedRefusals(path: String, expected: BoundedFile.Failure) {
        #expect(BoundedFile.read(path, limit: 1 << 20) == .failure(expected))
    }

    @Test("BoundedFile: a file at the limit is read, one byte more is refused, through a symlink too")
    func boundedLimit() throws {
        let tmp = try TemporaryDirectory()
        try write(tmp.path + "/policy.yml", String(repeating: "x", count: 100))
        #expect(try BoundedFile.read(tmp.path + "/policy.yml", limit: 100).get().count == 100)
        #expect(BoundedFile.read(tmp.path + "/policy.yml", limit: 99) == .failure(.tooLarge(size: 100, limit: 99)))
        try tmp.symlink("safebuild.yml", to: "/dev/zero")
        #expect(BoundedFile.read(tmp.path + "/safebuild.yml", limit: 100) == .failure(.notRegular("a device")))
    }
}
