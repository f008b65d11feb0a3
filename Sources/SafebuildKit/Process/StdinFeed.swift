import Glibc
import CSafebuild

/// safebuild's stdin relayed to docker through a pipe of safebuild's, its first `limit` bytes kept in a spool file,
/// so that a retry reads the same stream: the spool from its start, then the rest of stdin as it comes. Past the
/// limit the spool stops growing (nothing is kept in memory beyond one 64 KiB buffer) and `exceeded` says that no
/// retry can read the same input. When stdin ends, docker's pipe is closed: docker sees the end of its input exactly
/// where it would have. One feed lives for the whole invocation; each attempt gets a pipe of its own.
package final class StdinFeed {
    let source: Int32
    let spool: SpoolFile
    let limit: UInt64
    /// Bytes read from `source` so far, all attempts together.
    private(set) var bytesRead: UInt64 = 0
    private(set) var exceeded = false
    /// `source` said end of file.
    private(set) var sourceEnded = false

    // One attempt.
    private(set) var writeEnd: Int32 = -1
    private var replayed: UInt64 = 0
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
    private var pendingStart = 0
    private var pendingEnd = 0

    private init(source: Int32, spool: SpoolFile, limit: UInt64) {
        self.source = source
        self.spool = spool
        self.limit = limit
    }

    deinit {
        end()
        buffer.deallocate()
    }

    static func create(source: Int32 = 0, limit: UInt64) -> Result<StdinFeed, SafebuildError> {
        SpoolFile.create(purpose: "stdin").map { StdinFeed(source: source, spool: $0, limit: limit) }
    }

    /// A new attempt: the pipe to docker is made (its read end goes to docker as fd 0), and the replay starts from
    /// the spool's beginning.
    func begin() throws(SafebuildError) -> Int32 {
        end()
        var fds: [Int32] = [-1, -1]
        guard sb_pipe(&fds) == 0 else { throw ChildProcess.failure("create a pipe for docker's stdin") }
        _ = fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK)
        writeEnd = fds[1]
        replayed = 0
        pendingStart = 0
        pendingEnd = 0
        return fds[0]
    }

    /// The attempt is over (or docker closed its stdin): the pipe is closed and what was not written is dropped
    /// (it is in the spool, or the spool was exceeded and there is no retry).
    func end() {
        if writeEnd >= 0 { close(writeEnd) }
        writeEnd = -1
        pendingStart = 0
        pendingEnd = 0
    }

    private var hasPending: Bool { pendingEnd > pendingStart }

    /// Before a poll: takes the next chunk of the spool's replay, and closes docker's pipe once everything has been
    /// handed on and stdin has ended.
    func prepare() {
        guard writeEnd >= 0, !hasPending else { return }
        if replayed < spool.size && !exceeded {
            let n = spool.read(at: replayed, into: buffer)
            if n > 0 {
                pendingStart = 0
                pendingEnd = n
                replayed += UInt64(n)
                return
            }
        }
        if sourceEnded { end() }
    }

    /// Whether to poll stdin for reading (only when the previous chunk has been handed on: docker's pace).
    var wantsSource: Bool { writeEnd >= 0 && !hasPending && !sourceEnded && (replayed >= spool.size || exceeded) }
    /// Whether to poll docker's pipe for writing.
    var wantsWrite: Bool { writeEnd >= 0 && hasPending }

    /// stdin is readable: one chunk into the buffer, and into the spool while it has room.
    func readSource() {
        let n = read(source, buffer.baseAddress, buffer.count)
        if n < 0 {
            if errno == EINTR || errno == EAGAIN { return }
            sourceEnded = true  // an error reading stdin ends it for docker too
            return
        }
        if n == 0 {
            sourceEnded = true
            return
        }
        bytesRead += UInt64(n)
        let chunk = UnsafeRawBufferPointer(rebasing: buffer[..<n])
        if !exceeded {
            if spool.size + UInt64(n) > limit || !spool.append(chunk) { exceeded = true }
            replayed = spool.size
        }
        pendingStart = 0
        pendingEnd = n
    }

    /// docker's pipe is writable: hands on what it takes. A closed pipe (docker ended or closed its stdin) ends the
    /// feed for this attempt.
    func write() {
        guard writeEnd >= 0, hasPending else { return }
        let n = Glibc.write(writeEnd, buffer.baseAddress! + pendingStart, pendingEnd - pendingStart)
        if n > 0 {
            pendingStart += n
        } else if n < 0 && errno != EINTR && errno != EAGAIN {
            end()
        }
    }
}
