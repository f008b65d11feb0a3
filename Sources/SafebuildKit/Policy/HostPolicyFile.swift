import Glibc

/// Reads the host policy only when nobody but root (or the user running safebuild) could have written it: the walk
/// to its directory follows no symlink another user controls and finds no directory others can write
/// (`CheckedDirectory`), and the file itself belongs to root (or that user) and is not group- or world-writable. A
/// symlink at the policy's own place is followed on the same terms. A host policy another user could have written
/// would let that user lift every limit and choose the files root writes: it is not used.
enum HostPolicyFile {
    enum Reading: Equatable {
        /// No host policy.
        case missing
        /// There, but someone else could have written it: why.
        case refused(String)
        case text(String)
    }

    /// The host policy at `path`; a file that cannot be read as a policy (a FIFO, a device, larger than `limit`) is
    /// exit 66.
    static func read(_ path: String, limit: Int) throws(SafebuildError) -> Reading {
        var info = stat()
        // The common case, and the only cost to a host without a host policy: nothing there.
        if lstat(path, &info) != 0 && errno == ENOENT { return .missing }
        var current = path
        for _ in 0..<8 {
            switch try step(current, limit: limit) {
            case .reading(let reading): return reading
            case .link(let target): current = target
            }
        }
        return .refused("too many symlinks")
    }

    private enum Step {
        case reading(Reading)
        case link(String)
    }

    private static func step(_ path: String, limit: Int) throws(SafebuildError) -> Step {
        let slash = path.lastIndex(of: "/") ?? path.startIndex
        let parent = slash == path.startIndex ? "/" : String(path[..<slash])
        let name = String(path[path.index(after: slash)...])
        let directory: CheckedDirectory
        do {
            directory = try CheckedDirectory.open(parent)
        } catch {
            if error.reason == String(cString: strerror(ENOENT)) { return .reading(.missing) }
            return .reading(.refused(error.description))
        }
        let me = geteuid()
        let trusted = me == 0 ? "root" : "root or you"
        if directory.shared {
            return .reading(.refused("its directory \(directory.path) can be changed by others than \(trusted)"))
        }
        var entry = stat()
        if fstatat(directory.fd, name, &entry, AT_SYMLINK_NOFOLLOW) != 0 {
            if errno == ENOENT { return .reading(.missing) }
            throw SafebuildError(.noInput, "cannot read policy file \(path) (the host policy): \(String(cString: strerror(errno)))")
        }
        if (entry.st_mode & S_IFMT) == S_IFLNK {
            guard let target = CheckedDirectory.readLink(directory.fd, name) else {
                return .reading(.refused("\(path) is a symlink that cannot be read"))
            }
            return .link(target.hasPrefix("/") ? target : directory.path + (directory.path == "/" ? "" : "/") + target)
        }
        let fd = openat(directory.fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else {
            throw SafebuildError(.noInput, "cannot read policy file \(path) (the host policy): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var info = stat()
        if fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG {
            if !(info.st_uid == 0 || info.st_uid == me) {
                return .reading(.refused("\(path) belongs to \(CheckedDirectory.userName(info.st_uid)), not \(trusted) (chown root, chmod go-w)"))
            }
            if (info.st_mode & (S_IWGRP | S_IWOTH)) != 0 {
                return .reading(.refused("\(path) can be written by its group or by anyone (chmod go-w)"))
            }
        }
        switch BoundedFile.read(descriptor: fd, limit: limit) {
        case .success(let bytes): return .reading(.text(String(decoding: bytes, as: UTF8.self)))
        case .failure(let failure): throw PolicyLoader.unreadable(path, origin: .host, failure)
        }
    }
}
