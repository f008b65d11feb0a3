/// What one attempt did with stdin and stdout, as far as a retry depends on it (reported by `runDocker`).
package struct StreamReport: Sendable, Equatable {
    /// Bytes read from safebuild's stdin so far, all attempts together (a spooled stdin).
    package var stdinBytes: UInt64
    /// More stdin came than `retry.stdin_spool` keeps.
    package var stdinSpoolExceeded: Bool
    /// Bytes docker wrote to stdout in this attempt (nil: docker wrote to the terminal itself, uncounted).
    package var stdoutBytes: UInt64?
    /// More stdout came than `retry.stdout_hold` holds: what was held was released, the rest went out live.
    package var stdoutHoldExceeded: Bool
    /// Why the spool or the hold could not be set up (no temporary file): docker then read stdin itself, or wrote
    /// stdout live.
    package var problem: String?

    package init(
        stdinBytes: UInt64 = 0, stdinSpoolExceeded: Bool = false, stdoutBytes: UInt64? = nil,
        stdoutHoldExceeded: Bool = false, problem: String? = nil
    ) {
        self.stdinBytes = stdinBytes
        self.stdinSpoolExceeded = stdinSpoolExceeded
        self.stdoutBytes = stdoutBytes
        self.stdoutHoldExceeded = stdoutHoldExceeded
        self.problem = problem
    }
}
