/// What the host shows after a failed attempt, beside docker's own output: the kernel's `page allocation failure`
/// lines logged during the attempt, which the classifier reads, the OOM killer's records, and the host's figures
/// looked at again (`HostEvidence`: free disk on the data root, memory, pressure, fragmentation), which
/// `EvidenceJudgement` reads after the classifier.
package struct AttemptEvidence: Sendable, Equatable {
    /// Kernel log lines written since the attempt started that the classifier's kernel signatures may match.
    package var kernelLines: [String]
    /// The OOM killer's records of the attempt's containers (readable by root only: empty otherwise).
    package var oomKills: [OOMDiagnosis.KernelKill]
    /// The host's figures after the attempt; nil when none could be read.
    package var host: HostEvidence?

    package init(kernelLines: [String] = [], oomKills: [OOMDiagnosis.KernelKill] = [], host: HostEvidence? = nil) {
        self.kernelLines = kernelLines
        self.oomKills = oomKills
        self.host = host
    }
}
