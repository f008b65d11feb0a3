/// What the host shows after a failed attempt, beside docker's own output: today the kernel's `page allocation
/// failure` lines logged during the attempt, which the classifier reads. More evidence (free disk under docker's
/// data root, MemAvailable, pressure, the attempt's cgroup counters) belongs here as fields.
package struct AttemptEvidence: Sendable, Equatable {
    /// Kernel log lines written since the attempt started that the classifier's kernel signatures may match.
    package var kernelLines: [String]
    /// The OOM killer's records of the attempt's containers (readable by root only: empty otherwise).
    package var oomKills: [OOMDiagnosis.KernelKill]

    package init(kernelLines: [String] = [], oomKills: [OOMDiagnosis.KernelKill] = []) {
        self.kernelLines = kernelLines
        self.oomKills = oomKills
    }
}
