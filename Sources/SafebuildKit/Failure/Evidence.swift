/// How much a piece of evidence about a failed attempt weighs. The classifier's verdict is its strongest evidence; of
/// two as strong, the one `FailureClass.rank` puts first; evidence that the failure is *not* the host's
/// (`failureClass == .notMemory`, a veto) loses to positive evidence of the same strength and wins over weaker
/// evidence.
///
/// The order (issue 11), strongest first:
/// 1. `host`: what the host itself recorded: docker's `State.OOMKilled` (read from the container's cgroup events),
///    the kernel's oom-kill record, a cgroup's OOM counters and peak, and the host's state after the failure (a data
///    root nearly full, ENOMEM on a healthy host). The classifier does not read the host: whoever does passes it in
///    `Classifier.verdict(…, host:)` (memory admission, issue 10; host evidence, issue 16).
/// 2. `daemonText`: docker's own error text: errno strings wherever they sit in docker's error (however escaped), the
///    daemon's, the CLI's and BuildKit's wordings (`Signature.builtIn`), and BuildKit's report of an OOM kill it read
///    from the step's cgroup (`ResourceExhausted: … did not complete successfully: cannot allocate memory`).
/// 3. `exitStatus`: the exit status and what docker means by it: a build step's code 137 (SIGKILL); `run`'s 125, 126
///    and 127, which say which of docker's lines are its own (`RunErrorLine`).
/// 4. `stepOutput`: hints in a build step's own output (`StepHint`): a process killed by SIGKILL, a full disk. They
///    only explain a step that failed, under the rules cited there.
package enum EvidenceStrength: Int, Codable, Sendable, Comparable, CaseIterable {
    case stepOutput = 1
    case exitStatus = 2
    case daemonText = 3
    case host = 4

    package static func < (a: EvidenceStrength, b: EvidenceStrength) -> Bool { a.rawValue < b.rawValue }
}

/// One piece of evidence about why an attempt failed.
package struct Evidence: Sendable, Equatable {
    package var strength: EvidenceStrength
    /// The class it speaks for; `.notMemory` is evidence that retrying cannot help (a veto).
    package var failureClass: FailureClass
    /// The line of output or of the host's record it rests on, if any.
    package var line: String?
    /// One sentence for the user and the journal.
    package var reason: String

    package init(_ strength: EvidenceStrength, _ failureClass: FailureClass, line: String? = nil, reason: String) {
        self.strength = strength
        self.failureClass = failureClass
        self.line = line
        self.reason = reason
    }

    /// The strongest of `evidence` (see `EvidenceStrength`); the earlier of two equals.
    static func strongest(_ evidence: [Evidence]) -> Evidence? {
        var best: Evidence?
        for e in evidence {
            guard let b = best else {
                best = e
                continue
            }
            if e.strength != b.strength {
                if e.strength > b.strength { best = e }
            } else if e.failureClass.rank < b.failureClass.rank {
                best = e
            }
        }
        return best
    }
}

extension FailureClass {
    /// Which of two classes backed by evidence of the same strength decides: a daemon that went away explains every
    /// other error of the attempt; the kernel refusing memory for the container's setup comes before a full disk
    /// (ENOSPC follows ENOMEM in the daemon's cleanup, not the other way round); a veto comes last.
    var rank: Int {
        switch self {
        case .daemonLost: return 0
        case .daemonUnreachable: return 1
        case .networkENOMEM: return 2
        case .storageENOMEM: return 3
        case .processENOMEM, .pageAllocation: return 4
        case .oomContainer, .oomBuildStep: return 5
        case .diskFull: return 6
        case .notMemory: return 9
        }
    }
}
