import Glibc

/// A file as the kernel sees it, after following links.
struct FileIdentity {
    let resolved: String
    let device: UInt64
    let inode: UInt64
    let size: Int
    let isRegular: Bool

    init?(path: String) {
        guard let real = realpath(path, nil) else { return nil }
        defer { free(real) }
        var st = stat()
        guard stat(real, &st) == 0 else { return nil }
        resolved = String(cString: real)
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
        size = Int(st.st_size)
        isRegular = (st.st_mode & S_IFMT) == S_IFREG
    }

    /// Whether two files of `size` bytes hold the same bytes (only called when the sizes already match).
    static func sameBytes(_ a: String, _ b: String, size: Int) -> Bool {
        let fa = open(a, O_RDONLY | O_CLOEXEC), fb = open(b, O_RDONLY | O_CLOEXEC)
        defer {
            if fa >= 0 { close(fa) }
            if fb >= 0 { close(fb) }
        }
        guard fa >= 0, fb >= 0 else { return false }
        var ba = [UInt8](repeating: 0, count: 1 << 16), bb = ba
        while true {
            let na = read(fa, &ba, ba.count), nb = read(fb, &bb, bb.count)
            if na != nb || na < 0 { return false }
            if na == 0 { return true }
            if memcmp(ba, bb, na) != 0 { return false }
        }
    }
}
