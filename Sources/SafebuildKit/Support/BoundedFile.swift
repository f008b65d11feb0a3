import Glibc

/// Reads a file that someone else may control (a repository's policy, Dockerfile or .dockerignore) without trusting
/// it: opened non-blocking (a FIFO or a device cannot hang the open), only a regular file is read, and never more than
/// `limit` bytes. A symlink is followed (docker follows it too) but what it reaches must pass the same checks, so
/// `/dev/zero`, `/dev/urandom` or a 50 MB file are refused at once instead of growing safebuild without bound.
package enum BoundedFile {
    package enum Failure: Error, Equatable, Sendable {
        /// The file is not there (ENOENT, ENOTDIR).
        case missing
        /// Not a regular file: a directory, FIFO, device or socket (named).
        case notRegular(String)
        /// Larger than the limit.
        case tooLarge(size: Int64, limit: Int)
        /// Any other error of open or read, as strerror says it.
        case unreadable(String)

        /// The reason, to follow `PATH: ` in a message.
        package var reason: String {
            switch self {
            case .missing: return "no such file"
            case .notRegular(let kind): return "is \(kind), not a regular file"
            case .tooLarge(let size, let limit):
                return "is \(ByteSize.describe(UInt64(max(0, size)))), larger than the \(ByteSize.describe(UInt64(limit))) safebuild reads"
            case .unreadable(let why): return why
            }
        }
    }

    /// The whole contents of the regular file at `path`, at most `limit` bytes.
    package static func read(_ path: String, limit: Int) -> Result<[UInt8], Failure> {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT || errno == ENOTDIR { return .failure(.missing) }
            return .failure(.unreadable(String(cString: strerror(errno))))
        }
        defer { close(fd) }
        return read(descriptor: fd, limit: limit)
    }

    /// The same for a file already open (read from its current offset); the descriptor is left open.
    package static func read(descriptor fd: Int32, limit: Int) -> Result<[UInt8], Failure> {
        var info = stat()
        guard fstat(fd, &info) == 0 else { return .failure(.unreadable(String(cString: strerror(errno)))) }
        switch info.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: return .failure(.notRegular("a directory"))
        case S_IFIFO: return .failure(.notRegular("a FIFO"))
        case S_IFCHR, S_IFBLK: return .failure(.notRegular("a device"))
        case S_IFSOCK: return .failure(.notRegular("a socket"))
        default: return .failure(.notRegular("not a file"))
        }
        if info.st_size > limit { return .failure(.tooLarge(size: Int64(info.st_size), limit: limit)) }
        // The size may change while reading: read at most limit + 1 bytes and refuse if the last one arrives.
        var bytes = [UInt8](repeating: 0, count: limit + 1)
        var count = 0
        while count < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + count, $0.count - count) }
            if n < 0 {
                if errno == EINTR { continue }
                return .failure(.unreadable(String(cString: strerror(errno))))
            }
            if n == 0 { break }
            count += n
        }
        if count > limit { return .failure(.tooLarge(size: Int64(count), limit: limit)) }
        bytes.removeSubrange(count...)
        return .success(bytes)
    }
}
