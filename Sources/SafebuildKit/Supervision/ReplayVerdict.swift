/// Whether an attempt could be run again as if it had never happened, and why not: a pure function of the stream
/// plan and what the attempt did. The journal's `replay` and, when it forbids a retry, the give-up reason.
package struct ReplayVerdict: Sendable, Equatable {
    package var retryable: Bool
    /// Why a retry would change what the command reads or writes.
    package var because: String?
    package var journal: JournalReplay

    package init(plan: StreamPlan, report: StreamReport) {
        var reasons: [String] = []
        let stdin: String
        switch plan.stdin {
        case .inherited:
            stdin = "inherited"
        case .rewound:
            stdin = "rewound"
        case .spooled(let limit):
            if report.stdinSpoolExceeded {
                stdin = "spool_exceeded"
                reasons.append("stdin was larger than retry.stdin_spool (\(ByteSize.describe(limit))), so a retry would not read the same input")
            } else {
                stdin = "spooled"
            }
        case .unreplayable(let why):
            stdin = "not_kept"
            reasons.append(why)
        }
        let stdout: String
        let wrote = report.stdoutBytes ?? 0
        switch plan.stdout {
        case .terminal: stdout = "terminal"
        case .progress: stdout = "progress"
        case .discarded: stdout = "discarded"
        case .held(let limit):
            if report.stdoutHoldExceeded {
                stdout = "hold_exceeded"
                reasons.append("stdout was larger than retry.stdout_hold (\(ByteSize.describe(limit))) and went out as it came, so a retry would write it twice")
            } else {
                stdout = "held"
            }
        case .live:
            stdout = "live"
            if wrote > 0 {
                reasons.append("the attempt wrote \(ByteSize.describe(wrote)) to stdout, which is not held back, so a retry would write it twice")
            }
        }
        if let problem = report.problem { reasons.insert(problem, at: 0) }
        retryable = reasons.isEmpty
        because = reasons.first
        let spooled: Bool
        if case .spooled = plan.stdin { spooled = true } else { spooled = false }
        journal = JournalReplay(
            retryable: retryable, stdin: stdin, stdinBytes: spooled ? Int64(clamping: report.stdinBytes) : nil,
            stdout: stdout, stdoutBytes: report.stdoutBytes.map { Int64(clamping: $0) }, because: because)
    }
}
