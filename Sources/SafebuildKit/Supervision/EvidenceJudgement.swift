/// The step after classification: the host's figures after a failed attempt (`HostEvidence`) confirm or correct
/// what docker's text said. Two rules:
///
/// - **A full data root is `disk_full`**, whatever the step printed (`head: standard output: I/O error`, then
///   `The command '/bin/sh -c …' returned a non-zero code: 1`): when the lowest free space seen on docker's data root
///   during or after the attempt is below `diskThreshold` — max(1% of its size, 64 MiB). A write that failed with
///   ENOSPC leaves the file system within a few blocks of full; 64 MiB is the slack for what docker itself frees
///   when the step ends (its temporary files, a removed container's layer sampled late), 1% scales it to large disks
///   whose free figure moves by more than that between two samples. An OOM kill is left alone: its own cgroup's
///   counters are the stronger evidence.
/// - **An ENOMEM on a healthy host is not a host shortage**: plenty of memory (MemAvailable at least 1 GiB and 20% of
///   MemTotal), no pressure (PSI some avg10 below 5%, or no PSI on this kernel) and no fragmentation (at least 256
///   MiB free in blocks of order 3 and up, and no `page allocation failure` logged during the attempt). No host-wide
///   remedy can help it (the usual cause is the command's own limit, such as `--ulimit data=…`): the retry runs
///   without remedies, once (`retry.healthy_host_enomem: once`), or not at all (`never`); the same ENOMEM again
///   (the same matched line, the host still healthy) ends the command.
package enum EvidenceJudgement {
    /// What to do about the retry, beside the class.
    package enum Retry: Equatable, Sendable {
        /// As the class's ladder says.
        case ladder
        /// Retry (within the policy's bounds) without any remedy; the sentence says why.
        case withoutRemedies(String)
        /// Do not retry; the sentence says why.
        case giveUp(String)
    }

    package struct Verdict: Equatable, Sendable {
        package var classification: Classification
        package var retry: Retry
        /// The evidence as recorded, its `judgement` set when it changed anything.
        package var evidence: HostEvidence?
        /// The attempt was an ENOMEM on a healthy host (the next attempt compares its own with it).
        package var healthyENOMEM: Bool
    }

    package static let diskFloor: UInt64 = 64 << 20
    package static let plentyFloor: UInt64 = 1 << 30
    package static let plentyShare = 0.20
    package static let pressureCeiling = 5.0
    package static let highOrderFloor: UInt64 = 256 << 20

    /// Free space under which the data root counts as full: max(1% of its size, 64 MiB).
    package static func diskThreshold(total: UInt64) -> UInt64 { max(total / 100, diskFloor) }

    /// Judges a failed attempt's classification by the host's evidence. `previous` is the verdict on the attempt
    /// before, if it failed.
    package static func judge(
        _ classification: Classification, evidence: AttemptEvidence, previous: (verdict: Verdict, line: String?)?,
        policy: HealthyHostENOMEM
    ) -> Verdict {
        var verdict = Verdict(classification: classification, retry: .ladder, evidence: evidence.host, healthyENOMEM: false)
        guard var host = evidence.host else { return verdict }
        let c = classification.failureClass

        if c != .diskFull, c != .oomContainer, c != .oomBuildStep, let full = diskFull(host) {
            host.judgement = "disk_full: \(full)" + (c == .notMemory ? "" : " (docker's text said \(c.rawValue))")
            verdict.classification = Classification(
                failureClass: .diskFull, line: classification.line, reason: "the disk is full: \(full)", retryable: true,
                kernelEvidence: classification.kernelEvidence)
            verdict.evidence = host
            return verdict
        }

        guard policy != .ladder, [.networkENOMEM, .storageENOMEM, .processENOMEM].contains(c),
            let healthy = healthyHost(host, pageAllocationFailures: evidence.kernelLines.count)
        else { return verdict }
        verdict.healthyENOMEM = true
        let repeated = previous.map { $0.verdict.healthyENOMEM && $0.line == classification.line } ?? false
        let retry: Retry
        if repeated {
            retry = .giveUp(
                "the same ENOMEM again on a healthy host (\(healthy)): not a host shortage, no remedy can help; look at the command's own limits (--ulimit, seccomp)")
        } else if previous?.verdict.healthyENOMEM == true || policy == .never {
            retry = .giveUp(
                "ENOMEM on a healthy host (\(healthy)): not a host shortage, so no host-wide remedy is run and retry.healthy_host_enomem does not retry it; look at the command's own limits (--ulimit, seccomp)")
        } else {
            retry = .withoutRemedies(
                "ENOMEM on a healthy host (\(healthy)): no host-wide remedy is run; retried once without remedies (retry.healthy_host_enomem: once)")
        }
        switch retry {
        case .giveUp(let why), .withoutRemedies(let why): host.judgement = why
        case .ladder: break
        }
        verdict.retry = retry
        verdict.evidence = host
        return verdict
    }

    /// Why the data root counts as full, or nil.
    static func diskFull(_ host: HostEvidence) -> String? {
        guard let total = host.dataRootTotalBytes else { return nil }
        let seen = [host.dataRootFreeBytes, host.dataRootLowestFreeBytes].compactMap { $0 }
        guard let lowest = seen.min() else { return nil }
        let threshold = diskThreshold(total: total)
        guard lowest < threshold else { return nil }
        let root = host.dataRoot ?? "docker's data root"
        return "\(root) had \(ByteSize.describe(lowest)) free of \(ByteSize.describe(total)), below \(ByteSize.describe(threshold)) (max(1%, 64 MiB))"
    }

    /// The host's figures in words when they show plenty of memory, no pressure and no fragmentation; nil when one
    /// of them does not, or is unknown (then the ladder runs as before).
    static func healthyHost(_ host: HostEvidence, pageAllocationFailures: Int) -> String? {
        guard let available = host.memAvailableBytes, let total = host.memTotalBytes, let highOrder = host.highOrderFreeBytes
        else { return nil }
        guard available >= plentyFloor, Double(available) >= plentyShare * Double(total) else { return nil }
        if let psi = host.pressureSome10, psi >= pressureCeiling { return nil }
        guard highOrder >= highOrderFloor, pageAllocationFailures == 0 else { return nil }
        let psi = host.pressureSome10.map { "memory pressure \(Self.percent($0))" } ?? "no PSI"
        return "\(ByteSize.describe(available)) of \(ByteSize.describe(total)) available, \(psi), \(ByteSize.describe(highOrder)) free in blocks of 32 KiB and up"
    }

    static func percent(_ value: Double) -> String {
        let rounded = (value * 100).rounded() / 100
        return "\(rounded)%"
    }
}
