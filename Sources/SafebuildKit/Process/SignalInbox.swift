import Glibc
import CSafebuild

/// The signals a supervising safebuild receives, read from a signalfd in the same poll loop as docker's output, so
/// that nothing runs inside a signal handler. Create it first thing, before any thread exists: the signals are
/// blocked in the creating thread and threads inherit that. Children get a clean mask and default handlers back.
package final class SignalInbox {
    /// What safebuild forwards to docker.
    package static let forwarded: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT]
    /// What safebuild watches: the forwarded ones, docker's exit and the terminal's size.
    package static let watched: [Int32] = forwarded + [SIGCHLD, SIGWINCH]

    package let fd: Int32
    /// The first termination signal received (SIGINT, SIGTERM, SIGHUP, SIGQUIT), if any: the retry loop ends on it.
    package private(set) var termination: Int32?

    package struct Received: Sendable, Equatable {
        package let signal: Int32
        package let sender: Int32
        /// Sent by the kernel (a key on the terminal): the whole foreground process group, docker too, got it.
        package let fromTerminal: Bool
    }

    /// The watched signals (and SIGPIPE) that were ignored when safebuild started, for example under `nohup`.
    package let originallyIgnored: Set<Int32>

    package init() throws(SafebuildError) {
        originallyIgnored = Set((Self.watched + [SIGPIPE]).filter { sb_signal_ignored($0) == 1 })
        let fd = Self.watched.withUnsafeBufferPointer { sb_signalfd($0.baseAddress, Int32($0.count)) }
        guard fd >= 0 else {
            throw SafebuildError(.software, "cannot watch signals: \(String(cString: strerror(errno)))")
        }
        self.fd = fd
    }

    deinit { close(fd) }

    /// Reads every pending signal.
    package func drain() -> [Received] {
        var out: [Received] = []
        var signo: Int32 = 0, pid: Int32 = 0, code: Int32 = 0
        while sb_read_signal(fd, &signo, &pid, &code) == 1 {
            let received = Received(signal: signo, sender: pid, fromTerminal: code == sb_si_kernel())
            if termination == nil, Self.forwarded.contains(signo) { termination = signo }
            out.append(received)
        }
        return out
    }

    /// Sleeps up to `seconds`, returning early with the termination signal if one arrives.
    package func sleep(seconds: Double) -> Int32? {
        if let termination { return termination }
        let deadline = Clock.now() + seconds
        while true {
            let left = deadline - Clock.now()
            if left <= 0 { return nil }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            _ = poll(&p, 1, Int32(min(left * 1000, 1_000_000)) + 1)
            _ = drain()
            if let termination { return termination }
        }
    }
}
