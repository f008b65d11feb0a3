/// What kind of failure an attempt of a protected docker command ended in. The raw value is what the journal and the
/// policy (`signatures:`, `ladders:`) spell.
package enum FailureClass: String, Codable, Sendable, CaseIterable {
    /// Network setup ran out of memory: the veth pair or the endpoint of the container's network (libnetwork).
    case networkENOMEM = "network_enomem"
    /// Storage setup ran out of memory: the overlay mount of the container's root, its init layer, or a mount inside
    /// runc (`/dev/console`).
    case storageENOMEM = "storage_enomem"
    /// Starting the container's process ran out of memory: fork/exec, the OCI runtime (runc) or the containerd shim.
    case processENOMEM = "process_enomem"
    /// docker's error said "cannot allocate memory" without a more specific signature, and the kernel logged a
    /// `page allocation failure: order:N` during the attempt: fragmented memory (compaction helps).
    case pageAllocation = "page_allocation"
    /// `docker run`: the container was killed by the OOM killer (`State.OOMKilled=true`).
    case oomContainer = "oom_container"
    /// `docker build`: a `RUN` step was killed by the OOM killer: exit code 137, BuildKit's report of an OOM kill in
    /// the step's cgroup, or a process killed by SIGKILL in the step's own output (see `StepHint`).
    case oomBuildStep = "oom_build_step"
    /// The docker CLI could not reach the daemon at all.
    case daemonUnreachable = "daemon_unreachable"
    /// The docker CLI reached the daemon and lost it during the command: the connection ended mid-stream (the
    /// daemon stopped, restarted or crashed). Unlike `daemon_unreachable` the command had started, so docker may have
    /// done part of it.
    case daemonLost = "daemon_lost"
    /// The daemon ran out of disk space (`no space left on device`, devicemapper's thin pool), or a build step's own
    /// output said so while writing under docker's data root.
    case diskFull = "disk_full"
    /// Anything else: the user's own error (a failing `RUN`, a bad flag, a missing image, a container that exits
    /// non-zero), and failures that a retry cannot cure. Never retried.
    case notMemory = "not_memory"

    /// Whether a retry can help at all. Only `not_memory` is never retried.
    package var isRetryable: Bool { self != .notMemory }

    /// The failure is the host or the container running out of memory.
    package var isMemory: Bool {
        switch self {
        case .networkENOMEM, .storageENOMEM, .processENOMEM, .pageAllocation, .oomContainer, .oomBuildStep: return true
        case .daemonUnreachable, .daemonLost, .diskFull, .notMemory: return false
        }
    }
}
