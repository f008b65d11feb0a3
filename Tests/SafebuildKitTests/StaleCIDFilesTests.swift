import Glibc
import SafebuildTestSupport
import Testing

@testable import SafebuildKit

/// The sweep of the cidfiles a SIGKILLed safebuild leaves in $TMPDIR: only safebuild's own name pattern, only the
/// caller's regular files, only when the writer is gone (or the file is very old), never through a symlink.
@Suite struct StaleCIDFilesTests {
    @Test(arguments: [
        ("safebuild-1234-3k9z0a.cid", Int32(1234)),
        ("safebuild-7-a.cid", 7),
        ("safebuild-1234-3k9z0a.cidx", nil),
        ("safebuild-1234-3K9Z.cid", nil),
        ("safebuild-1234.cid", nil),
        ("safebuild-0-abc.cid", nil),
        ("safebuild-01-abc.cid", nil),
        ("safebuild--abc.cid", nil),
        ("safebuild-12-ab-c.cid", nil),
        ("safebuild-12-.cid", nil),
        ("my-safebuild-12-ab.cid", nil),
        ("container.cid", nil),
    ] as [(String, Int32?)])
    func theNamePattern(_ name: String, _ pid: Int32?) {
        #expect(StaleCIDFiles.writer(ofName: name) == pid)
    }

    @Test func staleness() {
        #expect(StaleCIDFiles.isStale(age: 11, writerAlive: false))
        #expect(!StaleCIDFiles.isStale(age: 2, writerAlive: false))
        #expect(!StaleCIDFiles.isStale(age: 600, writerAlive: true))
        #expect(StaleCIDFiles.isStale(age: 3601, writerAlive: true))
    }

    @Test func theSweepTakesOnlyStaleFilesOfItsOwn() throws {
        let dir = try TemporaryDirectory()
        let now = Clock.wall()
        func plant(_ name: String, age: Double) throws {
            _ = try dir.write(name, Array("0123456789abcdef".utf8))
            var times = [timespec(tv_sec: Int(now - age), tv_nsec: 0), timespec(tv_sec: Int(now - age), tv_nsec: 0)]
            #expect(utimensat(AT_FDCWD, dir.path + "/" + name, &times, 0) == 0)
        }
        try plant("safebuild-111-dead.cid", age: 60)       // writer gone, old enough: removed
        try plant("safebuild-111-young.cid", age: 1)       // writer gone, just written: kept
        try plant("safebuild-222-alive.cid", age: 600)     // writer alive: kept
        try plant("safebuild-222-ancient.cid", age: 7200)  // writer "alive" (a reused pid), very old: removed
        try plant("mine.cid", age: 7200)                   // a user's own --cidfile: kept
        try plant("target", age: 7200)
        #expect(symlink(dir.path + "/target", dir.path + "/safebuild-111-link.cid") == 0)
        var hardLinked = false
        if geteuid() == 0 {
            // Another user's file of the pattern stays, even for root.
            try plant("safebuild-111-theirs.cid", age: 60)
            #expect(chown(dir.path + "/safebuild-111-theirs.cid", 65534, 65534) == 0)
            hardLinked = link(dir.path + "/target", dir.path + "/safebuild-111-hard.cid") == 0
        }
        let removed = StaleCIDFiles.sweep(directory: dir.path, now: now) { $0 == 222 }
        #expect(removed.sorted() == ["safebuild-111-dead.cid", "safebuild-222-ancient.cid"])
        for kept in ["safebuild-111-young.cid", "safebuild-222-alive.cid", "mine.cid", "target", "safebuild-111-link.cid"] {
            var info = stat()
            #expect(lstat(dir.path + "/" + kept, &info) == 0, "\(kept)")
        }
        if geteuid() == 0 {
            var info = stat()
            #expect(lstat(dir.path + "/safebuild-111-theirs.cid", &info) == 0)
            if hardLinked { #expect(lstat(dir.path + "/safebuild-111-hard.cid", &info) == 0) }
        }
    }

    /// A directory others can write that is not sticky: an entry could be swapped between the check and the
    /// unlink, so nothing is swept there.
    @Test func anUntrustedDirectoryIsNotSwept() throws {
        let dir = try TemporaryDirectory()
        #expect(chmod(dir.path, 0o777) == 0)
        _ = try dir.write("safebuild-111-dead.cid", Array("x".utf8))
        var times = [timespec(tv_sec: 0, tv_nsec: 0), timespec(tv_sec: 0, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, dir.path + "/safebuild-111-dead.cid", &times, 0) == 0)
        #expect(StaleCIDFiles.sweep(directory: dir.path) { _ in false }.isEmpty)
        #expect(chmod(dir.path, 0o1777) == 0)
        #expect(StaleCIDFiles.sweep(directory: dir.path) { _ in false } == ["safebuild-111-dead.cid"])
    }
}
