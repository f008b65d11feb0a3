import Glibc
import Foundation

/// Appends records to the journal file. Each record is one complete line written with one `write(2)` on an
/// `O_APPEND` descriptor while holding `flock(LOCK_EX)` on the file, then `fdatasync`; so many safebuilds (threads or
/// processes, root and the members of the journal's group) can share one file without torn or interleaved lines.
/// When a line would take the file past `maxBytes`, the writer holding the lock rotates it (`journal.jsonl` →
/// `journal.jsonl.1` → … → `journal.jsonl.<keep>`, the oldest dropped) before writing.
///
/// Every file is reached through a `CheckedDirectory`: never through a symlink, never a file with other hard links.
/// The directory is made `SharedFiles.journalDirectory` (root:docker 2770) and files `journalFile` (0660) when
/// missing. As root in a directory others can write, safebuild writes only files of its own: when the journal file
/// belongs to another user (a member created it, or planted something there), root rotates it away, under the
/// file's lock, and starts a file of its own.
///
/// A journal that cannot be written gives one warning (`cannot write journal FILE: reason; the build goes on`) and
/// the writer stays silent after that: it never fails the build.
package final class JournalWriter {
    package static let defaultMaxBytes: Int64 = 16 << 20
    package static let defaultKeep = 5

    package let path: String
    package let maxBytes: Int64
    package let keep: Int
    /// Modes and group of what the writer creates.
    package let files: SharedFiles
    let warn: (String) -> Void
    /// Set once a write failed (and the one warning was given); later records are dropped silently.
    package private(set) var failed = false

    /// - Parameters:
    ///   - path: the journal file (`Journal.path(options:policyPath:environment:)`).
    ///   - maxBytes: rotate when a line would take the file past this size; 0 never rotates.
    ///   - keep: how many rotated files to keep.
    ///   - files: the modes and group of the directory and files it creates (default: the host's group).
    ///   - warn: where the one warning goes (default: `Console.warn`, on stderr).
    package init(
        path: String, maxBytes: Int64 = JournalWriter.defaultMaxBytes, keep: Int = JournalWriter.defaultKeep,
        files: SharedFiles = .host(), warn: @escaping (String) -> Void = { Console.warn($0) }
    ) {
        self.path = path
        self.maxBytes = maxBytes
        self.keep = max(0, keep)
        self.files = files
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

    /// Writes the privileged entry's audit record of one remedy. False when the journal could not be written.
    @discardableResult
    package func append(_ record: RemedyAuditRecord) -> Bool {
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
        if let problem = Self.append(line: line, to: path, maxBytes: maxBytes, keep: keep, files: files) {
            return fail(problem)
        }
        return true
    }

    private func fail(_ reason: String) -> Bool {
        failed = true
        warn("cannot write journal \(path): \(reason); the build goes on")
        return false
    }

    /// The edge: appends one complete line (ending in "\n") under the lock, rotating first when needed. Only system
    /// calls and the checked directory, so that it can also run in a forked child. Returns nil, or what went wrong.
    static func append(
        line: [UInt8], to path: String, maxBytes: Int64, keep: Int, files: SharedFiles = .host()
    ) -> String? {
        let name = fileName(of: path)
        let dir: CheckedDirectory
        do {
            dir = try CheckedDirectory.open(parent(of: path), create: files.journalDirectory)
        } catch {
            return error.description
        }
        for _ in 0..<16 {
            if let entry = dir.entry(name), !writable(entry, in: dir) {
                if let problem = rotateAway(name, entry, keep: keep, in: dir) { return problem }
                continue
            }
            let fd: Int32
            do {
                fd = try dir.openFile(name, flags: O_WRONLY | O_APPEND, create: files.journalFile)
            } catch {
                // Replaced between the look and the open (another writer rotated it, a member made a new one).
                if let entry = dir.entry(name), !writable(entry, in: dir) { continue }
                return error.description
            }
            while flock(fd, LOCK_EX) != 0 {
                guard errno == EINTR else {
                    let problem = "lock: \(errorText())"
                    close(fd)
                    return problem
                }
            }
            // Another writer may have rotated the file between our open and our lock: write only to the file that
            // is still at `path`.
            var mine = stat()
            guard fstat(fd, &mine) == 0 else {
                let problem = "stat: \(errorText())"
                close(fd)
                return problem
            }
            guard let current = dir.entry(name), current.st_ino == mine.st_ino, current.st_dev == mine.st_dev else {
                close(fd)
                continue
            }
            // A file of ours that every user can read (an older safebuild made them 0644): not any more.
            if mine.st_uid == geteuid(), mine.st_mode & 0o007 != 0 {
                if geteuid() == 0, let group = files.group { _ = fchown(fd, UInt32.max, group) }
                _ = fchmod(fd, files.journalFile.mode)
            }
            if maxBytes > 0, mine.st_size > 0, Int64(mine.st_size) + Int64(line.count) > maxBytes {
                let problem = rotate(name, keep: keep, in: dir)
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
        return "the file kept being rotated or replaced by other writers"
    }

    /// Whether this process may append to the entry, or must rotate it away first. In a directory of its own, any
    /// entry is tried (the checked open refuses what it must, with the reason). In a shared directory, an entry
    /// that is not a regular file with one link (a symlink, a FIFO someone put there) is rotated away by whoever
    /// meets it, and root also rotates away a regular file that is not its own.
    static func writable(_ entry: stat, in dir: CheckedDirectory) -> Bool {
        guard dir.shared else { return true }
        guard (entry.st_mode & S_IFMT) == S_IFREG, entry.st_nlink == 1 else { return false }
        return dir.me != 0 || entry.st_uid == 0
    }

    /// Rotates away an entry this process does not write (a symlink, a FIFO; for root another user's file),
    /// holding the writers' lock on it when it is a regular file (opened for reading only: nothing of it is written).
    static func rotateAway(_ name: String, _ seen: stat, keep: Int, in dir: CheckedDirectory) -> String? {
        let lock = try? dir.openForReading(name)
        defer { if let lock { close(lock) } }
        if let lock {
            while flock(lock, LOCK_EX) != 0 && errno == EINTR {}
        }
        guard let now = dir.entry(name), now.st_ino == seen.st_ino, now.st_dev == seen.st_dev else { return nil }
        return rotate(name, keep: keep, in: dir)
    }

    /// `name.<keep-1>` → `name.<keep>` … `name` → `name.1` (`renameat` and `unlinkat` in the directory: entries
    /// are moved, never followed). With `keep` 0 the file is removed. Called with the lock on `name` held.
    static func rotate(_ name: String, keep: Int, in dir: CheckedDirectory) -> String? {
        guard keep > 0 else { return dir.remove(name) ? nil : "remove: \(errorText())" }
        dir.remove("\(name).\(keep)")
        if keep > 1 {
            for i in stride(from: keep - 1, through: 1, by: -1) { dir.rename("\(name).\(i)", to: "\(name).\(i + 1)") }
        }
        return dir.rename(name, to: "\(name).1") || errno == ENOENT ? nil : "rotate: \(errorText())"
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static func fileName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    static func errorText() -> String { String(cString: strerror(errno)) }
}
