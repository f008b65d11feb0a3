/// One reservation in the admission ledger: which safebuild holds it (pid and start time, so that a reused pid is
/// not taken for it), its place in line, how much memory, in which pool, and for what.
package struct LedgerEntry: Sendable, Equatable {
    package enum State: String, Sendable, CaseIterable {
        /// In line for its reservation; holds no memory yet.
        case waiting
        /// Admitted: its bytes count against the budget until it releases them.
        case running
        /// Between two attempts: holds no memory and no place in line, but keeps its ticket, so that its retry
        /// goes before every command that came after it.
        case paused
    }

    /// First come, first served: a lower ticket goes first.
    package var ticket: UInt64
    package var process: ProcessIdentity
    package var state: State
    /// Bytes reserved.
    package var bytes: UInt64
    /// Wall-clock seconds when the state was last set.
    package var since: Double
    /// The engine's parent cgroup directory: reservations in different pools do not compete.
    package var pool: String
    package var uid: UInt32
    package var user: String
    /// What runs: the image or tags, and the CI job (`run busybox, job app/main #12`).
    package var label: String

    package init(
        ticket: UInt64, process: ProcessIdentity, state: State, bytes: UInt64, since: Double, pool: String,
        uid: UInt32, user: String, label: String
    ) {
        self.ticket = ticket
        self.process = process
        self.state = state
        self.bytes = bytes
        self.since = since
        self.pool = pool
        self.uid = uid
        self.user = user
        self.label = label
    }
}
