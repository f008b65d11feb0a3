import Glibc
import SafebuildTestSupport
import Testing

@testable import SafebuildKit

/// The ledger's format and reclaim, the admission decision as a table, and what a waiting command says.
@Suite struct AdmissionTests {
    static let m: UInt64 = 1 << 20
    static let pool = "/sys/fs/cgroup/memory/sbbench"

    static func entry(
        _ ticket: UInt64, _ state: LedgerEntry.State, _ mib: UInt64, pid: Int32? = nil, pool: String = pool,
        label: String = "run busybox"
    ) -> LedgerEntry {
        LedgerEntry(
            ticket: ticket, process: ProcessIdentity(pid: pid ?? Int32(1000 + ticket), startTime: 5000 + ticket),
            state: state, bytes: mib * m, since: 1_795_000_000.5, pool: pool, uid: 1000, user: "jenkins", label: label)
    }

    // MARK: The ledger's text

    @Test func ledgerTextIsStableAndReadsBack() {
        var ledger = Ledger(next: 7)
        ledger.engines = [
            EnginePool(
                daemon: ProcessIdentity(pid: 6376, startTime: 561775), driver: .cgroupfs, version: .v1,
                root: "/sys/fs/cgroup/memory", parent: EngineCgroupParent(path: "/sbbench", source: "dockerd --cgroup-parent=/sbbench"),
                driverSource: "engine /info")
        ]
        ledger.entries = [
            Self.entry(6, .waiting, 800, label: "build app:1,app:latest, job app/main #12"),
            Self.entry(5, .running, 512, label: "run ünïcode 100% -"),
        ]
        let text = ledger.text
        #expect(text == """
            safebuild-admission-ledger 1
            next 7
            engine 6376 561775 cgroupfs v1 /sys/fs/cgroup/memory /sbbench dockerd%20--cgroup-parent=/sbbench engine%20/info
            entry 5 1005 5005 running 536870912 1795000000.5 1000 /sys/fs/cgroup/memory/sbbench jenkins run%20ünïcode%20100%25%20-
            entry 6 1006 5006 waiting 838860800 1795000000.5 1000 /sys/fs/cgroup/memory/sbbench jenkins build%20app:1,app:latest,%20job%20app/main%20#12

            """)
        var sorted = ledger
        sorted.entries.sort { $0.ticket < $1.ticket }
        #expect(Ledger.parse(text) == sorted)
    }

    @Test func emptyFieldsAndDashesSurvive() {
        var ledger = Ledger()
        ledger.entries = [Self.entry(1, .paused, 1, label: "-")]
        ledger.entries[0].user = ""
        #expect(Ledger.parse(ledger.text) == ledger)
        #expect(ledger.text.contains(" - %2D\n"))
    }

    /// A damaged file costs only the lines that cannot be read.
    @Test func damagedLinesAreDropped() {
        let text = """
            safebuild-admission-ledger 1
            next 12
            entry 3 100 200 running 1048576 1.5 0 /p root run
            entry 4 101 201 flying 1048576 1.5 0 /p root run
            entry x
            garbage
            engine 1 2 podman v1 / / - -
            entry 5 102 202 waiting 1048576 1.5 0 /p root run%20a
            """
        let ledger = Ledger.parse(text)
        #expect(ledger.next == 12)
        #expect(ledger.entries.map(\.ticket) == [3, 5])
        #expect(ledger.entries.last?.label == "run a")
        #expect(ledger.engines.isEmpty)
    }

    @Test func ticketsOnlyGoUp() {
        var ledger = Ledger(next: 3)
        ledger.entries = [Self.entry(9, .running, 1)]
        #expect(ledger.issueTicket() == 10)
        #expect(ledger.issueTicket() == 11)
        #expect(ledger.next == 12)
    }

    @Test func reclaimDropsTheEntriesAndEnginesOfProcessesThatAreGone() {
        var ledger = Ledger()
        ledger.entries = [Self.entry(1, .running, 800), Self.entry(2, .waiting, 800), Self.entry(3, .paused, 100)]
        ledger.engines = [
            EnginePool(
                daemon: ProcessIdentity(pid: 1002, startTime: 5002), driver: .cgroupfs, version: .v1, root: "/r",
                parent: EngineCgroupParent(path: "/p", source: "s"), driverSource: "d")
        ]
        let gone = ledger.reclaim { $0.pid != 1002 }
        #expect(gone.map(\.ticket) == [2])
        #expect(ledger.entries.map(\.ticket) == [1, 3])
        #expect(ledger.engines.isEmpty)
    }

    // MARK: The file

    /// Two openers of one ledger see each other's entries; a SIGKILLed process's entry is gone at the next look,
    /// before its parent has even reaped it.
    @Test func aKilledHoldersShareIsReclaimedByTheNextReader() throws {
        let dir = try TemporaryDirectory()
        let a = try LedgerFile(directory: dir.path + "/state")
        let b = try LedgerFile(directory: dir.path + "/state")
        let child = try ProcessRunner.Started("/bin/sleep", ["30"])
        let holder = try #require(ProcessIdentity.of(child.pid))
        let me = try #require(ProcessIdentity.current())
        try a.update(signals: nil) { l in
            var e = Self.entry(l.issueTicket(), .running, 800)
            e.process = holder
            l.set(e)
            var mine = Self.entry(l.issueTicket(), .waiting, 800)
            mine.process = me
            l.set(mine)
        }
        #expect(try b.read().entries.map(\.process) == [holder, me])
        kill(child.pid, SIGKILL)
        var info = siginfo_t()
        _ = waitid(P_PID, id_t(child.pid), &info, WEXITED | WNOWAIT)
        #expect(try b.read().entries.map(\.process) == [me])
        #expect(Ledger.parse(String(decoding: dir.read("state/admission.ledger"), as: UTF8.self)).entries.map(\.process) == [me])
        _ = child.wait()
    }

    @Test func aSymlinkedLedgerIsRefused() throws {
        let dir = try TemporaryDirectory()
        _ = try dir.directory("state")
        try dir.write("elsewhere", [])
        try dir.symlink("state/admission.ledger", to: dir.path + "/elsewhere")
        #expect(throws: FileSafetyError.self) { try LedgerFile(directory: dir.path + "/state") }
    }

    // MARK: The decision

    typealias Verdict = AdmissionDecision.Verdict
    typealias Wait = AdmissionDecision.Wait

    @Test(arguments: [
        // alone in a free pool
        ("free pool", [], UInt64?(0), 800, Verdict.admit(alone: false)),
        // one 800m running: 224m free
        ("one running", [entry(1, .running, 800)], 0, 800, .wait(Wait(needed: 800 * m, free: 224 * m, ahead: 0, running: 1))),
        // its container holds less than it reserved: the reservation counts
        ("reserved over used", [entry(1, .running, 800)], 100 * m, 200, .admit(alone: false)),
        // a container safebuild did not start holds 600m
        ("used over reserved", [], 600 * m, 800, .wait(Wait(needed: 800 * m, free: 424 * m, ahead: 0, running: 0))),
        // first come, first served: an earlier ticket waits, so this one waits although it would fit
        ("earlier waiter", [entry(1, .waiting, 900)], 0, 100, .wait(Wait(needed: 100 * m, free: 1024 * m, ahead: 1, running: 0))),
        // a later ticket does not hold this one back
        ("later waiter", [entry(20, .waiting, 900)], 0, 100, .admit(alone: false)),
        // paused reservations (between attempts) hold neither memory nor a place in line
        ("paused", [entry(1, .paused, 900)], 0, 800, .admit(alone: false)),
        // larger than the whole budget: alone when nothing else holds memory
        ("oversize alone", [entry(20, .waiting, 100)], 0, 2048, .admit(alone: true)),
        ("oversize waits", [entry(1, .running, 100)], 0, 2048,
         .wait(Wait(needed: 2048 * m, free: 924 * m, ahead: 0, running: 1, alone: true))),
        // a pool beyond its budget has nothing free, not a negative amount
        ("over budget", [entry(1, .running, 800), entry(2, .running, 800)], 0, 10,
         .wait(Wait(needed: 10 * m, free: 0, ahead: 0, running: 2))),
        // unknown usage: only reservations count
        ("unknown usage", [entry(1, .running, 512)], nil, 512, .admit(alone: false)),
    ] as [(String, [LedgerEntry], UInt64?, UInt64, Verdict)])
    func decision(_ what: String, others: [LedgerEntry], used: UInt64?, requestMiB: UInt64, verdict: Verdict) {
        let got = AdmissionDecision.decide(
            ticket: 10, request: requestMiB * Self.m, others: others, budget: 1024 * Self.m, used: used, oversize: .alone)
        #expect(got == verdict, "\(what)")
    }

    @Test func oversizeRefusedWhenThePolicySaysSo() {
        #expect(AdmissionDecision.decide(ticket: 1, request: 2 << 30, others: [], budget: 1 << 30, used: 0, oversize: .refuse) == .refuse)
        #expect(AdmissionDecision.decide(ticket: 1, request: 1 << 30, others: [], budget: 1 << 30, used: 0, oversize: .refuse)
            == .admit(alone: false))
    }

    // MARK: What a waiting command says

    static let request = AdmissionRequest(bytes: 800 * m, source: "its memory limit 800m")

    @Test func theSentenceNamesWhatItWaitsFor() {
        let wait = Wait(needed: 800 * Self.m, free: 224 * Self.m, ahead: 2, running: 1)
        #expect(AdmissionProgress.sentence(wait, request: Self.request, budget: 1024 * Self.m)
            == "waiting for memory: needs 800 MiB (its memory limit 800m); 224 MiB of the 1 GiB budget free; 1 running, 2 waiting ahead")
        let alone = Wait(needed: 2048 * Self.m, free: 0, ahead: 0, running: 3, alone: true)
        #expect(AdmissionProgress.sentence(alone, request: Self.request, budget: 1024 * Self.m)
            == "waiting for memory: needs 2 GiB (its memory limit 800m); more than the whole 1 GiB budget, so it runs alone once nothing else holds memory; 3 running, 0 waiting ahead")
    }

    /// On a terminal: one line, rewritten when the figures or the seconds change, cleared when the wait ends.
    @Test func onATerminalOneLineIsRewritten() {
        var p = AdmissionProgress(terminal: true)
        #expect(p.waiting("A", elapsed: 0.1, now: 0) == "\r\u{1B}[Ksafebuild: A (0 s)")
        #expect(p.waiting("A", elapsed: 0.6, now: 0.5) == nil)
        #expect(p.waiting("A", elapsed: 1.1, now: 1) == "\r\u{1B}[Ksafebuild: A (1 s)")
        #expect(p.waiting("B", elapsed: 1.2, now: 1.1) == "\r\u{1B}[Ksafebuild: B (1 s)")
        #expect(p.done("memory admitted after 1.3s") == "\r\u{1B}[Ksafebuild: memory admitted after 1.3s\n")
    }

    /// In a log: a line when what it waits for changes, at most one every 10 seconds.
    @Test func inALogALineWhenItChangesAtMostEveryTenSeconds() {
        var p = AdmissionProgress(terminal: false)
        #expect(p.waiting("A", elapsed: 0, now: 100) == "safebuild: A\n")
        #expect(p.waiting("A", elapsed: 20, now: 120) == nil)
        #expect(p.waiting("B", elapsed: 25, now: 125) == "safebuild: B\n")
        #expect(p.waiting("C", elapsed: 30, now: 130) == nil)
        #expect(p.waiting("C", elapsed: 36, now: 136) == "safebuild: C\n")
        #expect(p.done(nil) == nil)
        #expect(p.done("memory admitted after 40s") == "safebuild: memory admitted after 40s\n")
    }
}
