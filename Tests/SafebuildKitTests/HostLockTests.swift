import Glibc
import Foundation
import Testing

@testable import SafebuildKit

@Suite(.serialized) struct HostLockTests {
    static func temporaryDirectory() -> String {
        var template = Array("/tmp/safebuild-hostlock-XXXXXX".utf8CString)
        return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    }

    final class Counter: @unchecked Sendable {
        let lock = NSLock()
        var value = 0
        var concurrent = 0
        var maxConcurrent = 0
        func enter() { lock.lock(); value += 1; concurrent += 1; maxConcurrent = max(maxConcurrent, concurrent); lock.unlock() }
        func leave() { lock.lock(); concurrent -= 1; lock.unlock() }
    }

    @Test func eightConcurrentBuildsPruneOnce() {
        let dir = Self.temporaryDirectory()
        let counter = Counter()
        let reports = NSLock()
        nonisolated(unsafe) var skipped: [String] = []
        let group = DispatchGroup()
        for _ in 0..<8 {
            group.enter()
            Thread.detachNewThread {
                // Each thread opens the state file itself: its own open file description, as a process would.
                let lock = HostLock(directory: dir, cooldown: 60)
                let r = lock.perform(.pruneBuildCache) {
                    counter.enter()
                    usleep(150_000)
                    counter.leave()
                    return RemedyReport(name: .pruneBuildCache, ran: true)
                }
                reports.lock()
                if let s = r.skipped { skipped.append(s) }
                reports.unlock()
                group.leave()
            }
        }
        group.wait()
        #expect(counter.value == 1)
        #expect(counter.maxConcurrent == 1)
        #expect(skipped.count == 7)
        #expect(skipped.allSatisfy { $0.hasPrefix("ran ") && $0.hasSuffix(" s ago for this build") })
        let state = try? String(contentsOfFile: dir + "/remedies.state", encoding: .utf8)
        #expect(state?.hasPrefix("prune_build_cache ") == true)
    }

    @Test func differentRemediesDoNotCoolEachOtherDown() {
        let dir = Self.temporaryDirectory()
        let lock = HostLock(directory: dir, cooldown: 60)
        #expect(lock.perform(.dropCaches) { RemedyReport(name: .dropCaches, ran: true) }.ran)
        #expect(lock.perform(.compactMemory) { RemedyReport(name: .compactMemory, ran: true) }.ran)
        #expect(!lock.perform(.dropCaches) { RemedyReport(name: .dropCaches, ran: true) }.ran)
    }

    @Test func cooldownExpiresAndNamesAnotherProcess() {
        let dir = Self.temporaryDirectory()
        // Another process (pid 1) dropped caches 10 s ago.
        let t = Clock.wall()
        _ = FileManager.default.createFile(atPath: dir + "/remedies.state", contents: Data("drop_caches \(t - 10) 1\n".utf8))
        let lock = HostLock(directory: dir, cooldown: 30)
        let r = lock.perform(.dropCaches) { RemedyReport(name: .dropCaches, ran: true) }
        #expect(r.skipped == "ran 10 s ago for another build")
        let later = HostLock(directory: dir, cooldown: 30, now: { t + 25 })
        #expect(later.perform(.dropCaches) { RemedyReport(name: .dropCaches, ran: true) }.ran)
    }

    @Test func aSkippedBodyDoesNotStartTheCooldown() {
        let dir = Self.temporaryDirectory()
        let lock = HostLock(directory: dir, cooldown: 60)
        _ = lock.perform(.dropCaches) { .skip(.dropCaches, "needs root") }
        #expect(lock.perform(.dropCaches) { RemedyReport(name: .dropCaches, ran: true) }.ran)
    }

    @Test func anUnusableDirectoryIsASkip() {
        let r = HostLock(directory: "/proc/safebuild-no", cooldown: 1).perform(.dropCaches) {
            RemedyReport(name: .dropCaches, ran: true)
        }
        #expect(!r.ran)
        #expect(r.skipped?.hasPrefix("cannot use the remedies' lock: /proc/safebuild-no: cannot create directory") == true)
    }

    static func mode(_ path: String) -> (mode: UInt32, uid: UInt32, gid: UInt32) {
        var info = stat()
        lstat(path, &info)
        return (info.st_mode & 0o7777, info.st_uid, info.st_gid)
    }

    /// As root, the runtime directory and its file are made as tmpfiles.d would: root:GROUP 0750, the file 0660, so
    /// that only root and the group can open the file (and so hold its lock).
    @Test func rootMakesTheStateDirectoryAndFileForTheGroupOnly() {
        let dir = Self.temporaryDirectory() + "/run/safebuild"
        let files = SharedFiles(group: 4242)
        let lock = HostLock(state: RuntimeState(directory: dir, files: files, isRoot: true), cooldown: 60)
        #expect(lock.perform(.dropCaches) { RemedyReport(name: .dropCaches, ran: true) }.ran)
        #expect(Self.mode(dir) == (0o750, 0, 4242))
        #expect(Self.mode(dir + "/remedies.state") == (0o660, 0, 4242))
    }

    /// An older safebuild made remedies.state 0644, so that any user could hold its lock through a read-only
    /// descriptor: root closes it to all before using it.
    @Test func rootClosesAStateFileOpenToAll() {
        let dir = Self.temporaryDirectory()
        close(open(dir + "/remedies.state", O_RDWR | O_CREAT, 0o644))
        chmod(dir + "/remedies.state", 0o644)
        let lock = HostLock(state: RuntimeState(directory: dir, files: SharedFiles(group: 4242), isRoot: true))
        #expect(lock.perform(.dropCaches) { RemedyReport(name: .dropCaches, ran: true) }.ran)
        #expect(Self.mode(dir + "/remedies.state") == (0o660, 0, 4242))
    }

    /// A member who cannot use the host-wide file (here: one open to all, which a member must not lock) keeps its
    /// locks in a private directory of its own, and says so once.
    @Test func aMemberFallsBackToItsOwnDirectoryWithOneWarning() throws {
        let dir = Self.temporaryDirectory()
        close(open(dir + "/remedies.state", O_RDWR | O_CREAT, 0o644))
        chmod(dir + "/remedies.state", 0o644)
        let runtime = Self.temporaryDirectory()
        var warnings: [String] = []
        let state = RuntimeState(
            directory: dir, files: SharedFiles(group: 4242), environment: ["XDG_RUNTIME_DIR": runtime], isRoot: false,
            warn: { warnings.append($0) })
        let lock = HostLock(state: state, cooldown: 60)
        #expect(lock.perform(.pruneBuildCache) { RemedyReport(name: .pruneBuildCache, ran: true) }.ran)
        #expect(!lock.perform(.pruneBuildCache) { RemedyReport(name: .pruneBuildCache, ran: true) }.ran)
        #expect(warnings.count == 1)
        let warning = try #require(warnings.first)
        #expect(warning.hasPrefix("host-wide coordination of remedies is off for this user: \(dir)/remedies.state: open to every user (mode 0644)"))
        #expect(warning.contains("memory admission ledger are kept in \(runtime)/safebuild instead"))
        #expect(warning.contains("run Scripts/install.sh as root"))
        #expect(Self.mode(runtime + "/safebuild") == (0o700, 0, 0))
        #expect(Self.mode(runtime + "/safebuild/remedies.state").mode == 0o600)
        // The host-wide file was left as it was.
        #expect(Self.mode(dir + "/remedies.state").mode == 0o644)
        #expect(state.probe(HostLock.fileName) != .hostWide)
    }

    /// As root, a lock directory that another user controls (a repository's policy or a job pointed lock_dir at it)
    /// is not written through: their symlink to a file of root's is refused and the file is untouched.
    @Test func rootRefusesAStateFileAnotherUserPlanted() throws {
        let dir = Self.temporaryDirectory()
        let precious = dir + "/precious"
        #expect(FileManager.default.createFile(atPath: precious, contents: Data("root's own\n".utf8), attributes: [.posixPermissions: 0o600]))
        let theirs = dir + "/theirs"
        mkdir(theirs, 0o755)
        chown(theirs, 54321, 54321)
        symlink(precious, theirs + "/remedies.state")
        let report = HostLock(state: RuntimeState(directory: theirs, isRoot: true)).perform(.dropCaches) {
            RemedyReport(name: .dropCaches, ran: true)
        }
        #expect(!report.ran)
        #expect(report.skipped == "cannot use the remedies' lock: \(theirs)/remedies.state: a symlink; safebuild does not write through it")
        #expect(try String(contentsOfFile: precious, encoding: .utf8) == "root's own\n")
        #expect(Self.mode(precious).mode == 0o600)
    }

    /// Waiting for the lock says, after the notice delay, what it waits for and who holds the lock; a termination
    /// signal ends it at once, and the remedy is skipped with that reason.
    @Test func aWaitSaysWhoHoldsTheLockAndEndsOnATerminationSignal() {
        let dir = Self.temporaryDirectory()
        let holder = open(dir + "/remedies.state", O_RDWR | O_CREAT, 0o600)
        #expect(flock(holder, LOCK_EX) == 0)
        defer { close(holder) }
        var said: [String] = []
        var sleeps = 0
        let waiting = LockWaiting(
            sleep: { _ in
                sleeps += 1
                return sleeps == 3 ? SIGTERM : nil
            }, say: { said.append($0) }, noticeAfter: 0)
        var ran = false
        let report = HostLock(directory: dir).perform(.dropCaches, waiting: waiting) {
            ran = true
            return RemedyReport(name: .dropCaches, ran: true)
        }
        #expect(!ran)
        #expect(report.interruptedBy == SIGTERM)
        #expect(report.skipped == "interrupted by SIGTERM while waiting for the host-wide remedy lock \(dir)/remedies.state")
        #expect(sleeps == 3)
        #expect(said == [
            "waiting for the host-wide remedy lock \(dir)/remedies.state to run drop_caches, held by pid \(getpid()) (\(Self.comm())); at most 300 s, Ctrl-C or SIGTERM ends the wait",
        ])
    }

    static func comm() -> String {
        ((try? String(contentsOfFile: "/proc/self/comm", encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func directoryChoice() {
        #expect(HostLock.defaultDirectory(policy: "/srv/locks", environment: [:]) == "/srv/locks")
        // This machine runs as root with a writable /run.
        #expect(HostLock.defaultDirectory(policy: nil, environment: [:]) == "/run/safebuild")
    }

    @Test func remediesGoThroughTheLock() {
        let dir = Self.temporaryDirectory()
        let ctx = RecordingContext()
        let remedies = Remedies(context: ctx)
        let lock = HostLock(directory: dir, cooldown: 60)
        let first = remedies.run([.dropCaches, .compactMemory], lock: lock)
        let second = remedies.run([.dropCaches, .compactMemory], lock: lock)
        #expect(first.map(\.ran) == [true, true])
        #expect(second.map(\.ran) == [false, false])
        #expect(ctx.calls.filter { $0.hasPrefix("write") }.count == 2)
    }
}
