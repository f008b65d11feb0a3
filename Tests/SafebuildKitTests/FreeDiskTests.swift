import Testing

@testable import SafebuildKit

/// free_disk through the recording context: prunes in steps, oldest first, until the data root has enough free,
/// never younger than the floor, never anything but dangling images and unused cache.
@Suite struct FreeDiskTests {
    static let mib: UInt64 = 1 << 20

    static func settings(target: UInt64? = nil) -> RemedySettings {
        var s = RemedySettings(keepStorage: "5g", pruneUntil: "24h")
        s.pruneAge = 86400
        s.pruneFloor = 600
        s.freeDiskTarget = target
        return s
    }

    static func prunes(_ ctx: RecordingContext) -> [String] {
        ctx.calls.filter { $0.contains(" prune ") }
    }

    @Test func agesGoDownToTheFloorAndNeverBelow() {
        #expect(Remedies.pruneAges(from: 86400, floor: 600) == [86400, 21600, 5400, 1350, 600])
        #expect(Remedies.pruneAges(from: 300, floor: 600) == [600])
        #expect(Remedies.pruneAges(from: 600, floor: 600) == [600])
        #expect(Remedies.pruneAges(from: 86400, floor: 2) == [86400, 21600, 5400, 1350, 338, 85, 21, 5, 2])
    }

    /// Enough free after the first step: no younger prune.
    @Test func stopsAsSoonAsEnoughIsFree() {
        let ctx = RecordingContext()
        ctx.diskFree = [27 * Self.mib, 97 * Self.mib]
        ctx.dockerAnswers["image prune -f --filter until=24h"] = (0, "Deleted Images:\ndeleted: sha256:6636\n\nTotal reclaimed space: 70MB\n")
        let report = Remedies(context: ctx, settings: Self.settings()).run(.freeDisk)
        #expect(report.ran)
        #expect(Self.prunes(ctx) == ["docker image prune -f --filter until=24h", "docker builder prune -f --filter until=24h"])
        #expect(report.steps == [
            PruneStep(
                until: "24h", freeBeforeBytes: Int64(27 * Self.mib), freeAfterBytes: Int64(97 * Self.mib),
                imagesReclaimedBytes: 70_000_000, cacheReclaimedBytes: 0, seconds: 0)
        ])
        #expect(report.before["disk_free_bytes"] == Int64(27 * Self.mib))
        #expect(report.after["disk_free_bytes"] == Int64(97 * Self.mib))
        #expect(report.detail == "97.0 MiB free after 1 step(s), at least 64.0 MiB")
    }

    /// Nothing frees enough: every step runs, down to the floor (10m) and no younger; never `-a`, never a filter
    /// that would take tagged images.
    @Test func neverYoungerThanTheFloor() {
        let ctx = RecordingContext()
        ctx.diskFree = [10 * Self.mib]
        let report = Remedies(context: ctx, settings: Self.settings(target: 2 << 30)).run(.freeDisk)
        #expect(report.steps?.map(\.until) == ["24h", "6h", "1h30m", "22m30s", "10m"])
        #expect(Self.prunes(ctx).count == 10)
        #expect(!ctx.calls.contains { $0.contains(" -a") || $0.contains("--all") || $0.contains("dangling=false") })
        #expect(report.detail == "10.0 MiB free, below 2.0 GiB, with nothing older than 10m left to prune")
    }

    @Test func enoughFreeAlreadyPrunesNothing() {
        let ctx = RecordingContext()
        ctx.diskFree = [100 * Self.mib]
        let report = Remedies(context: ctx, settings: Self.settings()).run(.freeDisk)
        #expect(Self.prunes(ctx).isEmpty)
        #expect(report.steps == [])
        #expect(report.detail == "already 100.0 MiB free, at least 64.0 MiB")
    }

    @Test func aRemoteEngineIsSkipped() {
        let ctx = RecordingContext()
        let report = Remedies(context: ctx, settings: Self.settings()).run(.freeDisk)
        #expect(!report.ran)
        #expect(report.skipped == "the free space on docker's data root is not known here (not a local engine)")
        #expect(Self.prunes(ctx).isEmpty)
    }

    /// The journal's words: each step with its free space before and after.
    @Test func theStepsReachTheJournal() throws {
        let ctx = RecordingContext()
        ctx.diskFree = [27 * Self.mib, 40 * Self.mib, 97 * Self.mib]
        let report = Remedies(context: ctx, settings: Self.settings()).run(.freeDisk)
        let remedy = AttemptLoop.journalRemedy(report)
        #expect(remedy.steps?.map(\.freeAfterBytes) == [Int64(40 * Self.mib), Int64(97 * Self.mib)])
        #expect(ConsoleReport.phrase(remedy) == "pruned in 2 step(s), free disk 28 MB → 102 MB")
    }
}
