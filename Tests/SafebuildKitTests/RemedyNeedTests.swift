import Testing

@testable import SafebuildKit

/// drop_caches and compact_memory run only when the host's figures say they can help, and say why (or why not), on
/// this machine's captured /proc/meminfo (23.5 GiB, 22.5 GiB available, 956 MiB page cache) and /proc/buddyinfo
/// (3.1 GiB free in blocks of 32 KiB and up): a healthy host, where both are skipped unless the host policy says
/// otherwise.
@Suite struct RemedyNeedTests {
    static let meminfo = HostFixture.text("meminfo-this-machine.txt")
    static let buddyinfo = HostFixture.text("buddyinfo-this-machine.txt")

    func host(root: Bool = true) -> RecordingContext {
        let ctx = RecordingContext()
        ctx.root = root
        ctx.files[MemInfo.path] = Self.meminfo
        ctx.files["/proc/buddyinfo"] = Self.buddyinfo
        return ctx
    }

    @Test func dropCachesIsSkippedOnAHealthyHostAndSaysWhy() {
        for root in [true, false] {
            let ctx = host(root: root)
            let report = Remedies(context: ctx).run(.dropCaches)
            #expect(!report.ran)
            // 20% of 23.5 GiB is 4.7 GiB, above 1 GiB.
            #expect(
                report.skipped
                    == "22.5 GiB of 23.5 GiB available, not below 4.7 GiB (1 GiB or 20% of memory): memory is not short, and every job would read the dropped page cache back from disk")
            #expect(report.because == nil)
            // Neither written here nor asked of the privileged entry.
            #expect(ctx.calls == ["read /proc/meminfo"], "root: \(root)")
        }
    }

    @Test func dropCachesIsSkippedWithLittlePageCache() {
        let ctx = host()
        var settings = RemedySettings()
        settings.dropCachesMinCache = 1 << 30
        settings.dropCachesMaxAvailable = 32 << 30
        let report = Remedies(context: ctx, settings: settings).run(.dropCaches)
        #expect(!report.ran)
        #expect(report.skipped == "only 956.2 MiB of page cache, below drop_caches_min_cache 1.0 GiB: nothing worth dropping")
        #expect(!ctx.calls.contains("sync"))
    }

    /// The host policy calls memory short below 32 GiB: it runs, says why, and records the page cache before and
    /// after and what the sync and the drop took.
    @Test func dropCachesRunsWhenTheHostPolicyCallsMemoryShortAndRecordsItsCost() {
        let ctx = host()
        ctx.syncSeconds = 0.25
        ctx.available = [22 << 30, 23 << 30]
        var settings = RemedySettings()
        settings.dropCachesMaxAvailable = 32 << 30
        let report = Remedies(context: ctx, settings: settings).run(.dropCaches)
        #expect(report.ran)
        #expect(report.because == "956.2 MiB of page cache, and only 22.5 GiB of 23.5 GiB available, below drop_caches_max_available 32.0 GiB")
        let cached: Int64 = 979108 * 1024
        #expect(report.before["page_cache_bytes"] == cached)
        #expect(report.after["page_cache_bytes"] == cached)
        #expect(report.before["mem_available_bytes"] == 22 << 30)
        #expect(report.after["mem_available_bytes"] == 23 << 30)
        #expect(report.after["sync_milliseconds"] == 250)
        #expect(report.after["drop_milliseconds"] == 0)
        #expect(report.duration == 0.25)
        #expect(ctx.calls.filter { $0 == "sync" || $0.hasPrefix("write") } == ["sync", "write /proc/sys/vm/drop_caches 1"])

        // The journal keeps the reason beside the figures; the console says what ran.
        let journal = AttemptLoop.journalRemedy(report)
        #expect(journal.because == report.because)
        #expect(ConsoleReport.phrase(journal) == "dropped caches")
    }

    /// Not root, memory short: the privileged entry is asked (it checks the host's figures again itself).
    @Test func aMemberAsksTheEntryOnlyWhenTheFiguresSaySo() {
        let ctx = host(root: false)
        var settings = RemedySettings()
        settings.dropCachesMaxAvailable = 32 << 30
        settings.compactMemoryMaxFree = 4 << 30
        let reports = Remedies(context: ctx, settings: settings).run([.dropCaches, .compactMemory], lock: nil)
        #expect(ctx.calls == ["read /proc/meminfo", "as root drop_caches", "read /proc/buddyinfo", "as root compact_memory"])
        #expect(reports.allSatisfy { $0.skipped?.hasPrefix("needs root, and ") == true })
    }

    @Test func compactMemoryIsSkippedWithoutFragmentation() {
        for root in [true, false] {
            let ctx = host(root: root)
            let report = Remedies(context: ctx).run(.compactMemory)
            #expect(!report.ran)
            // Orders 3-10: DMA 3840 pages, DMA32 772896, Normal 30648; 807384 pages of 4 KiB.
            #expect(
                report.skipped
                    == "3.1 GiB free in blocks of 32 KiB and up, not below compact_memory_max_free 256.0 MiB: memory is not fragmented")
            #expect(ctx.calls == ["read /proc/buddyinfo"])
        }
    }

    @Test func compactMemoryRunsWhenFragmentedAndSaysWhy() {
        let ctx = RecordingContext()
        // Real /proc/buddyinfo format (mm/vmstat.c frag_show_print): 3984 pages in blocks of order 3 and up.
        ctx.files["/proc/buddyinfo"] = "Node 0, zone      DMA      1      1      0      0      2      1      1      0      1      1      3 \nNode 0, zone    DMA32      4      3      4      2      0      0      0      0      0      0      0 \n"
        let report = Remedies(context: ctx).run(.compactMemory)
        #expect(report.ran)
        #expect(report.because == "only 15.6 MiB free in blocks of 32 KiB and up, below compact_memory_max_free 256.0 MiB")
        let free: Int64 = 3984 * 4096
        #expect(report.before["high_order_free_bytes"] == free)
    }

    /// A host policy's figures reach the remedies: sizes resolved against host memory.
    @Test func theHostPolicySetsTheThresholds() throws {
        let text = """
            version: 1
            remedies:
              drop_caches_min_cache: 0
              drop_caches_max_available: 100%
              compact_memory_max_free: 1g

            """
        let policy = try PolicyParser.read(text, file: "host.yml", layer: .host, over: PolicyLoader.builtIn).result.get()
        let settings = RemedySettings(policy: policy, hostMemory: 24 << 30)
        #expect(settings.dropCachesMinCache == 0)
        #expect(settings.dropCachesMaxAvailable == 24 << 30)
        #expect(settings.compactMemoryMaxFree == 1 << 30)
        let builtIn = RemedySettings(policy: PolicyLoader.builtIn, hostMemory: 24 << 30)
        #expect(builtIn.dropCachesMinCache == 256 << 20)
        #expect(builtIn.dropCachesMaxAvailable == nil)
        #expect(builtIn.compactMemoryMaxFree == 256 << 20)
    }
}
