import Glibc

/// A temporary file of safebuild's own for bytes it keeps on disk rather than in memory (a spooled stdin, a held
/// stdout): created with O_EXCL, mode 0600, in $TMPDIR (else /tmp), and unlinked as soon as it is open, so that it is
/// gone when safebuild ends, however it ends. Written at its end, read at any offset.
final class SpoolFile {
    let fd: Int32
    private(set) var size: UInt64 = 0

    private init(fd: Int32) { self.fd = fd }

    deinit { close(fd) }

    /// A new, empty spool file; the error in words when none can be made.
    static func create(purpose: String) -> Result<SpoolFile, SafebuildError> {
        let dir = getenv("TMPDIR").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        for _ in 0..<8 {
            var random: UInt64 = 0
            arc4random_buf(&random, 8)
            let path = "\(dir)/safebuild-\(getpid())-\(String(random, radix: 36)).\(purpose)"
            let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            if fd < 0 {
                if errno == EEXIST { continue }
                return .failure(ChildProcess.failure("create a temporary file in \(dir) to keep \(purpose)"))
            }
            unlink(path)
            return .success(SpoolFile(fd: fd))
        }
        return .failure(SafebuildError(.software, "cannot create a temporary file in \(dir) to keep \(purpose)"))
    }

    /// Appends `bytes` whole, or not at all: false when the disk refuses them (the file is then as it was).
    func append(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard var p = bytes.baseAddress else { return true }
        var left = bytes.count
        var end = size
        while left > 0 {
            let n = pwrite(fd, p, left, off_t(end))
            if n < 0 {
                if errno == EINTR { continue }
                _ = ftruncate(fd, off_t(size))
                return false
            }
            p += n
            left -= n
            end += UInt64(n)
        }
        size = end
        return true
    }

    /// Reads up to `buffer.count` bytes at `offset`; 0 at the end, -1 on an error.
    func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        while true {
            let n = pread(fd, buffer.baseAddress, min(buffer.count, Int(clamping: size - min(offset, size))), off_t(offset))
            if n < 0 && errno == EINTR { continue }
            return n
        }
    }

    /// Copies everything to `target` (one write(2) per 64 KiB); false when `target` refused (EPIPE).
    func copy(to target: Int32) -> Bool {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { buffer.deallocate() }
        var offset: UInt64 = 0
        while offset < size {
            let n = read(at: offset, into: buffer)
            if n <= 0 { return false }
            if !Output.writeAll(target, UnsafeRawBufferPointer(rebasing: buffer[..<n])) { return false }
            offset += UInt64(n)
        }
        return true
    }

    /// Empties the file.
    func truncate() {
        _ = ftruncate(fd, 0)
        size = 0
    }
}
