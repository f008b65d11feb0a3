/// safebuild's one error type: the exit status it ends with and a sentence that says what to do next.
package struct SafebuildError: Error, Equatable, Sendable, CustomStringConvertible {
    package let status: ExitCode
    package let message: String

    package init(_ status: ExitCode, _ message: String) {
        self.status = status
        self.message = message
    }

    package var description: String { message }

    /// The exit statuses safebuild itself can return (docker's own pass through unchanged). README lists them.
    package enum ExitCode: Int32, Sendable, CaseIterable {
        /// A bad safebuild option or `SAFEBUILD_*` value (sysexits EX_USAGE).
        case usage = 64
        /// A file safebuild was told to read is missing or unreadable (EX_NOINPUT).
        case noInput = 66
        /// The docker daemon could not be reached for a protected command's checks (EX_UNAVAILABLE).
        case unavailable = 69
        /// safebuild could not start docker or another internal failure (EX_SOFTWARE).
        case software = 70
        /// Pre-flight or memory admission refused to start: the host lacks the memory or disk the policy requires, or
        /// the reservation is larger than the budget or waited past its timeout (EX_TEMPFAIL).
        case preflightRefused = 75
        /// The host policy does not permit what the command line asks: a `--memory` above its ceiling, with
        /// `protection.memory_flag: refuse` (EX_NOPERM).
        case notPermitted = 77
        /// The policy file is invalid (EX_CONFIG).
        case policy = 78
        /// docker found but not executable.
        case notExecutable = 126
        /// No real docker found (only safebuild itself, or nothing, on PATH).
        case noDocker = 127

        package var meaning: String {
            switch self {
            case .usage: return "a safebuild option or SAFEBUILD_* variable is wrong"
            case .noInput: return "a file safebuild was asked to read (policy, journal) is missing or unreadable"
            case .unavailable: return "the docker daemon did not answer safebuild's pre-flight checks"
            case .software: return "safebuild could not start docker (fork/exec failed) or failed internally"
            case .preflightRefused:
                return "pre-flight or memory admission refused: too little memory or disk by the policy's thresholds, a reservation larger than the budget, or a wait past admission.wait_timeout; nothing ran"
            case .notPermitted: return "the host policy does not permit the command line's --memory (above its ceiling); nothing ran"
            case .policy: return "the policy file is invalid; nothing ran"
            case .notExecutable: return "the docker safebuild found is not executable"
            case .noDocker: return "no real docker found: only safebuild itself, or nothing, is on PATH"
            }
        }
    }
}
