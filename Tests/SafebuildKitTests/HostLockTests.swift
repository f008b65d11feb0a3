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
        #expect(r.skipped?.hasPrefix("cannot create the lock directory /proc/safebuild-no") == true)
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
