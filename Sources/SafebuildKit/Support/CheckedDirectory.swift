import Glibc

/// A directory safebuild writes in (journal, metrics, locks, the admission ledger), reached by a walk that never
/// follows a symlink another user controls, and the files in it opened relative to its descriptor with `O_NOFOLLOW`
/// and checked after opening.
///
/// The rule, as root or not: a path is walked one component at a time from `/` with `openat(O_NOFOLLOW)`. A symlink
/// is followed only when nobody else could have put it there (it belongs to root or to us, in a directory only root or
/// we can write, or in a sticky root directory such as /tmp); anything else on the way refuses the path. A directory
/// that someone else can change (another owner, group or world write, or below such a directory) is `shared`: in it,
/// root writes only files that it owns, and creates new ones with `O_EXCL`. A file is never followed through a
/// symlink, must be a regular file and must have no other hard link, whoever writes it.
///
/// This is what keeps root from appending to, replacing, truncating or deleting a file another user pointed it at
/// (sudo's `sudo_secure_dir` and OpenSSH's `safe_path` check the same ownership and mode rules). A user other than
/// root may write another user's file in a shared directory (members of the group of /var/log/safebuild append to
/// one journal): the kernel's permission check already decides what that user may write, and the symlink and
/// hard-link refusals keep a planted entry from reaching a file of that user's own elsewhere.
package final class CheckedDirectory {
    /// The path as given (absolute).
    package let path: String
    /// An `O_PATH` descriptor of the directory.
    package let fd: Int32
    /// Someone other than root and us can add, rename or remove entries here.
    package let shared: Bool
    /// Who may write here without being refused: root, and the effective user.
    let me: uid_t

    private init(path: String, fd: Int32, shared: Bool, me: uid_t) {
        self.path = path
        self.fd = fd
        self.shared = shared
        self.me = me
    }

    deinit { close(fd) }

    /// How a missing directory is made: the last component with `mode` and `group` (parents 0755, root's).
    package struct Creation: Sendable {
        package var mode: UInt32
        package var group: UInt32?
        package init(mode: UInt32, group: UInt32? = nil) {
            self.mode = mode
            self.group = group
        }
    }

    /// Opens the directory at `path` (absolute; a relative path is taken from the working directory), creating it
    /// when missing and `create` is given. `user` is whose rules apply (the effective user; tests give another).
    package static func open(
        _ path: String, create: Creation? = nil, as user: UInt32 = geteuid()
    ) throws(FileSafetyError) -> CheckedDirectory {
        let me = user
        var pending = components(of: absolute(path))
        var walked: [String] = []
        var fd = Glibc.open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw FileSafetyError(path: "/", reason: errorText()) }
        var info = stat()
        _ = fstat(fd, &info)
        var shared = othersCanWrite(info, me: me)
        var parentSticky = isStickyRoot(info)
        var links = 0
        while !pending.isEmpty {
            let name = pending.removeFirst()
            let here = "/" + (walked + [name]).joined(separator: "/")
            if name == ".." {
                // Only from a path we already walked: go back to its parent by walking that again.
                close(fd)
                if !walked.isEmpty { walked.removeLast() }
                pending = walked + pending
                walked = []
                fd = Glibc.open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)
                _ = fstat(fd, &info)
                shared = othersCanWrite(info, me: me)
                parentSticky = isStickyRoot(info)
                continue
            }
            var entry = stat()
            if fstatat(fd, name, &entry, AT_SYMLINK_NOFOLLOW) != 0 {
                guard errno == ENOENT, let create else {
                    let reason = errorText()
                    close(fd)
                    throw FileSafetyError(path: here, reason: reason)
                }
                let last = pending.isEmpty
                if mkdirat(fd, name, last ? create.mode : 0o755) != 0 && errno != EEXIST {
                    let reason = "cannot create directory: \(errorText())"
                    close(fd)
                    throw FileSafetyError(path: here, reason: reason)
                }
                if last {
                    let made = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                    if made >= 0 {
                        if let group = create.group { _ = fchown(made, UInt32.max, group) }
                        _ = fchmod(made, create.mode)  // past the umask: a group-shared directory must be group's
                        close(made)
                    }
                }
                pending.insert(name, at: 0)
                continue
            }
            switch entry.st_mode & S_IFMT {
            case S_IFLNK:
                let placedByOthers = !(entry.st_uid == 0 || entry.st_uid == me) || (shared && !parentSticky)
                if placedByOthers {
                    close(fd)
                    throw FileSafetyError(
                        path: here, reason: "a symlink that \(userName(entry.st_uid)) controls; safebuild does not follow it")
                }
                links += 1
                guard links <= 16, let target = readLink(fd, name) else {
                    close(fd)
                    throw FileSafetyError(path: here, reason: "too many or unreadable symlinks")
                }
                close(fd)
                let base = target.hasPrefix("/") ? [] : walked
                pending = base + components(of: target) + pending
                walked = []
                fd = Glibc.open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)
                _ = fstat(fd, &info)
                shared = othersCanWrite(info, me: me)
                parentSticky = isStickyRoot(info)
            case S_IFDIR:
                let next = openat(fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                guard next >= 0 else {
                    let reason = errorText()
                    close(fd)
                    throw FileSafetyError(path: here, reason: reason)
                }
                close(fd)
                fd = next
                _ = fstat(fd, &info)
                // Below a directory others can write, an entry they do not own could have been swapped in by them,
                // except in a sticky root directory (/tmp), where only the entry's owner can replace it.
                let replaceable = shared && !(parentSticky && (info.st_uid == 0 || info.st_uid == me))
                shared = replaceable || othersCanWrite(info, me: me)
                parentSticky = isStickyRoot(info)
                walked.append(name)
            default:
                close(fd)
                throw FileSafetyError(path: here, reason: "not a directory")
            }
        }
        return CheckedDirectory(path: "/" + walked.joined(separator: "/"), fd: fd, shared: shared, me: me)
    }

    /// How a missing file is made.
    package struct FileCreation: Sendable {
        package var mode: UInt32
        package var group: UInt32?
        package init(mode: UInt32, group: UInt32? = nil) {
            self.mode = mode
            self.group = group
        }
    }

    /// Opens the regular file `name` in this directory with `flags` (`O_WRONLY | O_APPEND`, `O_RDWR`…), creating it
    /// with `create` when missing. Refuses a symlink, anything but a regular file, a file with other hard links, and,
    /// as root in a shared directory, a file that is not root's. Returns an open descriptor.
    package func openFile(_ name: String, flags: Int32, create: FileCreation? = nil) throws(FileSafetyError) -> Int32 {
        let full = path == "/" ? "/" + name : path + "/" + name
        guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else {
            throw FileSafetyError(path: full, reason: "not a file name")
        }
        // O_TRUNC would act before the checks below: truncation waits until the file has passed them.
        let base = (flags & ~O_TRUNC) | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK
        var fd = openat(self.fd, name, base)
        var created = false
        if fd < 0 && errno == ENOENT, let create {
            fd = openat(self.fd, name, base | O_CREAT | O_EXCL, create.mode)
            if fd < 0 && errno == EEXIST { fd = openat(self.fd, name, base) } else { created = fd >= 0 }
            if created {
                if let group = create.group { _ = fchown(fd, UInt32.max, group) }
                _ = fchmod(fd, create.mode)
            }
        }
        guard fd >= 0 else {
            let reason = errno == ELOOP ? "a symlink; safebuild does not write through it" : Self.errorText()
            throw FileSafetyError(path: full, reason: reason)
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let reason = Self.errorText()
            close(fd)
            throw FileSafetyError(path: full, reason: reason)
        }
        var problem: String?
        if (info.st_mode & S_IFMT) != S_IFREG {
            problem = "not a regular file"
        } else if info.st_nlink > 1 {
            problem = "\(info.st_nlink) hard links; safebuild writes only a file with one"
        } else if shared && me == 0 && info.st_uid != me {
            problem = "owned by \(Self.userName(info.st_uid)) in a directory others can write; as root, safebuild writes there only files of its own"
        }
        if let problem {
            close(fd)
            throw FileSafetyError(path: full, reason: problem)
        }
        // Non-blocking only for the open (a FIFO must not hang it); writes block as usual.
        let current = fcntl(fd, F_GETFL)
        if current >= 0 { _ = fcntl(fd, F_SETFL, current & ~O_NONBLOCK) }
        if flags & O_TRUNC != 0 { _ = ftruncate(fd, 0) }
        return fd
    }

    /// Opens the regular file `name` for reading: never through a symlink, never a FIFO or a device (the open does
    /// not wait), whoever owns it (reading another user's journal or cache is harmless; what is read is parsed).
    package func openForReading(_ name: String) throws(FileSafetyError) -> Int32 {
        let full = path == "/" ? "/" + name : path + "/" + name
        guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else {
            throw FileSafetyError(path: full, reason: "not a file name")
        }
        let fd = openat(self.fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)
        guard fd >= 0 else {
            let reason = errno == ELOOP ? "a symlink; safebuild does not follow it" : Self.errorText()
            throw FileSafetyError(path: full, reason: reason)
        }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw FileSafetyError(path: full, reason: "not a regular file")
        }
        let current = fcntl(fd, F_GETFL)
        if current >= 0 { _ = fcntl(fd, F_SETFL, current & ~O_NONBLOCK) }
        return fd
    }

    /// Replaces the file `name` with `bytes` at once: a new file beside it (`O_EXCL`, a random name starting with a
    /// dot), written and `fsync`ed, then `renameat` over the old one, so that a reader sees the old or the new
    /// contents, never a part. Whatever was at `name` (a symlink too) is replaced, never followed.
    package func replace(_ name: String, with bytes: [UInt8], create: FileCreation) throws(FileSafetyError) {
        var random: UInt64 = 0
        arc4random_buf(&random, 8)
        let temporary = ".\(name).\(getpid()).\(String(random, radix: 36))"
        let fd = try openFile(temporary, flags: O_WRONLY, create: create)
        let written = bytes.withUnsafeBytes { Output.writeAll(fd, $0) } && fsync(fd) == 0
        close(fd)
        guard written, renameat(self.fd, temporary, self.fd, name) == 0 else {
            let reason = Self.errorText()
            _ = unlinkat(self.fd, temporary, 0)
            throw FileSafetyError(path: path + "/" + name, reason: "cannot replace: \(reason)")
        }
    }

    /// Renames an entry of this directory (never following a symlink: `renameat` acts on the entry itself).
    @discardableResult
    package func rename(_ from: String, to: String) -> Bool {
        renameat(fd, from, fd, to) == 0
    }

    /// Removes an entry of this directory (a symlink is removed, not its target).
    @discardableResult
    package func remove(_ name: String) -> Bool {
        unlinkat(fd, name, 0) == 0 || errno == ENOENT
    }

    /// `stat` of an entry, without following a symlink.
    func entry(_ name: String) -> stat? {
        var info = stat()
        return fstatat(fd, name, &info, AT_SYMLINK_NOFOLLOW) == 0 ? info : nil
    }

    // MARK: - Rules

    /// `O_PATH` (Linux 2.6.39+; 010000000 on every Linux architecture): a descriptor to walk from, needing only search
    /// permission. Glibc hides it behind _GNU_SOURCE.
    static let O_PATH: Int32 = 0o10000000

    static func othersCanWrite(_ info: stat, me: uid_t) -> Bool {
        !(info.st_uid == 0 || info.st_uid == me) || (info.st_mode & (S_IWGRP | S_IWOTH)) != 0
    }

    static func isStickyRoot(_ info: stat) -> Bool {
        (info.st_mode & S_ISVTX) != 0 && info.st_uid == 0
    }

    static func components(of path: String) -> [String] {
        path.split(separator: "/").map(String.init).filter { $0 != "." }
    }

    static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let cwd = getcwd(&buffer, buffer.count).map { String(cString: $0) } ?? "/"
        return cwd + "/" + path
    }

    static func readLink(_ fd: Int32, _ name: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlinkat(fd, name, &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func userName(_ uid: uid_t) -> String {
        if let pw = getpwuid(uid), let name = pw.pointee.pw_name { return "\(String(cString: name)) (uid \(uid))" }
        return "uid \(uid)"
    }

    static func errorText() -> String { String(cString: strerror(errno)) }
}
