import Glibc
import CSafebuild

/// docker run as a supervised child: stdin is docker's own, or with `stdin` a pipe fed from safebuild's (`StdinFeed`:
/// kept for a retry); stdout and stderr are streamed to safebuild's own unchanged, chunk by chunk with one write(2)
/// each (stdout into `hold` instead, when given), and split into lines for safebuild to read on the way.
/// Where safebuild's stderr is a terminal docker gets a pseudo-terminal for it (so BuildKit still draws its progress
/// and sees the real window size); where stdout is a terminal docker keeps it (so `run -t` owns the real terminal).
/// SIGINT, SIGTERM, SIGHUP and SIGQUIT are forwarded, except those the terminal already sent docker itself (same
/// process group). After a SIGTERM or SIGHUP, docker gets `stopGrace` seconds, then `onStop` runs (for `run`: kill the
/// container), then docker is killed if it is still there `killGrace` seconds later.
package struct ChildProcess {
    package var path: String
    package var arguments: [String]
    package var environment: [String: String]
    package var stopGrace: Double = 10
    package var killGrace: Double = 5
    package var onStop: (() -> Void)?
    /// Feeds docker's stdin through a pipe (nil: docker reads safebuild's stdin itself).
    package var stdin: StdinFeed?
    /// Holds docker's stdout back (nil: relayed as it comes).
    package var hold: OutputHold?
    /// Called every `tickInterval` seconds while docker runs (an attempt's memory accounting reads its containers'
    /// cgroups before they disappear).
    package var tick: (() -> Void)?
    package var tickInterval: Double = 0.1
    /// Whether docker's stdout is split into lines for `line` (stderr always is). Only a build's stdout holds anything
    /// safebuild reads (a classic build's steps and their output); a `run`'s stdout is the container's: copied, never
    /// scanned.
    package var splitStdout = true

    package init(path: String, arguments: [String], environment: [String: String]) {
        self.path = path
        self.arguments = arguments
        self.environment = environment
    }

    package struct Outcome: Sendable, Equatable {
        package var status: ExitStatus
        /// The first termination signal safebuild received while docker ran.
        package var interruptedBy: Int32?
        /// Whether safebuild had to kill docker after the grace periods.
        package var killed: Bool
        /// Bytes docker wrote to stdout (nil: docker wrote to the terminal itself).
        package var stdoutBytes: UInt64?
    }

    /// Runs docker to its end. `line` sees every line of stderr, and of stdout with `splitStdout`.
    package func run(
        signals: SignalInbox,
        line: (OutputStream, UnsafeRawBufferPointer) -> Void
    ) throws(SafebuildError) -> Outcome {
        var relays: [Relay] = []
        var childEnds: [Int32] = []
        defer { for fd in childEnds { close(fd) } }

        var dups: [(Int32, Int32)] = []

        for (target, stream) in [(Int32(1), OutputStream.stdout), (Int32(2), OutputStream.stderr)] {
            let terminal = isatty(target) == 1
            if terminal && stream == .stdout { continue }  // docker keeps the real terminal
            var readEnd: Int32 = -1, writeEnd: Int32 = -1
            if terminal {
                guard sb_open_pty(target, &readEnd, &writeEnd) == 0 else { throw Self.failure("open a pseudo-terminal") }
            } else {
                var fds: [Int32] = [-1, -1]
                guard sb_pipe(&fds) == 0 else { throw Self.failure("create a pipe") }
                readEnd = fds[0]
                writeEnd = fds[1]
            }
            childEnds.append(writeEnd)
            dups.append((writeEnd, target))
            relays.append(
                Relay(
                    source: readEnd, target: target, stream: stream, isTerminal: terminal,
                    hold: stream == .stdout ? hold : nil, splitsLines: stream == .stderr || splitStdout))
        }
        defer { for relay in relays where relay.source >= 0 { close(relay.source) } }
        if let stdin {
            let readEnd = try stdin.begin()
            childEnds.append(readEnd)
            dups.append((readEnd, 0))
        }
        hold?.begin()

        // Default handlers back for what safebuild watches, except where safebuild was started with a signal
        // ignored (`nohup`): docker inherits that as it would without safebuild.
        let defaults = (SignalInbox.watched + [SIGPIPE]).filter { !signals.originallyIgnored.contains($0) }
        let pid = try Spawn.start(
            path, arguments, environment: environment, defaults: defaults,
            redirections: dups.map { Spawn.Redirection(from: $0.0, to: $0.1) })
        for fd in childEnds { close(fd) }
        childEnds.removeAll()

        var outcome = supervise(pid: pid, relays: &relays, signals: signals, line: line)
        stdin?.end()
        outcome.stdoutBytes = relays.first { $0.stream == .stdout }?.bytes
        return outcome
    }

    private func supervise(
        pid: pid_t, relays: inout [Relay], signals: SignalInbox,
        line: (OutputStream, UnsafeRawBufferPointer) -> Void
    ) -> Outcome {
        var status: ExitStatus?
        var interruptedBy: Int32?
        var exitedAt = 0.0
        var stopAt: Double?
        var killAt: Double?
        var killed = false
        var nextTick = tick == nil ? nil : Clock.now() + tickInterval
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { buffer.deallocate() }

        while true {
            let open = relays.indices.filter { relays[$0].source >= 0 }
            if status != nil && (open.isEmpty || Clock.now() - exitedAt > 0.25) { break }

            var fds = open.map { pollfd(fd: relays[$0].source, events: Int16(POLLIN), revents: 0) }
            fds.append(pollfd(fd: signals.fd, events: Int16(POLLIN), revents: 0))
            let signalSlot = fds.count - 1
            // docker's stdin, while it runs: a chunk of the spool's replay or of safebuild's stdin at a time.
            var sourceSlot: Int?, pipeSlot: Int?
            if let stdin, status == nil {
                stdin.prepare()
                if stdin.wantsSource {
                    sourceSlot = fds.count
                    fds.append(pollfd(fd: stdin.source, events: Int16(POLLIN), revents: 0))
                }
                if stdin.wantsWrite {
                    pipeSlot = fds.count
                    fds.append(pollfd(fd: stdin.writeEnd, events: Int16(POLLOUT), revents: 0))
                }
            }
            var timeout: Int32 = -1
            let now = Clock.now()
            for deadline in [stopAt, killAt, status.map { _ in exitedAt + 0.25 }, status == nil ? nextTick : nil]
                .compactMap({ $0 })
            {
                let ms = Int32(max(0, min((deadline - now) * 1000 + 1, 3_600_000)))
                timeout = timeout < 0 ? ms : min(timeout, ms)
            }
            let ready = poll(&fds, nfds_t(fds.count), timeout)
            if ready < 0 && errno != EINTR { break }

            for (slot, index) in open.enumerated() where fds[slot].revents != 0 {
                let n = read(relays[index].source, buffer.baseAddress, buffer.count)
                if n > 0 {
                    let chunk = UnsafeRawBufferPointer(rebasing: buffer[..<n])
                    relays[index].forward(chunk, line)
                } else if n == 0 || (errno != EINTR && errno != EAGAIN) {
                    relays[index].finish(line)  // EOF; a pseudo-terminal says EIO once docker closed it
                }
            }

            if let slot = sourceSlot, fds[slot].revents != 0 { stdin?.readSource() }
            if let slot = pipeSlot, fds[slot].revents != 0 { stdin?.write() }

            if fds[signalSlot].revents != 0 {
                for received in signals.drain() {
                    switch received.signal {
                    case SIGCHLD:
                        break
                    case SIGWINCH:
                        for relay in relays where relay.isTerminal && relay.source >= 0 {
                            _ = sb_copy_winsize(relay.target, relay.source)
                        }
                    default:
                        if interruptedBy == nil { interruptedBy = received.signal }
                        if status == nil && !received.fromTerminal && received.sender != pid {
                            kill(pid, received.signal)
                        }
                        if status == nil && stopAt == nil && (received.signal == SIGTERM || received.signal == SIGHUP) {
                            stopAt = Clock.now() + stopGrace
                        }
                    }
                }
            }

            if status == nil {
                var raw: Int32 = 0
                if waitpid(pid, &raw, WNOHANG) == pid {
                    status = ExitStatus(waitStatus: raw)
                    exitedAt = Clock.now()
                    stdin?.end()
                }
            }
            if status == nil, let at = nextTick, Clock.now() >= at {
                tick?()
                nextTick = Clock.now() + tickInterval
            }
            if status == nil, let at = stopAt, Clock.now() >= at {
                stopAt = nil
                onStop?()
                killAt = Clock.now() + killGrace
            }
            if status == nil, let at = killAt, Clock.now() >= at {
                killAt = nil
                kill(pid, SIGKILL)
                killed = true
            }
        }
        for index in relays.indices where relays[index].source >= 0 { relays[index].finish(line) }
        if status == nil {
            var raw: Int32 = 0
            while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
            status = ExitStatus(waitStatus: raw)
        }
        return Outcome(status: status!, interruptedBy: interruptedBy, killed: killed, stdoutBytes: nil)
    }

    static func failure(_ what: String) -> SafebuildError {
        SafebuildError(.software, "cannot \(what): \(String(cString: strerror(errno)))")
    }
}
