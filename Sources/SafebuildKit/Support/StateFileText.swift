import Glibc

/// The text of a small state file safebuild keeps open under its own lock (the remedy state, the admission ledger,
/// the engine state): read whole up to a bound, replaced whole in place.
enum StateFileText {
    /// The file's text from its start, at most `limit` bytes (a state file never legitimately grows past it).
    static func read(_ fd: Int32, limit: Int) -> String {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 8192)
        var offset: off_t = 0
        while bytes.count < limit {
            let n = pread(fd, &buffer, min(buffer.count, limit - bytes.count), offset)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            bytes.append(contentsOf: buffer[..<n])
            offset += off_t(n)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Writes the whole text at the start, then cuts what is left of a longer old text.
    static func replace(_ fd: Int32, with text: String) {
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(written)) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            written += n
        }
        _ = ftruncate(fd, off_t(bytes.count))
    }
}
