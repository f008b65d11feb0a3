/// How a child process ended, and the status a shell would show for it.
package enum ExitStatus: Equatable, Sendable, CustomStringConvertible {
    case exited(Int32)
    case signaled(Int32)

    /// `$?` as a shell reports it: the code, or 128+N for signal N.
    package var code: Int32 {
        switch self {
        case .exited(let c): return c
        case .signaled(let s): return 128 + s
        }
    }

    /// From a waitpid(2) status.
    package init(waitStatus s: Int32) {
        if s & 0x7f == 0 {
            self = .exited((s >> 8) & 0xff)
        } else {
            self = .signaled(s & 0x7f)
        }
    }

    package var description: String {
        switch self {
        case .exited(let c): return "exit status \(c)"
        case .signaled(let s): return "killed by signal \(s)"
        }
    }
}
