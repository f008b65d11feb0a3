import Glibc
import Foundation

/// Appends records to the journal file. Each record is one complete line written with one `write(2)` on an
/// `O_APPEND` descriptor while holding `flock(LOCK_EX)` on the file, then `fdatasync`; so many safebuilds (threads or
/// processes) can share one file without torn or interleaved lines. When a line would take the file past `maxBytes`,
/// the writer holding the lock rotates it (`journal.jsonl` → `journal.jsonl.1` → … → `journal.jsonl.<keep>`, the
/// oldest dropped) before writing.
///
/// A journal that cannot be written gives one warning (`cannot write journal FILE: reason; the build goes on`) and
/// the writer stays silent after that: it never fails the build.
package final class JournalWriter {
    package static let defaultMaxBytes: Int64 = 16 << 20
    package static let defaultKeep = 5

    package let path: String
    package let maxBytes: Int64
    package let keep: Int
    let warn: (String) -> Void
    /// Set once a write failed (and the one warning was given); later records are dropped silently.
    package private(set) var failed = false

    /// - Parameters:
    ///   - path: the journal file (`Journal.path(options:policyPath:environment:)`).
    ///   - maxBytes: rotate when a line would take the file past this size; 0 never rotates.
    ///   - keep: how many rotated files to keep.
    ///   - warn: where the one warning goes (default: `Console.warn`, on stderr).
    package init(
        path: String, maxBytes: Int64 = JournalWriter.defaultMaxBytes, keep: Int = JournalWriter.defaultKeep,
        warn: @escaping (String) -> Void = { Console.warn($0) }
    ) {
        self.path = path
        self.maxBytes = maxBytes
        self.keep = max(0, keep)
        self.warn = warn
    }

    /// Writes one invocation record. False when the journal could not be written.
    @discardableResult
    package func append(_ record: InvocationRecord) -> Bool {
        appendLine { () throws -> [UInt8] in try JournalCoding.line(record) }
    }

    /// Writes one attempt record. False when the journal could not be written.
    @discardableResult
    package func append(_ record: AttemptRecord) -> Bool {
        appendLine { () throws -> [UInt8] in try JournalCoding.line(record) }
    }

    func appendLine(_ encode: () throws -> [UInt8]) -> Bool {
        guard !failed else { return false }
        let line: [UInt8]
        do {
            line = try encode()
        } catch {
            return fail("cannot encode the record (\(error))")
        }
        if let problem = Self.append(line: line, to: path, maxBytes: maxBytes, keep: keep) {
            return fail(problem)
        }
        return true
    }

    private func fail(_ reason: String) -> Bool {
        failed = true
        warn("cannot write journal \(path): \(reason); the build goes on")
        return false
    }

    /// The edge: appends one complete line (ending in "\n") under the lock, rotating first when needed. Only
    /// system calls, so that it can also run in a forked child. Returns nil, or what went wrong.
    static func append(line: [UInt8], to path: String, maxBytes: Int64, keep: Int) -> String? {
        if let problem = makeDirectories(parent(of: path)) { return problem }
        for _ in 0..<16 {
            let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
            guard fd >= 0 else { return "open: \(errorText())" }
            while flock(fd, LOCK_EX) != 0 {
                guard errno == EINTR else {
                    let problem = "lock: \(errorText())"
                    close(fd)
                    return problem
                }
            }
            // Another writer may have rotated the file between our open and our lock: write only to the file that
            // is still at `path`.
            var mine = stat(), current = stat()
            guard fstat(fd, &mine) == 0 else {
                let problem = "stat: \(errorText())"
                close(fd)
                return problem
            }
            if stat(path, &current) != 0 || current.st_ino != mine.st_ino || current.st_dev != mine.st_dev {
                close(fd)
                continue
            }
            if maxBytes > 0, mine.st_size > 0, Int64(mine.st_size) + Int64(line.count) > maxBytes {
                let problem = rotate(path, keep: keep)
                close(fd)
                if let problem { return problem }
                continue
            }
            let written = line.withUnsafeBytes { Output.writeAll(fd, $0) }
            let problem = written ? nil : "write: \(errorText())"
            if written { _ = fdatasync(fd) }
            close(fd)
            return problem
        }
        return "the file kept being rotated by other writers"
    }

    /// `path.<keep-1>` → `path.<keep>` … `path` → `path.1`. Called with the lock on `path` held.
    static func rotate(_ path: String, keep: Int) -> String? {
        guard keep > 0 else { return unlink(path) == 0 || errno == ENOENT ? nil : "remove: \(errorText())" }
        _ = unlink("\(path).\(keep)")
        if keep > 1 {
            for i in stride(from: keep - 1, through: 1, by: -1) { _ = rename("\(path).\(i)", "\(path).\(i + 1)") }
        }
        return rename(path, "\(path).1") == 0 ? nil : "rotate: \(errorText())"
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// `mkdir -p`, 0755.
    static func makeDirectories(_ dir: String) -> String? {
        var st = stat()
        if stat(dir, &st) == 0 { return (st.st_mode & S_IFMT) == S_IFDIR ? nil : "\(dir) is not a directory" }
        if dir != "/", dir != "." {
            if let problem = makeDirectories(parent(of: dir)) { return problem }
        }
        if mkdir(dir, 0o755) != 0, errno != EEXIST { return "create directory \(dir): \(errorText())" }
        return nil
    }

    static func errorText() -> String { String(cString: strerror(errno)) }
}
