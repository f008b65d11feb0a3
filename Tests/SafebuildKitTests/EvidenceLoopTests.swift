import SafebuildTestSupport
import Testing

@testable import SafebuildKit

/// The host's evidence after a failed attempt, through the attempt loop's recording fake: a full data root makes any
/// failure `disk_full`; an ENOMEM on a healthy host runs no host-wide remedy. docker's attempts are real captured
/// ones (Fixtures/failure); the host's figures are scripted per attempt.
@Suite struct EvidenceLoopTests {
    typealias Fake = RecordingSupervisionEffects

    static let gib: UInt64 = 1 << 30
    static let mib: UInt64 = 1 << 20

    /// The host of issue 16: 23 GiB available of 31 GiB, no pressure, 2 GiB free in large blocks; a data root with room.
    static let healthy = HostEvidence(
        dataRoot: "/var/lib/docker", dataRootFreeBytes: 40 * gib, dataRootTotalBytes: 100 * gib,
        memAvailableBytes: 23 * gib, memTotalBytes: 31 * gib, memFreeBytes: 20 * gib, cachedBytes: 3 * gib,
        pressureSome10: 0, highOrderFreeBytes: 2 * gib)

    static func runs(_ plan: SupervisionPlan, _ fake: Fake) -> Int32 {
        AttemptLoopTests.run(plan, fake)
    }

    static func remedies(_ fake: Fake) -> [RemedyName] {
        fake.effects.compactMap { if case .runRemedy(let name) = $0 { return name } else { return nil } }
    }

    static func captured(_ name: String, host: HostEvidence?) -> Fake.Attempt {
        var attempt = AttemptLoopTests.captured(name)
        attempt.host = host
        return attempt
    }

    // MARK: - ENOMEM on a healthy host

    /// `run --ulimit data=1000000` fails in runc with ENOMEM every time: retried once without remedies, then given
    /// up, with the reason on the console and the evidence in the journal.
    @Test func healthyHostENOMEMRunsNoRemedyAndRepeatsOnce() throws {
        let plan = try AttemptLoopTests.plan(
            ["run", "--rm", "--ulimit", "data=1000000", "img", "true"],
            policy: AttemptLoopTests.policy(retry: ["healthy_host_enomem: once"]))
        let fake = Fake(attempts: [
            Self.captured("run-ulimit-enomem", host: Self.healthy), Self.captured("run-ulimit-enomem", host: Self.healthy),
            .exits(0),
        ])
        #expect(Self.runs(plan, fake) == 125)
        #expect(Self.remedies(fake) == [])
        #expect(fake.dockerAttempts.count == 2)
        let healthy = "23.0 GiB of 31.0 GiB available, memory pressure 0.0%, 2.0 GiB free in blocks of 32 KiB and up"
        #expect(fake.console == [
            .say(
                "attempt 1/3 failed: \(AttemptLoopTests.enomemReason); ENOMEM on a healthy host (\(healthy)): no host-wide remedy is run; retried once without remedies (retry.healthy_host_enomem: once); retrying in 2 s"
            ),
            .say(
                "attempt 2/3 failed: \(AttemptLoopTests.enomemReason); giving up: the same ENOMEM again on a healthy host (\(healthy)): not a host shortage, no remedy can help; look at the command's own limits (--ulimit, seccomp)"
            ),
        ])
        let first = try #require(fake.attemptRecords.first)
        #expect(first.failureClass == "process_enomem")
        #expect(first.remedies == [])
        #expect(first.evidence?.memAvailableBytes == 23 * Self.gib)
        #expect(first.evidence?.judgement?.hasPrefix("ENOMEM on a healthy host") == true)
        let second = try #require(fake.attemptRecords.last)
        #expect(second.decision.hasPrefix("give up: the same ENOMEM again on a healthy host"))
        #expect(fake.invocationRecords.first?.outcome == .failed)
        #expect(fake.invocationRecords.first?.attempts == 2)
    }

    @Test func healthyHostENOMEMIsNotRetriedWhenThePolicySaysNever() throws {
        let plan = try AttemptLoopTests.plan(
            ["run", "--rm", "--ulimit", "data=1000000", "img", "true"],
            policy: AttemptLoopTests.policy(retry: ["healthy_host_enomem: never"]))
        let fake = Fake(attempts: [Self.captured("run-ulimit-enomem", host: Self.healthy), .exits(0)])
        #expect(Self.runs(plan, fake) == 125)
        #expect(fake.dockerAttempts.count == 1)
        #expect(Self.remedies(fake) == [])
        #expect(fake.attemptRecords.first?.decision.contains("retry.healthy_host_enomem does not retry it") == true)
    }

    /// Each of the three figures alone makes the host unhealthy: the ladder's host-wide remedies run as before.
    @Test(arguments: ["little memory", "a small share", "pressure", "fragmented"])
    func anUnhealthyHostRunsTheLadder(_ what: String) throws {
        var host = Self.healthy
        switch what {
        case "little memory": host.memAvailableBytes = 700 * Self.mib
        case "a small share": host.memTotalBytes = 200 * Self.gib
        case "pressure": host.pressureSome10 = 12.5
        default: host.highOrderFreeBytes = 100 * Self.mib
        }
        let plan = try AttemptLoopTests.plan(["build", "-m", "1g", "-q", "."])
        let fake = Fake(attempts: [Self.captured(AttemptLoopTests.buildENOMEM, host: host), .exits(0)])
        #expect(Self.runs(plan, fake) == 0)
        #expect(Self.remedies(fake) == [.dropCaches, .waitForMemory])
        #expect(fake.attemptRecords.first?.evidence?.judgement == nil)
    }

    /// A page allocation failure logged during the attempt is fragmentation, whatever buddyinfo says afterwards.
    @Test func aPageAllocationFailureIsNotAHealthyHost() throws {
        let plan = try AttemptLoopTests.plan(["build", "-m", "1g", "-q", "."])
        var attempt = Self.captured(AttemptLoopTests.buildENOMEM, host: Self.healthy)
        attempt.kernelLines = ["runc:[2:INIT]: page allocation failure: order:4, mode:0x40dc0(GFP_KERNEL|__GFP_COMP|__GFP_ZERO), nodemask=(null)"]
        let fake = Fake(attempts: [attempt, .exits(0)])
        #expect(Self.runs(plan, fake) == 0)
        #expect(!Self.remedies(fake).isEmpty)
    }

    /// Without figures (a remote engine, /proc unreadable) nothing changes.
    @Test func noEvidenceLeavesTheClassAlone() throws {
        let plan = try AttemptLoopTests.plan(["build", "-m", "1g", "-q", "."])
        let fake = Fake(attempts: [Self.captured(AttemptLoopTests.buildENOMEM, host: nil), .exits(0)])
        #expect(Self.runs(plan, fake) == 0)
        #expect(Self.remedies(fake) == [.dropCaches, .waitForMemory])
        #expect(fake.attemptRecords.first?.evidence == nil)
    }

    // MARK: - A full data root

    static func fullDisk(lowest: UInt64?, after: UInt64) -> HostEvidence {
        var host = healthy
        host.dataRoot = "/mnt/small/root"
        host.dataRootTotalBytes = 150 * mib
        host.dataRootFreeBeforeBytes = 42 * mib
        host.dataRootFreeBytes = after
        host.dataRootLowestFreeBytes = lowest
        return host
    }

    /// A step that failed with its own words (here a user's `exit 1`) on a data root with no room left is
    /// `disk_full`: retried with the disk_full ladder; the same failure with room on the disk is the user's.
    @Test func aFullDataRootIsDiskFullWhateverTheStepPrinted() throws {
        let plan = try AttemptLoopTests.plan(["build", "."])
        let fake = Fake(attempts: [Self.captured("build-classic-exit1", host: Self.fullDisk(lowest: 0, after: 12 * Self.mib)), .exits(0)])
        #expect(Self.runs(plan, fake) == 0)
        let first = try #require(fake.attemptRecords.first)
        #expect(first.failureClass == "disk_full")
        #expect(first.evidence?.dataRootLowestFreeBytes == 0)
        #expect(first.evidence?.judgement == "disk_full: /mnt/small/root had 0 B free of 150.0 MiB, below 64.0 MiB (max(1%, 64 MiB))")
        #expect(Self.remedies(fake) == [.freeDisk])
        guard case .say(let line) = fake.console.first else {
            Issue.record("no attempt line: \(fake.console)")
            return
        }
        #expect(line.hasPrefix(
            "attempt 1/3 failed: the disk is full: /mnt/small/root had 0 B free of 150.0 MiB, below 64.0 MiB (max(1%, 64 MiB)); "))
        #expect(line.hasSuffix("; retrying in 2 s"))

        let roomy = Fake(attempts: [Self.captured("build-classic-exit1", host: Self.fullDisk(lowest: 90 * Self.mib, after: 100 * Self.mib)), .exits(0)])
        #expect(Self.runs(plan, roomy) == 1)
        #expect(roomy.attemptRecords.first?.failureClass == "not_memory")
        #expect(roomy.dockerAttempts.count == 1)
    }

    /// The lowest free space seen while docker ran counts: docker may have freed the failed step's layer by the end.
    @Test func theLowestFreeSpaceDuringTheAttemptCounts() {
        let c = Classification(failureClass: .notMemory, line: nil, reason: "exit 1", retryable: false, kernelEvidence: nil)
        let during = EvidenceJudgement.judge(
            c, evidence: AttemptEvidence(host: Self.fullDisk(lowest: 1 * Self.mib, after: 80 * Self.mib)), previous: nil,
            policy: .once)
        #expect(during.classification.failureClass == .diskFull)
        #expect(during.classification.retryable)
        let never = EvidenceJudgement.judge(
            c, evidence: AttemptEvidence(host: Self.fullDisk(lowest: nil, after: 80 * Self.mib)), previous: nil, policy: .once)
        #expect(never.classification.failureClass == .notMemory)
    }

    /// max(1%, 64 MiB): 64 MiB up to a 6.25 GiB disk, 1% above.
    @Test(arguments: [
        (UInt64(150) << 20, UInt64(64) << 20), (UInt64(100) << 30, UInt64(1024) << 20), (UInt64(6400) << 20, UInt64(64) << 20),
    ])
    func theDiskThreshold(total: UInt64, threshold: UInt64) {
        #expect(EvidenceJudgement.diskThreshold(total: total) == threshold)
    }

    /// An OOM kill's own cgroup is the stronger evidence: a full disk does not turn it into disk_full.
    @Test func anOOMKillStaysAnOOMKill() {
        let c = Classification(failureClass: .oomContainer, line: nil, reason: "OOM", retryable: true, kernelEvidence: nil)
        let verdict = EvidenceJudgement.judge(
            c, evidence: AttemptEvidence(host: Self.fullDisk(lowest: 0, after: 0)), previous: nil, policy: .once)
        #expect(verdict.classification.failureClass == .oomContainer)
        #expect(verdict.retry == .ladder)
    }
}
