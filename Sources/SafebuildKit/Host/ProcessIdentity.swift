import Glibc

/// A process named so that a reused pid is never taken for it: its pid and its start time (field 22 of
/// /proc/PID/stat, `starttime`, clock ticks after boot; proc(5)).
package struct ProcessIdentity: Codable, Sendable, Equatable, Hashable, CustomStringConvertible {
    package var pid: Int32
    package var startTime: UInt64

    package init(pid: Int32, startTime: UInt64) {
        self.pid = pid
        self.startTime = startTime
    }

    package var description: String { "\(pid)/\(startTime)" }

    /// The state (field 3) and start time (field 22) in the text of /proc/PID/stat. The command name (field 2) is in
    /// parentheses and may hold spaces and parentheses itself, so the fields are counted after its last `)`.
    package static func parseStat(_ text: Substring) -> (state: Character, startTime: UInt64)? {
        let bytes = text.utf8
        guard let close = bytes.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        let fields = bytes[bytes.index(after: close)...].split(separator: 32, maxSplits: 20, omittingEmptySubsequences: true)
        // fields[0] is field 3 (state): field 22 is fields[19].
        guard fields.count >= 20, let state = fields[0].first else { return nil }
        guard let start = UInt64(String(decoding: fields[19], as: UTF8.self)) else { return nil }
        return (Character(Unicode.Scalar(state)), start)
    }

    /// Process `pid` as it is now; nil when there is none, or only its zombie (it has ended and waits to be reaped:
    /// a SIGKILLed safebuild whose parent has not yet waited for it is gone for the ledger).
    package static func of(_ pid: Int32, proc: String = "/proc") -> ProcessIdentity? {
        guard pid > 0, let text = readStat("\(proc)/\(pid)/stat"), let parsed = parseStat(text[...]) else { return nil }
        guard parsed.state != "Z", parsed.state != "X", parsed.state != "x" else { return nil }
        return ProcessIdentity(pid: pid, startTime: parsed.startTime)
    }

    /// This process.
    package static func current(proc: String = "/proc") -> ProcessIdentity? { of(getpid(), proc: proc) }

    /// Whether this very process is still running.
    package func isAlive(proc: String = "/proc") -> Bool { Self.of(pid, proc: proc) == self }

    /// /proc/PID/stat is one short line: one read into a small buffer.
    static func readStat(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 1024)
        var n = 0
        repeat { n = read(fd, &buffer, buffer.count) } while n < 0 && errno == EINTR
        guard n > 0 else { return nil }
        return String(decoding: buffer[..<n], as: UTF8.self)
    }
}
