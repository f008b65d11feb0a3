import Glibc
import CSafebuild

/// A short helper command whose output safebuild reads (`docker inspect`, `docker kill`, …): stdin from /dev/null,
/// stdout and stderr captured up to a bound, and killed when it overruns its deadline.
package struct Command: Sendable {
    package var path: String
    package var arguments: [String]
    package var environment: [String: String]?
    package var timeout: Double
    /// The command's stderr goes straight to safebuild's own (what it says reaches the user as it says it) instead
    /// of being captured.
    package var stderrThrough: Bool

    package init(
        _ path: String, _ arguments: [String], environment: [String: String]? = nil, timeout: Double = 10,
        stderrThrough: Bool = false
    ) {
        self.path = path
        self.arguments = arguments
        self.environment = environment
        self.timeout = timeout
        self.stderrThrough = stderrThrough
    }

    package struct Result: Sendable, Equatable {
        /// nil when the command overran its deadline and was killed, or a termination signal ended the wait.
        package var status: ExitStatus?
        package var stdout: String
        package var stderr: String
        /// The termination signal (SIGINT, SIGTERM, …) that ended the wait for the command.
        package var interruptedBy: Int32? = nil
        package var timedOut: Bool { status == nil && interruptedBy == nil }
        package var succeeded: Bool { status == .exited(0) }
    }

    package static let captureLimit = 8 << 20

    /// Runs the command to its end. With `signals`, a termination signal ends the wait at once: the command gets
    /// SIGTERM (where this user may signal it) and is not waited for.
    package func run(signals: SignalInbox? = nil) throws(SafebuildError) -> Result {
        if let signal = signals?.termination {
            return Result(status: nil, stdout: "", stderr: "", interruptedBy: signal)
        }
        var outPipe: [Int32] = [-1, -1], errPipe: [Int32] = [-1, -1]
        guard sb_pipe(&outPipe) == 0 else { throw ChildProcess.failure("create a pipe") }
        guard stderrThrough || sb_pipe(&errPipe) == 0 else {
            close(outPipe[0]); close(outPipe[1])
            throw ChildProcess.failure("create a pipe")
        }
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        guard null >= 0 else {
            for fd in outPipe + errPipe { close(fd) }
            throw ChildProcess.failure("open /dev/null")
        }
        let pid: pid_t
        do throws(SafebuildError) {
            var redirections: [Spawn.Redirection] = [.init(from: null, to: 0), .init(from: outPipe[1], to: 1)]
            if !stderrThrough { redirections.append(.init(from: errPipe[1], to: 2)) }
            pid = try Spawn.start(
                path, arguments, environment: environment ?? Environment.current(), redirections: redirections)
        } catch {
            for fd in outPipe + errPipe + [null] where fd >= 0 { close(fd) }
            throw error
        }
        close(null)
        close(outPipe[1])
        if !stderrThrough { close(errPipe[1]) }
        var out: [UInt8] = [], err: [UInt8] = []
        var open: [Int32] = stderrThrough ? [outPipe[0]] : [outPipe[0], errPipe[0]]
        let deadline = Clock.now() + timeout
        var timedOut = false
        var interruptedBy: Int32?
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while !open.isEmpty {
            let left = deadline - Clock.now()
            if left <= 0 {
                timedOut = true
                break
            }
            var fds = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            if let signals { fds.append(pollfd(fd: signals.fd, events: Int16(POLLIN), revents: 0)) }
            if poll(&fds, nfds_t(fds.count), Int32(left * 1000) + 1) < 0 && errno != EINTR { break }
            if let signals, fds.last?.revents != 0 {
                _ = signals.drain()
                if let signal = signals.termination {
                    interruptedBy = signal
                    break
                }
            }
            for p in fds where p.revents != 0 && open.contains(p.fd) {
                let n = read(p.fd, &buffer, buffer.count)
                if n > 0 {
                    if p.fd == outPipe[0] {
                        if out.count < Self.captureLimit { out.append(contentsOf: buffer[..<n]) }
                    } else if err.count < Self.captureLimit {
                        err.append(contentsOf: buffer[..<n])
                    }
                } else if n == 0 || errno != EINTR {
                    open.removeAll { $0 == p.fd }
                }
            }
        }
        close(outPipe[0])
        if !stderrThrough { close(errPipe[0]) }
        var raw: Int32 = 0
        if let interruptedBy {
            kill(pid, SIGTERM)
            _ = waitpid(pid, &raw, WNOHANG)
            return Result(
                status: nil, stdout: String(decoding: out, as: UTF8.self), stderr: String(decoding: err, as: UTF8.self),
                interruptedBy: interruptedBy)
        }
        if timedOut {
            kill(pid, SIGKILL)
            while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
            return Result(status: nil, stdout: String(decoding: out, as: UTF8.self), stderr: String(decoding: err, as: UTF8.self))
        }
        while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
        return Result(
            status: ExitStatus(waitStatus: raw), stdout: String(decoding: out, as: UTF8.self),
            stderr: String(decoding: err, as: UTF8.self))
    }
}
